"""ML.TFDV_DESCRIBE: TensorFlow Data Validation statistics of a table or query, as one JSON value.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tfdv-describe —
``ML.TFDV_DESCRIBE({TABLE t | (query)} [, STRUCT([num_histogram_buckets] [,
num_quantiles_histogram_buckets] [, num_values_histogram_buckets] [, num_rank_histogram_buckets]))``,
defaults 10, 10, 10 and 50; one row with the column ``dataset_feature_statistics_list`` (JSON), built
by :func:`sqlml.ml.monitoring.tfdv_statistics.dataset_statistics`. ML.TFDV_VALIDATE compares two of them.
"""

from __future__ import annotations

import json

import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.monitoring.tfdv_statistics import DESCRIBE_SETTINGS, dataset_statistics


@function("TFDV_DESCRIBE")
def tfdv_describe(call: Call) -> pa.Table:
    """``ML.TFDV_DESCRIBE(data [, STRUCT(…)])``."""
    given = call.settings(dict.fromkeys(DESCRIBE_SETTINGS, int))
    settings = {**DESCRIBE_SETTINGS, **given}
    for name, value in settings.items():
        if value < 1:
            raise InvalidOptionError(f"{name} must be a positive integer; got {value}.", option=name)
    statistics = dataset_statistics(call.data(0).table(), settings)
    return pa.table({"dataset_feature_statistics_list": pa.array([json.dumps(statistics)], pa.json_())})
