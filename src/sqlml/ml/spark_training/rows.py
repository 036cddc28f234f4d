"""CREATE MODEL's training rows on Spark, left where they are: the training query as a Spark
DataFrame, its label encoded, its data split and its automatic preprocessing — all computed by
Spark, with the same rules (and error messages) as training in one process
(:mod:`sqlml.ml.training.preparation`). Only bounded samples come to the driver: the rows whose
metrics, kept outputs and distributions the stored model records (:data:`SAMPLE_ROWS`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from sqlglot import exp

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.execution.sources import SourceSet
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.estimator import Dataset, Task
from sqlml.ml.preprocessing.automatic.preprocessor import is_numeric_type
from sqlml.ml.spark_training import statistics
from sqlml.ml.training.labels import Label, encode_label, resolve_column
from sqlml.ml.training.preparation import excluded_columns
from sqlml.ml.training.row_hash import row_hashes
from sqlml.ml.training.split import eval_rows, split_column_name
from sqlml.ml.training.split_checks import check_split_column, no_training_rows_error

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from sqlml.execution.context import StatementContext
    from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor

#: At most this many rows of a part come to the driver (stored metrics, kept outputs, distributions).
SAMPLE_ROWS = 100_000
#: Columns the prepared frame adds: the feature vector, the encoded label, the row weight, the split.
FEATURES, LABEL, WEIGHT, EVALUATION = "__sqlml_features", "__sqlml_label", "__sqlml_weight", "__sqlml_eval"
#: The column of each row's hash (:func:`~sqlml.ml.training.row_hash.row_hashes`, one process's,
#: as a signed 64-bit integer): the fingerprint's, and the split's order.
HASH = "__sqlml_hash"
#: Each cached row's id (Spark's ``monotonically_increasing_id``): orders rows whose hashes tie —
#: identical rows — so that a split takes exactly its count of them, as one process does.
ROW = "__sqlml_row"
#: A random split's cut is found by counting the rows in 2**BUCKET_BITS buckets of the hash's top
#: bits, then sorting the rows of the one bucket the cut falls in (no sort of the whole data).
BUCKET_BITS = 12
#: Spark's normal-equation solver and its Gram matrix take up to this many features; a model this
#: wide trains on the driver (spark_train='driver'), sparse.
MAX_FEATURES = 4_096
_views = itertools.count()


@dataclass
class TrainingRows:
    """The training query's rows on Spark, prepared.

    Attributes:
        frame: the rows with :data:`FEATURES`, :data:`LABEL`, :data:`WEIGHT` and :data:`EVALUATION`, cached.
        schema: the query's columns as one process reads them (Arrow).
        label: the encoded label (classes, kind; no per-row codes), None for unsupervised models.
        features: the input columns.
        preprocessor: the preprocessing learned by Spark on the training part.
        feature_info: ML.FEATURE_INFO's rows.
        task: what the estimator learns.
        split: the split's description (method and row counts).
        fingerprint: the rows' fingerprint (each row's hash, XOR-ed, and the count: one process's).
        cached: the cached rows :attr:`frame` reads, dropped by :meth:`close`.
    """

    frame: DataFrame
    schema: pa.Schema
    label: Label | None
    features: list[str]
    preprocessor: Preprocessor
    feature_info: list[dict]
    task: Task
    split: dict
    fingerprint: str
    cached: DataFrame

    def part(self, evaluation: bool) -> DataFrame:
        """The training part, or the evaluation part."""
        from pyspark.sql import functions as F

        return self.frame.where(F.col(EVALUATION) == F.lit(evaluation))

    @property
    def scored_part(self) -> bool:
        """Which part the stored metrics are computed on: evaluation if the split made one."""
        return self.split["eval_rows"] > 0

    def sample(self, evaluation: bool) -> tuple[pa.Table, Dataset]:
        """At most :data:`SAMPLE_ROWS` rows of a part: the query's columns and their dataset."""
        table = self.part(evaluation).select(*[f"`{n}`" for n in self.schema.names], LABEL, WEIGHT).limit(SAMPLE_ROWS).toArrow()
        columns = table.select(self.schema.names).cast(self.schema)
        y = table.column(LABEL).to_numpy(zero_copy_only=False) if self.label is not None else None
        w = table.column(WEIGHT).to_numpy(zero_copy_only=False)
        return columns, Dataset(self.preprocessor.transform(columns), y, w)

    def close(self) -> None:
        """Drop the cached rows."""
        self.cached.unpersist()


def read(context: StatementContext, model_type: str, options: dict, query: exp.Expression) -> TrainingRows:
    """The training query's rows on Spark, prepared for ``model_type`` with ``options``.

    Raises:
        InvalidModelInputError: no rows, a bad label or feature (one process's messages), or a
            column type the workers do not encode.
        InvalidOptionError: a split or weight option the workers do not apply.
    """
    from pyspark.sql import functions as F

    frame, schema = query_frame(context, query)
    family = family_of(model_type)
    label, counts = _label(frame, schema, model_type, options) if family.target(model_type).is_supervised else (None, None)
    excluded = excluded_columns(options, label.name if label else None)
    features = [name for name in schema.names if name.lower() not in excluded]
    if not features:
        raise InvalidModelInputError("The training query has no feature columns besides the label.", hint="Select at least one column to learn from.")
    defaults = family.preprocessing(model_type, options)
    for name in features:
        why = statistics.unsupported(schema.field(name).type, defaults.categorical)
        if why is not None:
            raise driver_only(f"{name} is {why}, which CREATE MODEL on Spark's workers does not encode yet.")
    frame = hashed(frame, schema).withColumn(LABEL, _label_codes(label)).withColumn(WEIGHT, _weights(schema, options, label, counts))
    cached = frame.persist()
    try:
        return _prepared(cached, schema, model_type, options, label, features)
    except BaseException:
        cached.unpersist()
        raise


def _prepared(cached: DataFrame, schema: pa.Schema, model_type: str, options: dict, label: Label | None, features: list[str]) -> TrainingRows:
    """The cached rows split, their preprocessing learned, their feature vector added."""
    from pyspark.sql import functions as F

    family = family_of(model_type)
    defaults = family.preprocessing(model_type, options)
    rows, digest = cached.agg(F.count(F.lit(1)), F.bit_xor(HASH)).first()
    if rows == 0:
        raise InvalidModelInputError(
            "The training query returned no rows.", hint="CREATE MODEL needs rows to train on: check the query's WHERE clause and joins."
        )
    method, evaluation = split(cached, schema, model_type, options, rows)
    frame = cached.withColumn(EVALUATION, evaluation)
    eval_rows = frame.where(evaluation).count() if method != "NO_SPLIT" else 0
    if eval_rows == rows:
        raise no_training_rows_error(method, rows, options)
    preprocessor, info = statistics.learn(
        frame.where(~F.col(EVALUATION)), schema, features, standardize=defaults.standardize, categorical=defaults.categorical,
        target=_target(label),
    )
    if preprocessor.width > MAX_FEATURES:
        raise driver_only(f"The features encode to {preprocessor.width} columns (one-hot), over the {MAX_FEATURES} Spark's trainers take here.")
    frame = frame.withColumn(FEATURES, statistics.feature_vector(preprocessor))
    task = Task(
        kind=label.kind if label else family.target(model_type).value,
        n_classes=len(label.classes) if label and label.kind != "regression" else 0,
        feature_names=preprocessor.feature_names,
        categorical_features=preprocessor.categorical_indices if defaults.native_categorical else [],
    )
    described = {"method": method, "training_rows": rows - eval_rows, "eval_rows": eval_rows, "test_rows": 0}
    return TrainingRows(frame, schema, label, features, preprocessor, info, task, described, fingerprint(digest, rows), cached)


def fingerprint(digest: int | None, rows: int) -> str:
    """The rows' fingerprint: their :data:`HASH` XOR-ed (``digest``), and the count — one process's."""
    return f"{(digest or 0) & (2**64 - 1):016x}-{rows}"


def hashed(frame: DataFrame, schema: pa.Schema) -> DataFrame:
    """``frame`` (the query's columns) with :data:`HASH`, computed on the executors by one
    process's :func:`~sqlml.ml.training.row_hash.row_hashes` of each batch as one process reads
    it (cast to ``schema``), and :data:`ROW`."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StructField, StructType

    mapped = StructType([*frame.schema.fields, StructField(HASH, LongType(), False)])
    return frame.mapInArrow(functools.partial(_hash_batches, schema=schema), mapped).withColumn(ROW, F.monotonically_increasing_id())


def _hash_batches(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """On an executor: each batch with its rows' hashes (uint64 bits as int64) appended."""
    for batch in batches:
        rows = pa.Table.from_batches([batch]).cast(schema)
        yield batch.append_column(HASH, pa.array(row_hashes(rows).view(np.int64)))


def driver_only(message: str) -> InvalidOptionError:
    """The error of what CREATE MODEL on Spark's workers does not do; its hint names ``spark_train='driver'``."""
    return InvalidOptionError(
        message, option="spark_train", hint="Add OPTIONS(spark_train='driver') to train on the driver (the rows must fit in its memory)."
    )


def query_frame(context: StatementContext, query: exp.Expression) -> tuple[DataFrame, pa.Schema]:
    """The query as a Spark DataFrame (through a TEMP view the Spark cursor defines from sqlml's
    SQL), and its columns' Arrow types as one process reads them."""
    from pyspark.sql import SparkSession

    executor, sources = context.executor, SourceSet()
    name = f"__sqlml_training_{next(_views)}"
    with executor.engine.lease():
        try:
            data = executor.renderer(context.params).data_input(exp.Subquery(this=query.copy()), None, sources)
            schema = data.schema
            data.cursor.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {data.sql}", data.params)
        finally:
            sources.close()
    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    frame = spark.table(name)
    frame = frame.select(*[frame[i].alias(n) for i, n in enumerate(schema.names)])
    spark.catalog.dropTempView(name)  # the frame's plan is resolved already
    return frame, schema


def _label(frame: DataFrame, schema: pa.Schema, model_type: str, options: dict) -> tuple[Label, list[int] | None]:
    """The label column, checked and described as one process does (:func:`encode_label`),
    from its distinct values, and a classifier's rows per class (in class order); a NULL or
    non-finite label fails with one process's message."""
    from pyspark.sql import functions as F

    name = resolve_column(schema.empty_table(), (options.get("input_label_cols") or ["label"])[0], "label")
    arrow_type = schema.field(name).type
    column = F.col(f"`{name}`")
    regression = family_of(model_type).target(model_type).value == "regression"
    bad = column.isNull()
    if regression and is_numeric_type(arrow_type):
        bad = bad | F.isnan(column.cast("double")) | (F.abs(column.cast("double")) == float("inf"))
    if frame.where(bad).limit(1).count():  # the whole column, for the exact message
        encode_label(model_type, name, frame.select(column).toArrow().column(0).combine_chunks().cast(arrow_type))
    if regression:
        return encode_label(model_type, name, pa.array([], arrow_type)), None
    counted = frame.groupBy(column.alias("value")).count().toArrow()
    distinct = counted.column("value").combine_chunks().cast(arrow_type)
    label = encode_label(model_type, name, distinct)
    rows = dict(zip(distinct.to_pylist(), counted.column("count").to_pylist()))
    return label, [rows[value] for value in label.classes]


def auto_class_weights(counts: list[int]) -> list[float]:
    """BigQuery's ``auto_class_weights`` from the query's rows per class, as one process's
    :meth:`Label.class_weights` computes them: each class weighted by rows / (classes · its rows)."""
    return [sum(counts) / (max(count, 1) * len(counts)) for count in counts]


def _target(label: Label | None) -> list | None:
    """What target encoding averages (one process's ``_target_for``): the label's code, or each
    class's indicator for a multiclass label; None without a label."""
    from pyspark.sql import functions as F

    if label is None:
        return None
    if label.kind == "multiclass":
        return [(F.col(LABEL) == F.lit(float(index))).cast("double") for index in range(len(label.classes))]
    return [F.col(LABEL)]


def _label_codes(label: Label | None):  # noqa: ANN202 - a pyspark Column
    """The label as a number: the value (regression) or the class index (classes in ascending order)."""
    from pyspark.sql import functions as F

    if label is None:
        return F.lit(None).cast("double")
    column = F.col(f"`{label.name}`")
    if label.kind == "regression":
        return column.cast("double")
    codes = F.lit(None).cast("double")
    for index, value in enumerate(label.classes):
        codes = F.when(column == F.lit(value), float(index)).otherwise(codes)
    return codes


def _weights(schema: pa.Schema, options: dict, label: Label | None, counts: list[int] | None):  # noqa: ANN202 - a pyspark Column
    """Each row's weight: ``instance_weight_col``, a class's ``class_weights`` or
    ``auto_class_weights`` (from the rows per class, ``counts``), else 1."""
    from pyspark.sql import functions as F

    if label is not None and (options.get("class_weights") or options.get("auto_class_weights")):
        weights = label.class_weights(options) if options.get("class_weights") else auto_class_weights(counts)
        return F.element_at(F.array(*[F.lit(float(v)) for v in weights]), F.col(LABEL).cast("int") + 1)
    if options.get("instance_weight_col"):
        name = resolve_column(schema.empty_table(), options["instance_weight_col"], "instance_weight_col")
        return F.col(f"`{name}`").cast("double")
    return F.lit(1.0)


def split(frame: DataFrame, schema: pa.Schema, model_type: str, options: dict, rows: int) -> tuple[str, Column]:
    """BigQuery's data split on Spark: the evaluation rows one process's
    :func:`~sqlml.ml.training.split.split_rows` picks, as a column that is TRUE on them in
    ``frame`` (which has :data:`HASH` and :data:`ROW`).

    CUSTOM evaluates the rows whose ``data_split_col`` is TRUE or NULL. SEQ evaluates the last
    :func:`~sqlml.ml.training.split.eval_rows` of the rows ordered by ``data_split_col`` (NULLs
    first), then by their hash. RANDOM and AUTO_SPLIT evaluate that many rows with the lowest
    hashes (as unsigned integers). Rows that tie on all of that are identical: :data:`ROW` takes
    as many of them as one process takes.

    Raises:
        InvalidOptionError: a CUSTOM or SEQ split without (an existing) ``data_split_col``.
        InvalidModelInputError: a split column of a type BigQuery does not allow.
    """
    from pyspark.sql import functions as F

    if not family_of(model_type).target(model_type).splits_rows:
        return "NO_SPLIT", F.lit(False)
    method = options.get("data_split_method", "NO_SPLIT")
    if method in ("CUSTOM", "SEQ"):
        check_split_column(schema.empty_table(), options, tuning=False)
        column = F.col(f"`{split_column_name(schema.names, options, method)}`")
        if method == "CUSTOM":
            return method, F.coalesce(column.cast("boolean"), F.lit(True))
        return method, _last_rows(frame, column, eval_rows(options, rows))
    count = eval_rows(options, rows) if method in ("RANDOM", "AUTO_SPLIT") else 0
    return method, _lowest_rows(frame, count) if count else F.lit(False)


def _lowest_rows(frame: DataFrame, count: int) -> Column:
    """TRUE on the ``count`` rows of ``frame`` with the lowest :data:`HASH` as an unsigned integer
    (then :data:`ROW`): the rows are counted per bucket of the hash's top :data:`BUCKET_BITS`
    bits, and only the bucket the cut falls in is sorted."""
    from pyspark.sql import functions as F

    bucket = F.shiftrightunsigned(F.col(HASH), 64 - BUCKET_BITS)
    below = 0
    for value, rows in sorted(frame.groupBy(bucket.alias("b")).count().collect()):
        if below + rows >= count:
            break
        below += rows
    # in one bucket the hashes share their top bits: their signed order is the unsigned one
    last = F.struct(F.col(HASH).alias("h"), F.col(ROW).alias("r"))
    cut_hash, cut_row = frame.where(bucket == value).select(HASH, ROW).orderBy(HASH, ROW).limit(count - below).agg(F.max(last)).first()[0]
    within = (F.col(HASH) < F.lit(cut_hash)) | ((F.col(HASH) == F.lit(cut_hash)) & (F.col(ROW) <= F.lit(cut_row)))
    return (bucket < F.lit(value)) | ((bucket == F.lit(value)) & within)


def _last_rows(frame: DataFrame, column: Column, count: int) -> Column:
    """TRUE on the last ``count`` rows of ``frame`` ordered by ``column`` (NULLs first), then by
    :data:`HASH` as an unsigned integer, then by :data:`ROW`."""
    from pyspark.sql import functions as F

    if count == 0:
        return F.lit(False)
    unsigned = F.col(HASH).bitwiseXOR(F.lit(-(2**63)))  # its signed order is the hash's unsigned order
    key = F.struct(column.alias("v"), unsigned.alias("h"), F.col(ROW).alias("r"))
    value, cut_hash, cut_row = frame.select(key.alias("k")).orderBy(F.col("k").desc()).limit(count).agg(F.min("k")).first()[0]
    at_or_after = (unsigned > F.lit(cut_hash)) | ((unsigned == F.lit(cut_hash)) & (F.col(ROW) >= F.lit(cut_row)))
    if value is None:
        return column.isNotNull() | at_or_after
    return F.coalesce((column > F.lit(value)) | ((column == F.lit(value)) & at_or_after), F.lit(False))
