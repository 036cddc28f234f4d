"""A model's TRANSFORM clause, frozen at CREATE MODEL time, replayed on new rows.

The frozen clause is DuckDB SQL over a table named :data:`INPUT` whose statistics are literals
(:mod:`sqlml.ml.training.transform_fit` fits and freezes it), so replaying it re-fits nothing: ML.PREDICT,
ML.TRANSFORM and every other function that computes a model's features run the same SELECT.
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create#transform
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.engine.base import EngineError
from sqlml.engine.duckdb import scratch
from sqlml.errors import InvalidModelInputError

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model

#: The name the frozen SELECT reads its rows from.
INPUT = "__input"


def run_frozen(sql: str, data: pa.Table | pa.RecordBatch) -> pa.Table:
    """Run a frozen SELECT over ``data`` (registered as :data:`INPUT`) on the scratch DuckDB."""
    connection = scratch.cursor()
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    connection.register(INPUT, table)
    try:
        return connection.sql(sql).to_arrow_table()
    finally:
        connection.unregister(INPUT)


def apply_transform(model: Model, data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """The rows the model's features are computed from: ``data`` itself without a TRANSFORM.

    With a TRANSFORM, its frozen list is run over ``data``, without the label and special columns
    (which prediction inputs need not have).

    Raises:
        InvalidModelInputError: the frozen list fails on these rows (a column of another type).
    """
    spec = model.spec.get("transform")
    if not spec:
        return data
    try:
        return run_frozen(spec["feature_sql"], data)
    except EngineError as error:
        raise InvalidModelInputError(f"The model's TRANSFORM failed on the input rows: {str(error).splitlines()[0]}") from None
