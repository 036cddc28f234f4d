"""ML.RECOMMEND: ratings or confidences a matrix factorization model predicts for users and items.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend —
``ML.RECOMMEND(MODEL m [, {TABLE t | (query)}] [, STRUCT(<int> AS trial_id)])``: every (user, item)
pair of training without input, else the input's users, items or pairs
(:mod:`sqlml.ml.recommendation.recommend`), streamed in bounded batches. When the query around the
call keeps only each user's best ``k`` rows by the prediction, the call emits only those
(:mod:`sqlml.ml.recommendation.pushdown`; the same for each item's best users); the query still ranks them, so its rows are the same.
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.ml.functions.call import Call, function
from sqlml.ml.recommendation.pushdown import ranked_limit
from sqlml.ml.recommendation.recommend import best_users_per_item
from sqlml.ml.runtime.recommend import model_factorization, recommendations


@function("RECOMMEND")
def recommend(call: Call) -> pa.RecordBatchReader:
    """``ML.RECOMMEND(MODEL m [, data] [, STRUCT(trial_id)])``: user, item, the prediction, then the
    input's other columns (pairs only)."""
    model = call.require()
    settings = call.settings({"trial_id": int})
    factors = model_factorization(model, f"{call.record.dataset}.{call.record.name}", settings.get("trial_id"))
    data = call.data(0, required=False)
    reader = None if data is None else data.reader()
    top_k = ranked_limit(call.node, factors.user_col, factors.prediction_column)
    per_item = None if top_k is not None else ranked_limit(call.node, factors.item_col, factors.prediction_column)
    if per_item is not None:
        return best_users_per_item(factors, reader, per_item)
    return recommendations(factors, reader, top_k)
