"""Spark MLlib's distributed trainers, fitted on the prepared rows and mapped into sqlml's
estimators (the same arrays one process's training stores), with their ML.TRAINING_INFO rows.

* LINEAR_REG — ``LinearRegression``; LOGISTIC_REG — ``LogisticRegression`` (binomial, or
  multinomial above two classes). sqlml's objective (:mod:`sqlml.ml.models.linear_estimator`) is
  the weighted mean loss + ``l2_reg·‖β‖² + l1_reg·‖β‖₁``; MLlib's is
  ``c·mean loss + λ(α‖β‖₁ + (1−α)/2·‖β‖²)`` with c = ½ for squared error and 1 for log loss, so
  λα = c·l1_reg and λ(1−α) = 2c·l2_reg (:func:`_penalty`). Features arrive standardized, so
  MLlib's own standardization is off. Without L1 a linear regression is solved by the normal
  equation (MLlib's ``normal`` solver, exact, as one process solves it); otherwise L-BFGS/OWL-QN
  runs up to ``max_iterations`` iterations.
* KMEANS — ``KMeans`` (Lloyd's iterations on the executors): RANDOM or KMEANS++ (MLlib's
  k-means||) seeding, Euclidean or cosine distance, up to ``max_iterations`` iterations.
* PCA — the covariance matrix by Spark, decomposed on the driver (every ``pca_solver``).
* BOOSTED_TREE_* and RANDOM_FOREST_* — LightGBM's own distributed mode in a Spark barrier stage
  (:mod:`.trees`), not MLlib.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from sqlml.ml.models.kmeans_estimator import SEED, KMeans, default_num_clusters
from sqlml.ml.models.linear_estimator import LinearModel
from sqlml.ml.models.pca_estimator import PCA
from sqlml.ml.spark_training.rows import FEATURES, LABEL, WEIGHT, TrainingRows, driver_only
from sqlml.ml.spark_training.trees import fit_boosted_tree, fit_random_forest

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator


def _penalty(options: dict, loss_scale: float) -> dict:
    """MLlib's ``regParam`` and ``elasticNetParam`` for sqlml's ``l1_reg`` and ``l2_reg``: with
    MLlib's data loss ``loss_scale`` times sqlml's, λ(1−α)/2 = c·l2 and λα = c·l1."""
    l1, l2 = options["l1_reg"] * loss_scale, 2.0 * options["l2_reg"] * loss_scale
    total = l1 + l2
    return {"regParam": total, "elasticNetParam": l1 / total if total else 0.0}


def _row(iteration: int, loss: float | None, seconds: float, **extra: object) -> dict:
    """One ML.TRAINING_INFO row (a loss that is not a finite number is NULL, as in one process)."""
    loss = float(loss) if loss is not None and np.isfinite(loss) else None
    return {"training_run": 0, "iteration": iteration, "loss": loss, "eval_loss": None, "learning_rate": None,
            "duration_ms": int(round(seconds * 1000)), **extra}  # fmt: skip


def fit_linear(rows: TrainingRows, options: dict) -> tuple[Estimator, list[dict]]:
    """A LINEAR_REG or LOGISTIC_REG estimator fitted by MLlib, and its training rows' losses."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.regression import LinearRegression

    task, started = rows.task, time.monotonic()
    common = {"featuresCol": FEATURES, "labelCol": LABEL, "weightCol": WEIGHT, "standardization": False,
              "fitIntercept": options["fit_intercept"], "maxIter": options["max_iterations"]}  # fmt: skip
    estimator = LinearModel(options=options, task=task)
    if task.kind == "regression":
        solver = "normal" if options["l1_reg"] == 0 else "l-bfgs"
        training = rows.part(False)
        penalty = _penalty(options, 0.5)
        # MLlib divides regParam by the label's (weighted, population) standard deviation, as glmnet does
        penalty["regParam"] *= _label_std(training) if penalty["regParam"] else 1.0
        fitted = LinearRegression(solver=solver, tol=1e-9, **penalty, **common).fit(training)
        estimator.coef_ = fitted.coefficients.toArray()
        estimator.intercept_ = float(fitted.intercept)
        estimator.strategy_ = "NORMAL_EQUATION" if solver == "normal" else "BATCH_GRADIENT_DESCENT"
        history = [fitted.summary.meanSquaredError]
    else:
        family = "binomial" if task.kind == "binary" else "multinomial"
        fitted = LogisticRegression(family=family, tol=1e-9, **_penalty(options, 1.0), **common).fit(rows.part(False))
        if task.kind == "binary":
            estimator.coef_, estimator.intercept_ = fitted.coefficients.toArray(), float(fitted.intercept)
        else:
            estimator.coef_, estimator.intercept_ = fitted.coefficientMatrix.toArray(), fitted.interceptVector.toArray()
        estimator.strategy_ = "BATCH_GRADIENT_DESCENT"
        history = list(fitted.summary.objectiveHistory) or [None]
    seconds = (time.monotonic() - started) / len(history)
    return estimator, [_row(index, loss, seconds) for index, loss in enumerate(history)]


def _label_std(training) -> float:  # noqa: ANN001 - a DataFrame
    """The label's weighted population standard deviation (MLlib's ``yStd``)."""
    from pyspark.sql import functions as F

    w, y = F.col(WEIGHT), F.col(LABEL)
    mean, square = training.agg(F.sum(w * y) / F.sum(w), F.sum(w * y * y) / F.sum(w)).first()
    return float(np.sqrt(max(square - mean * mean, 0.0))) or 1.0


def fit_kmeans(rows: TrainingRows, options: dict) -> tuple[Estimator, list[dict]]:
    """A KMEANS estimator fitted by MLlib, and its last iteration's loss and clusters."""
    from pyspark.ml.clustering import KMeans as SparkKMeans

    method = options["kmeans_init_method"]
    if method == "CUSTOM":
        raise driver_only("kmeans_init_method='CUSTOM' is not applied by CREATE MODEL on Spark's workers yet.")
    started, training = time.monotonic(), rows.part(False)
    count = rows.split["training_rows"]
    k = options["num_clusters"] or default_num_clusters(count)
    fitted = SparkKMeans(
        featuresCol=FEATURES, k=k, maxIter=options["max_iterations"], seed=SEED, tol=0.0,
        initMode="random" if method == "RANDOM" else "k-means||",
        distanceMeasure="cosine" if options["distance_type"] == "COSINE" else "euclidean",
    ).fit(training)  # fmt: skip
    estimator = KMeans(options=options, task=rows.task)
    estimator.centroids_ = np.array([center for center in fitted.clusterCenters()], dtype=np.float64)
    summary = fitted.summary
    radii = _cluster_radii(summary.predictions, estimator, summary.clusterSizes)
    info = [{"centroid_id": c + 1, "cluster_radius": float(radii[c]), "cluster_size": int(size)} for c, size in enumerate(summary.clusterSizes)]
    row = _row(summary.numIter - 1, summary.trainingCost / count, time.monotonic() - started, cluster_info=info)
    return estimator, [row]


def _cluster_radii(predictions, estimator: KMeans, sizes: list[int]) -> np.ndarray:  # noqa: ANN001 - a DataFrame
    """Each cluster's root mean squared distance (sqlml's: Euclidean squared, or 1 − cos), by Spark."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    centroids = estimator.prepare(estimator.centroids_)
    x = vector_to_array(F.col(FEATURES))
    c = F.element_at(F.array(*[F.array(*[F.lit(float(v)) for v in row]) for row in centroids]), F.col("prediction") + 1)
    if estimator.cosine:
        dot = F.aggregate(F.zip_with(x, c, lambda a, b: a * b), F.lit(0.0), lambda s, v: s + v)
        norm = F.sqrt(F.aggregate(x, F.lit(0.0), lambda s, v: s + v * v))
        squared = F.greatest(F.lit(0.0), 1.0 - dot / F.when(norm > 0, norm).otherwise(1.0))
    else:
        squared = F.aggregate(F.zip_with(x, c, lambda a, b: (a - b) * (a - b)), F.lit(0.0), lambda s, v: s + v)
    sums = dict(predictions.groupBy("prediction").agg(F.sum(squared)).collect())
    return np.sqrt(np.array([sums.get(index, 0.0) / max(size, 1) for index, size in enumerate(sizes)]))


def fit_pca(rows: TrainingRows, options: dict) -> tuple[Estimator, list[dict]]:
    """A PCA estimator from the features' mean and covariance matrix, both computed by Spark
    (MLlib's ``RowMatrix.computeCovariance``, p × p on the driver), decomposed as one process's
    FULL solver does (:meth:`PCA.decompose`)."""
    from pyspark.ml.stat import Summarizer
    from pyspark.mllib.linalg import Vectors
    from pyspark.mllib.linalg.distributed import RowMatrix

    started, training = time.monotonic(), rows.part(False).select(FEATURES)
    estimator = PCA(options=options, task=rows.task)
    estimator.check(rows.split["training_rows"], len(rows.task.feature_names))
    mean = training.select(Summarizer.mean(training[FEATURES])).first()[0].toArray()
    covariance = RowMatrix(training.rdd.map(lambda row: Vectors.fromML(row[0]))).computeCovariance().toArray()
    estimator.decompose(mean, covariance)
    return estimator, [_row(0, None, time.monotonic() - started)]


#: model type → its distributed trainer (the tree ensembles': LightGBM's distributed mode, :mod:`.trees`)
TRAINERS = {
    "LINEAR_REG": fit_linear, "LOGISTIC_REG": fit_linear, "KMEANS": fit_kmeans, "PCA": fit_pca,
    "BOOSTED_TREE_REGRESSOR": fit_boosted_tree, "BOOSTED_TREE_CLASSIFIER": fit_boosted_tree,
    "RANDOM_FOREST_REGRESSOR": fit_random_forest, "RANDOM_FOREST_CLASSIFIER": fit_random_forest,
}  # fmt: skip
_LIGHTGBM_TRAINERS = (fit_boosted_tree, fit_random_forest)


def trainer_description(model_type: str, estimator: Estimator) -> str:
    """What trained ``model_type`` (a key of :data:`TRAINERS`), for the stored model's description.

    Decided by the trainer the exact model type maps to, never by a part of its name, so a model
    type that merely contains "TREE" or "FOREST" is not described as LightGBM's.
    """
    if TRAINERS[model_type] in _LIGHTGBM_TRAINERS:
        return "LightGBM, distributed (tree_learner='data', a Spark barrier stage)"
    return f"Spark MLlib ({estimator.__class__.__name__})"
