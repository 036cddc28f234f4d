"""BigQuery's automatic preprocessing, learned in Spark SQL from the training rows where they are.

https://cloud.google.com/bigquery/docs/auto-preprocessing — a numeric column is imputed with its
training mean and (for linear models, k-means and PCA) standardized with its mean and sample
standard deviation; a STRING or BOOL column is one-hot (or dummy) encoded over its training
categories (label encoded for tree models: the category's alphabetical position from 1, 0 for one
unseen; target encoded, for boosted trees' ``TARGET_ENCODING``: the category's mean label
on the training rows, each class's share of them for a multiclass label, the training rows'
overall mean for one unseen), NULL being the category ``_null_filler``. One aggregation pass gives every numeric
column's statistics (and ML.FEATURE_INFO's), one GROUP BY per categorical column its vocabulary;
the result is the same :class:`~sqlml.ml.preprocessing.automatic.preprocessor.Preprocessor`
(encoders and their JSON state) that training in one process fits, so a model trained on Spark
predicts on DuckDB with the same code.

The feature vector MLlib trains on is written as Spark SQL from that preprocessor
(:func:`feature_vector`): column for column what ``Preprocessor.transform`` computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.errors import InvalidModelInputError
from sqlml.ml.preprocessing.automatic.encoders import NULL_CATEGORY, CategoricalEncoder, NumericEncoder
from sqlml.ml.preprocessing.automatic.preprocessor import InputColumn, Preprocessor, is_numeric_type

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: The categorical encodings the workers compute: one-hot columns, a label code or the label's mean (tree models).
ENCODED_METHODS = ("one_hot", "dummy", "label", "target")


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _finite(name: str):  # noqa: ANN202 - a pyspark Column
    """The column as DOUBLE, NaN as NULL (NaN is missing, as in one process)."""
    from pyspark.sql import functions as F

    value = F.col(_quoted(name)).cast("double")
    return F.nanvl(value, F.lit(None).cast("double"))


def _category(name: str):  # noqa: ANN202 - a pyspark Column
    """The column's category text: ``true``/``false`` for BOOL, ``_null_filler`` for NULL."""
    from pyspark.sql import functions as F

    return F.coalesce(F.col(_quoted(name)).cast("string"), F.lit(NULL_CATEGORY))


def unsupported(arrow_type: pa.DataType, categorical: str) -> str | None:
    """Why the column cannot be encoded on the workers (None: it can)."""
    if is_numeric_type(arrow_type):
        return None
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_boolean(arrow_type):
        return None if categorical in ENCODED_METHODS else f"{categorical} encoding"
    return f"a {arrow_type} column"


def learn(
    frame: DataFrame, schema: pa.Schema, features: list[str], *, standardize: bool, categorical: str, target: list[Column] | None = None
) -> tuple[Preprocessor, list[dict]]:
    """The preprocessor of ``features`` learned from ``frame``'s rows, and ML.FEATURE_INFO's rows.

    Args:
        frame: the training rows (the training split only).
        schema: the rows' Arrow types as one process reads them.
        features: the input columns, in order.
        standardize: z-score the numeric columns.
        categorical: ``one_hot``, ``dummy``, ``label`` or ``target``.
        target: for target encoding, the label as one process's encoder learns it: its code
            (one column), or each class's indicator (a multiclass label).

    Raises:
        InvalidModelInputError: a numeric column is all NULL or has an infinite value (the
            messages of one process's training).
    """
    from pyspark.sql import functions as F

    numeric = [name for name in features if is_numeric_type(schema.field(name).type)]
    aggregates = []
    for index, name in enumerate(numeric):
        value = _finite(name)
        aggregates += [
            F.avg(value).alias(f"mean_{index}"), F.stddev_samp(value).alias(f"std_{index}"), F.count(value).alias(f"n_{index}"),
            F.min(value).alias(f"min_{index}"), F.max(value).alias(f"max_{index}"),
            F.percentile_approx(value, F.lit(0.5), F.lit(100_000)).alias(f"median_{index}"),
            F.count_if(F.isnull(F.col(_quoted(name)))).alias(f"nulls_{index}"),
            F.count_if(F.abs(value) == float("inf")).alias(f"inf_{index}"),
        ]  # fmt: skip
    stats = frame.agg(*aggregates).first().asDict() if aggregates else {}
    columns, encoders, info = [], [], []
    for name in features:
        arrow_type = schema.field(name).type
        columns.append(InputColumn(name, str(arrow_type)))
        if name in numeric:
            suffix = f"_{numeric.index(name)}"
            encoder, row = _numeric(name, standardize, {key.removesuffix(suffix): stats[key] for key in stats if key.endswith(suffix)})
        else:
            encoder, row = _categorical(frame, name, categorical, target or [])
        encoders.append(encoder)
        info.append(row)
    return Preprocessor(columns, encoders), info


def _numeric(name: str, standardize: bool, stats: dict) -> tuple[NumericEncoder, dict]:
    if not stats["n"]:
        raise InvalidModelInputError(
            f"Failed to calculate mean since the entries in corresponding column '{name}' are all NULLs.",
            column=name,
            hint=f"Give {name} values, or leave it out with SELECT * EXCEPT({name}).",
        )
    if stats["inf"]:
        raise InvalidModelInputError(
            f"The column '{name}' has {stats['inf']} infinite value(s); a feature must be finite or NULL.",
            column=name,
            hint=f"Replace them in the query, e.g. IF(IS_INF({name}), NULL, {name}).",
        )
    std = stats["std"] if stats["n"] > 1 and stats["std"] else 0.0
    encoder = NumericEncoder(name, standardize, float(stats["mean"]), std if std > 0 else 1.0)
    row = {
        "input": name, "min": stats["min"], "max": stats["max"], "mean": float(stats["mean"]), "median": stats["median"],
        "stddev": stats["std"] if stats["n"] > 1 else None, "category_count": None, "null_count": int(stats["nulls"]), "dimension": None,
    }  # fmt: skip
    return encoder, row


def _categorical(frame: DataFrame, name: str, method: str, target: list[Column]) -> tuple[CategoricalEncoder, dict]:
    from pyspark.sql import functions as F

    sums = [F.sum(column).alias(f"s{j}") for j, column in enumerate(target)] if method == "target" else []
    groups = {row[0]: row[1:] for row in frame.groupBy(_category(name).alias("c")).agg(F.count(F.lit(1)), *sums).collect()}
    counts = {category: values[0] for category, values in groups.items()}
    vocabulary = sorted(counts)
    if method == "target":
        return _target_encoder(name, vocabulary, groups), _category_row(name, counts)
    dropped = None
    if method == "dummy" and len(vocabulary) > 1:
        # BigQuery drops the most frequent category (ties: alphabetically first), as in one process
        dropped = max(vocabulary, key=lambda c: (counts[c], -vocabulary.index(c)))
    return CategoricalEncoder(name, method, vocabulary, dropped), _category_row(name, counts)


def _target_encoder(name: str, vocabulary: list[str], groups: dict[str, tuple]) -> CategoricalEncoder:
    """The target encoder of the categories' (rows, label sums…): each category's mean label
    and the overall mean (the prior), as :meth:`CategoricalEncoder.fit` learns them."""
    rows = sum(groups[category][0] for category in vocabulary)
    width = len(groups[vocabulary[0]]) - 1
    prior = [sum(float(groups[category][1 + j]) for category in vocabulary) / rows for j in range(width)]
    means = [[float(value) / groups[category][0] for value in groups[category][1:]] for category in vocabulary]
    return CategoricalEncoder(name, "target", vocabulary, None, means, prior)


def _category_row(name: str, counts: dict[str, int]) -> dict:
    """ML.FEATURE_INFO's row of a categorical column whose categories have ``counts`` rows."""
    nulls = counts.get(NULL_CATEGORY, 0)
    return {
        "input": name, "min": None, "max": None, "mean": None, "median": None, "stddev": None,
        "category_count": len(counts) - (1 if NULL_CATEGORY in counts and nulls else 0), "null_count": int(nulls), "dimension": None,
    }  # fmt: skip


def feature_vector(preprocessor: Preprocessor) -> Column:
    """The preprocessor's feature matrix row as an MLlib vector, in Spark SQL: the same columns,
    in the same order, as :meth:`Preprocessor.transform` gives."""
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F

    cells = []
    for column, encoder in zip(preprocessor.columns, preprocessor.encoders):
        if isinstance(encoder, NumericEncoder):
            value = F.coalesce(_finite(column.name), F.lit(encoder.mean))
            cells.append((value - F.lit(encoder.mean)) / F.lit(encoder.std) if encoder.standardize else value)
        elif encoder.method == "label":
            codes = F.create_map(*[part for index, value in enumerate(encoder.vocabulary) for part in (F.lit(value), F.lit(float(index + 1)))])
            cells.append(F.coalesce(F.try_element_at(codes, _category(column.name)), F.lit(0.0)))
        elif encoder.method == "target":
            for j, prior in enumerate(encoder.prior):
                means = F.create_map(*[part for value, row in zip(encoder.vocabulary, encoder.target_values) for part in (F.lit(value), F.lit(row[j]))])
                cells.append(F.coalesce(F.try_element_at(means, _category(column.name)), F.lit(prior)))
        else:
            category = _category(column.name)
            cells += [F.when(category == F.lit(value), 1.0).otherwise(0.0) for value in encoder.columns]
    return array_to_vector(F.array(*cells))
