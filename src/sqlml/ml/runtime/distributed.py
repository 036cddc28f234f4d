"""ML.PREDICT where the data is: on an engine whose relations map Arrow batches on its workers
(the Spark engine's ``mapInArrow``: :meth:`sqlml.engine.spark.cursor.SparkRelation.map_batches`),
each worker loads the stored model from the model store's path (a shared filesystem on a cluster)
and scores its own batches with the same code as one process does (:class:`PredictionPlan`), so
the rows never travel to the driver and the scores compose in the engine's SQL.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from sqlml.execution.sources import DataInput, SqlOutput
from sqlml.ml.models.base import Source
from sqlml.ml.models.model import Model
from sqlml.ml.runtime.predict import prediction_plan

_names = itertools.count()


def mapped_prediction(
    model: Model, files: Callable[[], dict[str, Path]], data: DataInput, threshold: float | None, keep: bool, trial_id: int | None
) -> SqlOutput | None:
    """ML.PREDICT's rows as a query over the engine's mapped batches; None where the engine cannot
    map batches (DuckDB: scored in this process) or the model is an imported file (its own reader).

    Args:
        files: the model version's verified files (read only when the batches are mapped).
    """
    if not data.cursor.maps_batches or model.family.source is Source.FILE:
        return None
    relation = data.relation()
    schema = prediction_plan(model, relation.arrow_schema, keep).schema
    name = f"__sqlml_predicted_{next(_names)}"
    paths = {key: str(path) for key, path in files().items()}
    relation.map_batches(functools.partial(scored_batches, paths, threshold, keep, trial_id, schema), schema, name)
    return SqlOutput(exp.select("*").from_(exp.to_table(name)))


def scored_batches(
    files: dict[str, str], threshold: float | None, keep: bool, trial_id: int | None, schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """On a worker: the stored model's ML.PREDICT rows for each input batch, in ``schema``."""
    model = Model.load({key: Path(path) for key, path in files.items()})
    estimator = model.estimator_for(trial_id)
    plan = None
    for batch in batches:
        plan = plan or prediction_plan(model, batch.schema, keep)
        yield plan.scored(batch, estimator, threshold).cast(schema)
