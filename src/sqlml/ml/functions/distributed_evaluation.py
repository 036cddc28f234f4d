"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE as aggregations where the data is.

On an engine whose relations map Arrow batches on its workers (Spark's ``mapInArrow``, the path
ML.PREDICT takes: :mod:`sqlml.ml.runtime.distributed`), each worker loads the stored model and
turns its own input rows into evaluation rows (:mod:`sqlml.ml.functions.evaluation_rows`); the
engine sums and counts them with the aggregate queries below, and only their few rows reach this
process: per (label, predicted class) the row count and summed log loss, per class the rank sum of
its area under the ROC curve, a regressor's sums of errors with their median and variances, the
positives and negatives scored above each ROC threshold. The metrics come from those with the
formulas one process uses (:mod:`sqlml.ml.models.metrics`), so they equal DuckDB's.

ML.ROC_CURVE's default thresholds are percentiles of the positive-class scores; the engine
returns the few sorted scores at the ranks numpy's ``quantile`` interpolates between, and
:func:`quantiles_of_sorted` repeats numpy's arithmetic on them, so the grid is DuckDB's exactly.

Each query scores the rows anew (the engine keeps no scored rows between queries): ML.EVALUATE and
ML.CONFUSION_MATRIX run one query, ML.ROC_CURVE two with given thresholds (the totals, then the
counts above them) and three with the default grid (the percentiles' ranks in between).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.ml.functions.call import Call
from sqlml.ml.functions.evaluation_rows import evaluation_batches, evaluation_schema, label_name, no_labels_error, unseen_labels_error
from sqlml.ml.models import metrics
from sqlml.ml.models.base import Source, Target
from sqlml.ml.models.model import Model

if TYPE_CHECKING:
    from sqlml.engine.base import Relation

__all__ = ["EvaluationRows", "evaluation_rows", "mapped_view", "quantiles_of_sorted"]

_names = itertools.count()

#: A classifier's confusion counts and summed log loss, per (label, predicted class); a label the
#: model never saw comes as a NULL index with the label in ``unseen``.
CONFUSION = "SELECT y, predicted, unseen, COUNT(*) AS n, SUM(loss) AS loss FROM {rows} WHERE row_head GROUP BY y, predicted, unseen"
#: ML.EVALUATE's one pass over a classifier's rows: the :data:`CONFUSION` groups (``confusion`` = 1),
#: and per class (``confusion`` = 0) its rows (positives), the others (negatives) and twice the
#: Mann-Whitney U of its scores (each positive counts the negatives scored below it, and half of
#: those tied with it), from which its area under the ROC curve follows.
SUMMARY = """
WITH grouped AS (
  SELECT GROUPING(c) AS confusion, c, score, y, predicted, unseen,
         SUM(CASE WHEN row_head THEN 1 ELSE 0 END) AS n, SUM(CASE WHEN row_head THEN loss ELSE 0 END) AS loss,
         SUM(CASE WHEN y = c THEN 1 ELSE 0 END) AS pos, SUM(CASE WHEN y = c THEN 0 ELSE 1 END) AS neg
  FROM {rows} GROUP BY GROUPING SETS ((y, predicted, unseen), (c, score))),
ranked AS (
  SELECT *, SUM(neg) OVER (PARTITION BY confusion, c ORDER BY score ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - neg AS lower
  FROM grouped)
SELECT confusion, c, y, predicted, unseen, SUM(n), SUM(loss), SUM(pos), SUM(neg), SUM(2 * pos * lower + pos * neg)
FROM ranked GROUP BY confusion, c, y, predicted, unseen
"""
#: The sorted scores at the ranks (0-based) of ``wanted``.
RANKED_SCORES = """
WITH counts AS (SELECT score, COUNT(*) AS k FROM {rows} GROUP BY score),
spans AS (SELECT score, k, SUM(k) OVER (ORDER BY score ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto FROM counts)
SELECT wanted.r, spans.score FROM spans JOIN (VALUES {ranks}) AS wanted(r) ON wanted.r >= spans.upto - spans.k AND wanted.r < spans.upto
"""
#: Positives and negatives scored above each threshold of ``grid`` (by position).
ABOVE = """
WITH counts AS (SELECT score, SUM(CASE WHEN y = 1 THEN 1 ELSE 0 END) AS pos, COUNT(*) AS k FROM {rows} GROUP BY score)
SELECT grid.i, SUM(CASE WHEN counts.score > grid.t THEN counts.pos ELSE 0 END) AS tp,
       SUM(CASE WHEN counts.score > grid.t THEN counts.k - counts.pos ELSE 0 END) AS fp
FROM counts CROSS JOIN (VALUES {thresholds}) AS grid(i, t) GROUP BY grid.i
"""
#: A regressor's count, sums of errors, their median and the variances R² and explained variance read.
REGRESSION = """
SELECT COUNT(*), SUM(abs_error), SUM(squared_error), COUNT(squared_log_error), SUM(squared_log_error),
       MEDIAN(abs_error), VAR_POP(y), VAR_POP(error) FROM {rows}
"""


def evaluation_rows(call: Call, model: Model, trial_id: int | None, threshold: float | None) -> EvaluationRows | None:
    """The call's input rows as evaluation rows the engine's workers compute, or None where the
    engine cannot map batches (DuckDB: the rows are scored in this process), or for a model
    that is an imported file or neither a regressor nor a classifier."""
    data = call.data(0)
    if not data.cursor.maps_batches or model.family.source is Source.FILE or model.target not in (Target.REGRESSION, Target.CLASSIFICATION):
        return None
    relation = data.relation()
    model.check_input(relation.arrow_schema)
    label_name(relation.arrow_schema, model.label["name"])
    schema = evaluation_schema(model)
    return EvaluationRows(call, model, mapped_view(call, relation, functools.partial(evaluation_batches, trial_id=trial_id, threshold=threshold), schema))


def mapped_view(call: Call, relation: Relation, function: Callable, schema: pa.Schema) -> str:
    """A new view of ``relation``'s batches mapped on the engine's workers by
    ``function(files, schema, batches)`` (``files``: the called model's verified files, each
    worker loads the model from them) into rows of ``schema``; the view's name."""
    view = f"__sqlml_evaluated_{next(_names)}"
    paths = {key: str(path) for key, path in call.executor.models.verified_files(call.record).items()}
    relation.map_batches(functools.partial(function, paths, schema=schema), schema, view)
    return view


class EvaluationRows:
    """The evaluation rows of a call's input, a view of the engine's, and the aggregates over it.

    Args:
        call: the ML call (its name for errors, its data argument's cursor for the queries).
        model: the model that scores the rows.
        view: the view of the rows.
    """

    def __init__(self, call: Call, model: Model, view: str) -> None:
        self.call, self.model, self.view = call, model, view

    def _rows(self, query: str, **values: str) -> list[tuple]:
        return self.call.data(0).cursor.sql(query.format(rows=self.view, **values)).fetchall()

    def confusion(self) -> tuple[np.ndarray, float]:
        """The (K, K) confusion counts (row = label) and the summed log loss.

        Raises:
            InvalidModelInputError: a label the model never saw, or no row with a label.
        """
        return self._matrix(self._rows(CONFUSION))

    def _matrix(self, groups: list[tuple]) -> tuple[np.ndarray, float]:
        """:meth:`confusion` from the rows of :data:`CONFUSION`."""
        k = len(self.model.label["classes"])
        matrix, loss = np.zeros((k, k), np.int64), 0.0
        unseen = sorted({value for y, _, value, _, _ in groups if y is None})
        if unseen:
            raise unseen_labels_error(self.model, unseen[:5])
        for y, predicted, _, count, summed in groups:
            matrix[y, predicted], loss = count, loss + summed
        if not matrix.sum():
            raise no_labels_error(self.call.name, self.model.label["name"])
        return matrix, loss

    def metrics(self) -> dict:
        """ML.EVALUATE's metrics of the rows, as :meth:`SupervisedFamily.metrics` computes them."""
        if self.model.target is Target.REGRESSION:
            found = self.regression()
            if found is None:
                raise no_labels_error(self.call.name, self.model.label["name"])
            return found
        summary = self._rows(SUMMARY)
        matrix, loss = self._matrix([row[2:7] for row in summary if row[0]])
        found = metrics.matrix_metrics(matrix)
        found["log_loss"] = _finite(loss / matrix.sum())
        found["roc_auc"] = _finite(self._area([(row[1], *row[7:]) for row in summary if not row[0]]))
        return found

    def _area(self, classes: list[tuple]) -> float | None:
        """The binary AUC of the positive class, or the macro one-vs-rest AUC of the classes
        present, from (class, positives, negatives, twice U) of :data:`SUMMARY`."""
        present = sorted((c, positives, negatives, twice_u) for c, positives, negatives, twice_u in classes if positives)
        if len(self.model.label["classes"]) == 2:
            present = [row for row in present if row[2]]
        elif len(present) < 2:
            return None
        areas = [(twice_u / 2) / (positives * negatives) for _, positives, negatives, twice_u in present]
        return float(np.mean(areas)) if areas else None

    def regression(self) -> dict | None:
        """A regressor's metrics (:func:`~sqlml.ml.models.metrics.regression_metrics`' of the
        rows), None for no rows."""
        [(n, absolute, squared, logged, squared_log, median, variance, error_variance)] = self._rows(REGRESSION)
        if not n:
            return None
        return {
            "mean_absolute_error": _finite(absolute / n),
            "mean_squared_error": _finite(squared / n),
            "mean_squared_log_error": _finite(squared_log / n) if logged == n else None,
            "median_absolute_error": _finite(median),
            "r2_score": _finite(_explained(squared / n, variance)) if n > 1 else None,
            "explained_variance": _finite(_explained(error_variance, variance)) if n > 1 else None,
        }

    def roc(self, thresholds: np.ndarray | None) -> dict[str, np.ndarray]:
        """ML.ROC_CURVE's columns at ``thresholds`` (None: the percentile grid of the scores)."""
        matrix, _ = self.confusion()
        positives, negatives = int(matrix[1].sum()), int(matrix[0].sum())
        if thresholds is None:
            thresholds = self._grid(positives + negatives)
        values = ", ".join(f"({i}, CAST('{float(t)!r}' AS DOUBLE))" for i, t in enumerate(thresholds))
        above = {i: (tp, fp) for i, tp, fp in self._rows(ABOVE, thresholds=values)} if values else {}
        tp, fp = (np.array([above.get(i, (0, 0))[j] for i in range(len(thresholds))], np.int64) for j in (0, 1))
        return metrics.roc_table(np.asarray(thresholds, np.float64), tp, fp, positives, negatives)

    def _grid(self, n: int) -> np.ndarray:
        previous, following, gamma = quantile_ranks(n, metrics.PERCENTILES)
        ranks = sorted({*previous.tolist(), *following.tolist(), n - 1})
        found = dict(self._rows(RANKED_SCORES, ranks=", ".join(f"({r})" for r in ranks)))
        value = np.vectorize(found.__getitem__, otypes=[np.float64])
        return metrics.grid_thresholds(quantiles_of_sorted(value(previous), value(following), gamma), found[n - 1])


def quantile_ranks(n: int, quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``numpy.quantile``'s default (linear) method over ``n`` values: the 0-based ranks of
    the two sorted values each quantile lies between, and the weight of the second — numpy's own
    arithmetic (numpy 2's ``_quantile``: index ``(n - 1)·q``, its floor and the next, clipped)."""
    virtual = (n - 1) * np.asarray(quantiles, np.float64)
    previous = np.floor(virtual)
    following = previous + 1
    above, below = virtual >= n - 1, virtual < 0
    previous[above] = following[above] = n - 1
    previous[below] = following[below] = 0
    previous, following = previous.astype(np.intp), following.astype(np.intp)
    return previous, following, virtual - previous


def quantiles_of_sorted(lower: np.ndarray, upper: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's linear interpolation (its ``_lerp``) between the sorted values at the ranks of
    :func:`quantile_ranks`: equal bit for bit to ``numpy.quantile`` of the whole column."""
    difference = upper - lower
    return np.where(gamma >= 0.5, upper - difference * (1 - gamma), lower + difference * gamma)


def _explained(residual: float, variance: float) -> float:
    """scikit-learn's R² and explained variance from a mean residual square and the labels'
    variance (``force_finite``: 1 for no residual, 0 for constant labels)."""
    if residual == 0:
        return 1.0
    return 1 - residual / variance if variance != 0 else 0.0


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)

