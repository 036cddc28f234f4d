"""An IMPLICIT MATRIX_FACTORIZATION trained on Spark (:mod:`.als`): ML.TRAINING_INFO's ``loss``
and ``eval_loss`` and the stored ranking metrics of the factors MLlib fitted, computed with one
process's formulas (:mod:`sqlml.ml.recommendation.wals`, :mod:`sqlml.ml.recommendation.ranking`),
so that they equal what one process computes for the same factors and rows.

Spark adds up each distinct (user, item) pair's ratings r, as one process does; a pair of a user
or item unseen in training is left out, and the loss terms leave out the pairs summing to 0. The
others get BigQuery's confidence c = 1 + α|r| (rounded to float32, as the ``implicit`` library's
matrix holds it) and preference p = [r > 0], and each pair's score s = x_u·y_i is computed on the
executors, the pairs joined to their user's and item's factors:

* ``loss`` — the WALS objective of every pair over the total confidence
  (:class:`~sqlml.ml.recommendation.wals.TrainingLoss`): ⟨XᵀX, YᵀY⟩ + λ(‖X‖² + ‖Y‖²) from the
  factors' Gram matrices on the driver, plus Σ ((c − 1)s² − 2·c·p·s + c) over the training pairs
  (executors), over Σ c + users · items − pairs;
* ``eval_loss`` — Σ c(p − s)² / Σ c over the evaluation pairs
  (:func:`~sqlml.ml.recommendation.wals.weighted_error`), summed by the executors;
* the stored metrics — the ranking metrics of the scored part's distinct pairs (the evaluation
  part, else the training part), which alone come to the driver, as in Spark's ML.EVALUATE
  (:mod:`sqlml.ml.functions.distributed_unsupervised`): ranking every item for a user needs the
  whole item factor matrix and all of the user's pairs in one place.

MLlib's ALS runs its iterations without a callback, so ML.TRAINING_INFO has one row, the last
iteration's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.ml.recommendation import ranking
from sqlml.ml.recommendation.pairs import gram
from sqlml.ml.spark_training.rows import EVALUATION

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from sqlml.ml.recommendation.estimator import FactorizationEstimator

#: The coded columns MLlib's ALS reads: user and item codes (-1: unseen in training), rating.
USER, ITEM, RATING = "__sqlml_user", "__sqlml_item", "__sqlml_rating"


def implicit_results(coded: DataFrame, estimator: FactorizationEstimator, evaluated: bool) -> tuple[float, float | None, dict]:
    """The loss, the eval loss (None without evaluation rows) and the stored metrics of the
    fitted ``estimator`` on ``coded`` (:data:`USER`, :data:`ITEM`, :data:`RATING`, the split's
    :data:`~.rows.EVALUATION`)."""
    from pyspark.sql import functions as F

    pairs = (
        coded.where((F.col(USER) >= 0) & (F.col(ITEM) >= 0))
        .groupBy(EVALUATION, USER, ITEM).agg(F.sum(RATING).alias(RATING))
        .persist()
    )  # fmt: skip
    try:
        sums = _sums(pairs, estimator)
        scored = pairs.where(F.col(EVALUATION) == F.lit(evaluated)).select(USER, ITEM, RATING).toArrow()
    finally:
        pairs.unpersist()
    codes = np.column_stack([scored.column(USER).to_numpy(), scored.column(ITEM).to_numpy()]).astype(np.int64)
    metrics = ranking.implicit_metrics(
        estimator.user_factors_, estimator.item_factors_, scored.column(RATING).to_numpy(), codes, ranking.RANKED_USERS
    )
    return _loss(estimator, sums.get(False)), _eval_loss(sums.get(True)) if evaluated else None, metrics


def _sums(pairs: DataFrame, estimator: FactorizationEstimator) -> dict[bool, tuple[float, float, float, int]]:
    """Per part (evaluation or not), over its pairs whose ratings do not sum to 0: Σ ((c − 1)s² −
    2·c·p·s + c), Σ c(p − s)², Σ c and the pair count — summed on the executors."""
    from pyspark.sql import functions as F

    spark = pairs.sparkSession
    users = spark.createDataFrame(_factor_table(USER, "x", estimator.user_factors_))
    items = spark.createDataFrame(_factor_table(ITEM, "y", estimator.item_factors_))
    rating = F.col(RATING)
    c = (F.abs(rating) * F.lit(float(estimator.options["wals_alpha"])) + F.lit(1.0)).cast("float").cast("double")
    p = (rating > 0).cast("double")
    s = F.aggregate(F.zip_with("x", "y", lambda a, b: a * b), F.lit(0.0), lambda total, value: total + value)
    terms = pairs.where(rating != 0).join(users, USER).join(items, ITEM).select(EVALUATION, c.alias("c"), p.alias("p"), s.alias("s"))
    c, p, s = F.col("c"), F.col("p"), F.col("s")
    found = terms.groupBy(EVALUATION).agg(
        F.sum((c - 1) * s * s - 2 * c * p * s + c), F.sum(c * (p - s) * (p - s)), F.sum(c), F.count(F.lit(1))
    ).collect()
    return {row[0]: tuple(row[1:]) for row in found}


def _factor_table(code: str, name: str, factors: np.ndarray) -> pa.Table:
    """(code, factors) rows: each row of ``factors`` as a list of float64, by its code."""
    flat = pa.array(np.ascontiguousarray(factors, dtype=np.float64).ravel())
    offsets = pa.array(np.arange(len(factors) + 1, dtype=np.int32) * factors.shape[1])
    return pa.table({code: pa.array(np.arange(len(factors), dtype=np.int32)), name: pa.ListArray.from_arrays(offsets, flat)})


def _loss(estimator: FactorizationEstimator, training: tuple[float, float, float, int] | None) -> float:
    """The WALS objective over the total confidence, from the training pairs' sums."""
    stored, _, confidence, count = training or (0.0, 0.0, 0.0, 0)
    users, items = gram(estimator.user_factors_), gram(estimator.item_factors_)
    l2_reg = float(estimator.options["l2_reg"])
    dense = float(np.sum(users * items)) + l2_reg * float(np.trace(users) + np.trace(items))
    total = confidence + float(len(estimator.user_factors_)) * len(estimator.item_factors_) - count
    return (dense + stored) / total


def _eval_loss(evaluation: tuple[float, float, float, int] | None) -> float | None:
    """Σ c(p − s)² / Σ c over the evaluation pairs; None without one (one process's NaN, which
    ML.TRAINING_INFO shows as NULL)."""
    if evaluation is None or not evaluation[2]:
        return None
    return evaluation[1] / evaluation[2]
