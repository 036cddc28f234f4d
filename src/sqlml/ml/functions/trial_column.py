"""The leading ``trial_id`` column of a tuned model's serving functions.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate#output
lists ``trial_id`` first for every model type, "only returned if you ran hyperparameter tuning"
(with or without input data), and the hyperparameter tuning tutorial
(https://cloud.google.com/bigquery/docs/hyperparameter-tuning-tutorial) shows ``ML.PREDICT`` of
its tuned model answering ``trial_id | predicted_label | …`` with the optimal trial's id on every
row. The functions that take input data serve one trial — the one ``STRUCT(n AS trial_id)``
names, else the optimal one — and say which in that column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sqlml.execution.sources import SqlOutput

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model


def served_trial(model: Model, trial_id: int | None) -> int | None:
    """The trial a tuned model's function serves (``trial_id``, else the optimal one); None untuned."""
    if not model.is_tuned:
        return None
    return trial_id if trial_id is not None else int(model.spec["optimal_trial_id"])


def with_trial_table(table: pa.Table, trial: int | None) -> pa.Table:
    """``table`` with ``trial_id`` (INT64) first when ``trial`` is set."""
    if trial is None:
        return table
    return table.add_column(0, pa.field("trial_id", pa.int64()), pa.array([trial] * table.num_rows, pa.int64()))


def with_trial_rows(output: pa.RecordBatchReader | SqlOutput, trial: int | None) -> pa.RecordBatchReader | SqlOutput:
    """ML.PREDICT's rows (batches, or a query the statement runs) with ``trial_id`` first when
    ``trial`` is set."""
    if trial is None:
        return output
    if isinstance(output, SqlOutput):
        column = exp.alias_(exp.cast(exp.Literal.number(trial), exp.DataType.build("BIGINT")), "trial_id")
        return SqlOutput(exp.select(column, exp.Star()).from_(output.query.subquery("served")))
    schema = output.schema.insert(0, pa.field("trial_id", pa.int64()))

    def batches():
        for batch in output:
            yield pa.RecordBatch.from_arrays([pa.array([trial] * batch.num_rows, pa.int64()), *batch.columns], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
