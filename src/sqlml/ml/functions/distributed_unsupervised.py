"""ML.EVALUATE of KMEANS, AUTOENCODER and MATRIX_FACTORIZATION models as aggregations where the
data is (Spark), as :mod:`sqlml.ml.functions.distributed_evaluation` does for supervised models.

Each worker loads the stored model and turns its input rows into a few numbers per row
(:func:`output_batches`, :func:`rating_batches` in ``mapInArrow``); Spark sums them and only
their few aggregate rows reach this process, which computes the metrics with one process's
formulas, so they equal DuckDB's ML.EVALUATE of the same rows (within float summation order):

* KMEANS (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate:
  ``davies_bouldin_index``, ``mean_squared_distance``) — per row its nearest centroid and that
  distance; per cluster the row count, the summed distances and squared distances.
* AUTOENCODER (``mean_absolute_error``, ``mean_squared_error``, ``mean_squared_log_error``) —
  per row its three reconstruction losses; their sums and the row count.
* MATRIX_FACTORIZATION, explicit feedback (the six regression metrics) — per rated row its
  prediction's errors, summed as a regressor's are (:data:`~.distributed_evaluation.REGRESSION`).
* MATRIX_FACTORIZATION, implicit feedback (the ranking metrics) — these rank every item for each
  evaluated user (:mod:`sqlml.ml.recommendation.ranking`), which needs all of a user's rated
  pairs and the whole item factor matrix in one place: Spark adds up each distinct (user, item)
  pair's ratings (one process adds them up too), and only those pairs come to this process, where
  the ranking runs as on DuckDB — as many rows as distinct pairs, not the input's rows.

PCA's ML.EVALUATE reads no input row (its stored metrics), so it needs nothing here. A
forecasting model's (ARIMA_PLUS) is computed one time series at a time on the workers
(:mod:`sqlml.ml.functions.distributed_forecasting`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.ml.functions.distributed_evaluation import EvaluationRows, mapped_view
from sqlml.ml.functions.evaluation_rows import regression_rows
from sqlml.ml.models import metrics
from sqlml.ml.models.base import Evaluation, Source, Target
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation import evaluation
from sqlml.ml.recommendation.factors import IMPLICIT
from sqlml.ml.recommendation.stored import factorization_of

if TYPE_CHECKING:
    from sqlml.ml.functions.call import Call

__all__ = ["factorization_metrics", "output_batches", "output_metrics", "rating_batches"]

#: Per group (a k-means cluster; one group for the other families) its rows and each term's sum.
SUMS = "SELECT g, COUNT(*), {sums} FROM {rows} GROUP BY g"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _engine_maps_batches(call: Call, model: Model) -> bool:
    """Whether the call's input is on an engine whose workers map batches (Spark), for a model trained here."""
    return call.data(0).cursor.maps_batches and model.family.source is not Source.FILE


def output_metrics(call: Call, model: Model, trial_id: int | None) -> dict | None:
    """ML.EVALUATE's metrics of a KMEANS or AUTOENCODER model (a family whose metrics read the
    model's outputs alone, :attr:`Evaluation.OUTPUTS`) on the call's input, summed by the
    engine's workers; None where the engine cannot map batches (DuckDB: scored in this process).

    Raises:
        InvalidModelInputError: the input lacks a column the model needs.
    """
    if model.family.evaluation is not Evaluation.OUTPUTS or not _engine_maps_batches(call, model):
        return None
    relation = call.data(0).relation()
    model.check_input(relation.arrow_schema)
    width = _width(model)
    schema = pa.schema([("g", pa.int64()), *[(f"v{i}", pa.float64()) for i in range(width)]])
    view = mapped_view(call, relation, functools.partial(output_batches, trial_id=trial_id), schema)
    sums = ", ".join(f"SUM(v{i})" for i in range(width))
    groups = call.data(0).cursor.sql(SUMS.format(sums=sums, rows=view)).fetchall()
    estimator, family = model.estimator_for(trial_id), model.family
    if not groups:
        return family.metrics(model.model_type, estimator, None, np.empty((0, width)))
    if model.target is Target.CLUSTERING:
        k = len(estimator.centroids_)
        counts, distances = np.zeros(k, np.int64), np.zeros(k)
        for cluster, count, summed, _ in groups:
            counts[cluster], distances[cluster] = count, summed / count
        mean_squared = sum(row[3] for row in groups) / counts.sum()
        return metrics.kmeans_metrics_of(counts, distances, mean_squared, estimator.prepare(estimator.centroids_))
    [(_, count, *sums)] = groups
    # the family's metrics are the means of its per-row outputs: those of the one row of means
    return family.metrics(model.model_type, estimator, None, np.array([sums], np.float64) / count)


def _width(model: Model) -> int:
    """The terms :func:`output_terms` gives per row: a k-means distance and its square, or each
    of the family's per-row outputs (an autoencoder's three losses, in its metrics' order)."""
    return 2 if model.target is Target.CLUSTERING else len(model.family.metric_names(model.model_type))


def output_batches(files: dict[str, str], batches: Iterator[pa.RecordBatch], *, schema: pa.Schema, trial_id: int | None) -> Iterator[pa.RecordBatch]:
    """On a worker: each input row's group and terms (:func:`output_terms`), scored by the stored model."""
    model = Model.load({key: Path(path) for key, path in files.items()})
    estimator = model.estimator_for(trial_id)
    for batch in batches:
        if batch.num_rows:
            raw = model.family.metric_outputs(model.model_type, estimator, model.features(batch))
            yield pa.RecordBatch.from_pydict(output_terms(model, raw), schema=schema)


def output_terms(model: Model, raw: np.ndarray) -> dict[str, np.ndarray]:
    """A k-means row's nearest centroid (``g``), its distance and squared distance to it (as
    :func:`~sqlml.ml.models.metrics.kmeans_metrics` computes them from the distances ``raw``);
    another family's per-row outputs, all in group 0."""
    if model.target is Target.CLUSTERING:
        group = raw.argmin(axis=1)
        nearest = raw[np.arange(len(raw)), group]
        return {"g": group.astype(np.int64), "v0": nearest, "v1": nearest**2}
    return {"g": np.zeros(len(raw), np.int64), **{f"v{i}": np.asarray(raw[:, i], np.float64) for i in range(raw.shape[1])}}


def factorization_metrics(call: Call, model: Model, trial_id: int | None) -> dict | None:
    """ML.EVALUATE's metrics of a MATRIX_FACTORIZATION model on the call's input, aggregated by
    the engine's workers (see the module's description for implicit feedback); None where the
    engine cannot map batches.

    Raises:
        InvalidModelInputError: the input lacks the user, item or rating column, or has no rating
            (one process's messages); a user or item type that does not convert to its training type.
    """
    if not _engine_maps_batches(call, model):
        return None
    factorization = factorization_of(model, trial_id)
    data = call.data(0)
    schema = data.schema
    names = evaluation.input_columns(factorization, schema.names, call.name)
    evaluation.pair_rows(factorization, *[pa.array([], schema.field(name).type) for name in names[:2]])  # the types convert
    if factorization.feedback_type == IMPLICIT:
        user, item, rating = (_quoted(name) for name in names)
        pairs = data.relation(
            f"SELECT {user}, {item}, SUM(CAST({rating} AS DOUBLE)) AS {rating} FROM __data WHERE {rating} IS NOT NULL GROUP BY {user}, {item}"
        ).to_arrow_table()
        return evaluation.evaluate_rows(factorization, pairs, call.name)
    relation = data.relation()
    errors = pa.schema([(name, pa.float64()) for name in ("y", "error", "abs_error", "squared_error", "squared_log_error")])
    view = mapped_view(call, relation, functools.partial(rating_batches, names=names, trial_id=trial_id), errors)
    found = EvaluationRows(call, model, view).regression()
    if found is None:
        raise evaluation.no_ratings_error(call.name, factorization.rating_col)
    return found


def rating_batches(
    files: dict[str, str], batches: Iterator[pa.RecordBatch], *, schema: pa.Schema, names: tuple[str, str, str], trial_id: int | None
) -> Iterator[pa.RecordBatch]:
    """On a worker: each rated input row's errors (:func:`regression_rows`) of the stored explicit
    factorization's predicted rating (``names``: the input's user, item and rating columns)."""
    factorization = factorization_of(Model.load({key: Path(path) for key, path in files.items()}), trial_id)
    for batch in batches:
        rating = batch.column(names[2])
        rated = pc.is_valid(rating)
        if not pc.any(rated).as_py():
            continue
        users, items = evaluation.pair_rows(factorization, batch.column(names[0]).filter(rated), batch.column(names[1]).filter(rated))
        yield pa.RecordBatch.from_pydict(regression_rows(rating.filter(rated), factorization.score_pairs(users, items)), schema=schema)
