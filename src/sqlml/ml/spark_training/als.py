"""MATRIX_FACTORIZATION trained on Spark's executors by Spark MLlib's ``ALS``, stored as sqlml's
portable factorization (:class:`~sqlml.ml.recommendation.estimator.FactorizationEstimator`: the
users and items as model arrays, their factors and intercepts), so that ML.RECOMMEND on DuckDB
predicts what ``ALSModel.transform`` predicts on Spark.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
the options map onto ``ALS``'s parameters: ``num_factors`` → ``rank`` (default log2 of the
training rows, as in one process), ``max_iterations`` → ``maxIter``, ``l2_reg`` → ``regParam``,
``feedback_type='IMPLICIT'`` → ``implicitPrefs`` with ``wals_alpha`` → ``alpha``. MLlib's ALS
learns no intercepts (it predicts ``user·item``), so the stored user, item and global intercepts
are 0 — an explicit model trained here predicts the factors' product, which one process's ALS
adds its intercepts to. MLlib scales ``regParam`` by each user's and item's rating count
(ALS-WR), one process's ALS does not: the same ``l2_reg`` regularizes differently on each engine.

MLlib's ALS takes integer ids: each user and item is coded by its position among the training
rows' distinct users (items), sorted — the codes one process's training gives them
(:mod:`sqlml.ml.recommendation.ratings`). Only the distinct users and items and the factors come
to the driver (the model stores them), and for the stored metrics a sample of the rows (explicit
feedback) or the scored part's distinct (user, item) pairs (implicit feedback, :mod:`.implicit`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.models.base import Target
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.estimator import Task
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation.estimator import FactorizationEstimator, default_num_factors
from sqlml.ml.recommendation.ratings import Ratings, rating_columns
from sqlml.ml.spark_training.implicit import ITEM, RATING, USER, implicit_results
from sqlml.ml.spark_training.rows import EVALUATION, HASH, SAMPLE_ROWS, fingerprint, hashed, query_frame, split
from sqlml.ml.training.split_checks import no_training_rows_error

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from sqlglot import exp

    from sqlml.execution.context import StatementContext

#: ALS's seed (its factors' random start), fixed so that a statement trains the same model twice.
SEED = 20240601


def train_factorization(context: StatementContext, model_type: str, options: dict, query: exp.Expression) -> Model:
    """A MATRIX_FACTORIZATION model of the rows of ``query``, fitted by MLlib's ALS on the executors.

    The data split is computed by Spark (:func:`~sqlml.ml.spark_training.rows.split`): ALS fits
    the training rows, whose users and items the model keeps (an evaluation row of another user
    or item is coded -1, as in one process), and the stored metrics score the evaluation rows (the
    training rows without a split): an explicit model's a sample of them, an implicit model's
    their distinct pairs (:mod:`.implicit`, which computes its losses too).

    Raises:
        InvalidModelInputError: the rows' columns, NULLs or ratings fail one process's checks
            (with its messages), a split column of a type BigQuery does not allow, or no rows.
        InvalidOptionError: a split without training rows, or a CUSTOM or SEQ split without
            ``data_split_col``.
    """
    started = time.monotonic()
    frame, schema = query_frame(context, query)
    columns = rating_columns(options, schema.empty_table())  # names and types; the values are checked below
    frame = hashed(frame, schema).persist()
    try:
        return _trained(frame, schema, model_type, options, columns, started)
    finally:
        frame.unpersist()


def _trained(frame: DataFrame, schema: pa.Schema, model_type: str, options: dict, columns: tuple[str, str, str], started: float) -> Model:
    """:func:`train_factorization` of the query's rows ``frame`` (cached, with their hash)."""
    from pyspark.sql import functions as F

    rows, digest = _checked(frame, schema, options, columns)
    method, evaluation = split(frame, schema, model_type, options, rows)
    frame = frame.withColumn(EVALUATION, evaluation)
    eval_rows = frame.where(F.col(EVALUATION)).count() if method != "NO_SPLIT" else 0
    if eval_rows == rows:
        raise no_training_rows_error(method, rows, options)
    training = frame.where(~F.col(EVALUATION))
    users, user_codes = _keys(training, columns[0], schema.field(columns[0]).type, USER)
    items, item_codes = _keys(training, columns[1], schema.field(columns[1]).type, ITEM)
    coded = (
        frame.join(user_codes, frame[f"`{columns[0]}`"] == user_codes["__sqlml_key"], "left").drop("__sqlml_key")
        .join(item_codes, frame[f"`{columns[1]}`"] == item_codes["__sqlml_key"], "left").drop("__sqlml_key")
        .select(F.coalesce(USER, F.lit(-1)).alias(USER), F.coalesce(ITEM, F.lit(-1)).alias(ITEM),
                F.col(f"`{columns[2]}`").cast("double").alias(RATING), EVALUATION)
        .persist()
    )  # fmt: skip
    try:
        task = Task(kind=Target.RECOMMENDATION.value, feature_names=list(columns[:2]))
        estimator = _fit(coded.where(~F.col(EVALUATION)), options, task, rows - eval_rows, (len(users), len(items)))
        if estimator.implicit:
            *losses, metrics = implicit_results(coded, estimator, eval_rows > 0)
        else:
            losses, metrics = _explicit_results(coded, model_type, estimator, eval_rows > 0)
    finally:
        coded.unpersist()
    ratings = Ratings(columns, users, items, np.empty((0, 2), np.int64), np.empty(0))
    spec = {
        "model_type": str(model_type),
        "options": options,
        "label": None,
        "task": {"kind": estimator.task.kind, "n_classes": 0, "feature_names": estimator.task.feature_names, "categorical_features": [], "sparse": False},
        "features": list(columns[:2]),
        "feature_info": ratings.feature_info(),
        "split": {"method": method, "training_rows": rows - eval_rows, "eval_rows": eval_rows, "test_rows": 0},
        "recommendation": ratings.describe(),
        "training_info": [{"training_run": 0, "iteration": options["max_iterations"] - 1, "loss": losses[0], "eval_loss": losses[1],
                           "learning_rate": None, "duration_ms": int(round((time.monotonic() - started) * 1000))}],  # fmt: skip
        "metrics": metrics,
        "trained_on": {"engine": "spark", "trainer": "Spark MLlib (ALS)", "sample_rows": SAMPLE_ROWS},
        "training_distributions": {},
        "lineage": {"fingerprint": fingerprint(digest, rows), "rows_read": rows},
    }
    model = Model(spec, None, estimator, ratings.key_arrays())
    model.spec["training_seconds"] = round(time.monotonic() - started, 3)
    return model


def _checked(frame: DataFrame, schema: pa.Schema, options: dict, columns: tuple[str, str, str]) -> tuple[int, int | None]:
    """The rows' count and their :data:`HASH` XOR-ed, after one process's checks of the user,
    item and rating values (NULLs, non-finite ratings; its messages) and of there being rows at all.

    Raises:
        InvalidModelInputError: a check fails.
    """
    from pyspark.sql import functions as F

    user, item, rating = (F.col(f"`{name}`") for name in columns)
    value = rating.cast("double")
    bad = user.isNull() | item.isNull() | value.isNull() | F.isnan(value) | (F.abs(value) == float("inf"))
    rows, bad_rows, digest = frame.agg(F.count(F.lit(1)), F.count_if(bad), F.bit_xor(HASH)).first()
    if bad_rows:  # the columns on the driver, for one process's exact message
        rating_columns(options, frame.select(*[f"`{n}`" for n in columns]).toArrow().cast(schema))
    if rows == 0:
        raise InvalidModelInputError(
            "The training query returned no rows.", hint="CREATE MODEL needs rows to train on: check the query's WHERE clause and joins."
        )
    return rows, digest


def _explicit_results(coded: DataFrame, model_type: str, estimator: FactorizationEstimator, evaluated: bool) -> tuple[list, dict]:
    """An explicit model's loss and eval loss (the parts' mean squared errors; None without
    evaluation rows) and its stored metrics (the scored part's), of samples of the parts."""
    family = family_of(model_type)
    samples = [_sample(coded, part) for part in ([False, True] if evaluated else [False])]
    scored = [family.metrics(model_type, estimator, y, family.metric_outputs(model_type, estimator, codes)) for codes, y in samples]
    return [found["mean_squared_error"] for found in scored] + [None] * (not evaluated), scored[-1]


def _sample(coded: DataFrame, evaluation: bool) -> tuple[np.ndarray, np.ndarray]:
    """At most :data:`SAMPLE_ROWS` coded rows of the training or the evaluation part: their
    (user, item) codes and ratings."""
    from pyspark.sql import functions as F

    sample = coded.where(F.col(EVALUATION) == F.lit(evaluation)).limit(SAMPLE_ROWS).toArrow()
    codes = np.column_stack([sample.column(USER).to_numpy(), sample.column(ITEM).to_numpy()]).astype(np.int64)
    return codes, sample.column(RATING).to_numpy()


def _keys(frame: DataFrame, name: str, arrow_type: pa.DataType, code: str) -> tuple[pa.Array, DataFrame]:
    """The column's distinct values, sorted (with the training query's type, as one process reads
    them), and a Spark frame of each value (``__sqlml_key``) and its position (``code``)."""
    from pyspark.sql import SparkSession

    distinct = frame.select(frame[f"`{name}`"].alias("__sqlml_key")).distinct().toArrow().column(0).combine_chunks()
    distinct = distinct.take(pc.array_sort_indices(distinct))
    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    codes = spark.createDataFrame(pa.table({"__sqlml_key": distinct, code: pa.array(np.arange(len(distinct), dtype=np.int32))}))
    return distinct.cast(arrow_type), codes


def _fit(coded: DataFrame, options: dict, task: Task, rows: int, shape: tuple[int, int]) -> FactorizationEstimator:
    """The factors fitted by MLlib's ALS on ``coded`` (user code, item code, rating), as sqlml's estimator."""
    from pyspark.ml.recommendation import ALS

    implicit = options.get("feedback_type") == "IMPLICIT"
    blocks = blocks_for(coded)
    fitted = ALS(
        rank=options.get("num_factors") or default_num_factors(rows), maxIter=options["max_iterations"], regParam=options["l2_reg"],
        implicitPrefs=implicit, alpha=float(options["wals_alpha"]), userCol=USER, itemCol=ITEM, ratingCol=RATING,
        seed=SEED, coldStartStrategy="nan", numUserBlocks=blocks, numItemBlocks=blocks,
    ).fit(coded)  # fmt: skip
    estimator = FactorizationEstimator(options=options, task=task)
    estimator.user_factors_ = _factors(fitted.userFactors, shape[0])
    estimator.item_factors_ = _factors(fitted.itemFactors, shape[1])
    estimator.user_intercepts_, estimator.item_intercepts_ = np.zeros(shape[0]), np.zeros(shape[1])
    estimator.global_intercept_ = 0.0
    return estimator


def blocks_for(frame: DataFrame) -> int:
    """ALS's user and item blocks: one per core of the session (its default parallelism), at
    least 2. MLlib's default, 10, is a cluster's; on ``local[2]`` each iteration would run five
    times the tasks its two cores can run at once."""
    return max(2, frame.sparkSession.sparkContext.defaultParallelism)


def _factors(factors: DataFrame, count: int) -> np.ndarray:
    """MLlib's (id, features) rows as a (count, rank) array, row ``id`` the factors of code ``id``."""
    table = factors.toArrow()
    ids = table.column("id").to_numpy()
    vectors = table.column("features").combine_chunks()
    rank = len(vectors[0]) if len(vectors) else 0
    matrix = np.zeros((count, rank), dtype=np.float64)
    matrix[ids] = pc.list_flatten(vectors).to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(ids), rank)
    return matrix
