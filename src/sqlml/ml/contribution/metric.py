"""The contribution metric of a CONTRIBUTION_ANALYSIS model, and the training columns it reads.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-contribution-analysis#contribution_metric:
the metric is ``SUM(x)`` (summable), ``SUM(x)/SUM(y)`` (summable ratio) or
``SUM(x)/COUNT(DISTINCT y)`` (summable by category), case-insensitive, with no other computation;
the query must hold exactly the columns the options name. The option is SQL, so it is parsed
with sqlglot (BigQuery dialect) and its tree matched node by node.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.columns import column_named


class MetricKind(StrEnum):
    """The three metric forms BigQuery accepts; each has its own ML.GET_INSIGHTS columns."""

    SUMMABLE = "summable"
    SUMMABLE_RATIO = "summable_ratio"
    SUMMABLE_BY_CATEGORY = "summable_by_category"


#: The forms, as the option's error message lists them.
FORMS = "SUM(x), SUM(x)/SUM(y) or SUM(x)/COUNT(DISTINCT y)"
#: The most dimensions: 13 with MIN_APRIORI_SUPPORT = 0, else 50 (the page's DIMENSION_ID_COLS section).
MAX_DIMENSIONS = {True: 13, False: 50}


@dataclass(frozen=True)
class Metric:
    """A parsed ``contribution_metric``.

    Attributes:
        kind: which of the three forms it is.
        column: the summed column (the numerator of a ratio).
        other: the denominator of a ratio, the categorical column of a by-category metric, or None.
    """

    kind: MetricKind
    column: str
    other: str | None = None

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """The columns summed (they must be numeric, and non-negative under an apriori threshold)."""
        return (self.column, self.other) if self.kind is MetricKind.SUMMABLE_RATIO else (self.column,)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the metric reads."""
        return (self.column,) if self.other is None else (self.column, self.other)


def parse_metric(text: str) -> Metric:
    """``text`` as one of the three forms.

    Raises:
        InvalidOptionError: any other expression (or text that is no single SQL expression).
    """
    metric = _match(_parse(text))
    if metric is None:
        raise InvalidOptionError(
            f"The 'contribution_metric' option of CREATE MODEL (model_type='contribution_analysis') must be {FORMS}. "
            f"Got '{text}' instead.",
            option="contribution_metric",
            hint="Compute anything else in the training query (AS SELECT …) and name its columns in the metric.",
        )
    return metric


def _parse(text: str) -> exp.Expression | None:
    """The one expression ``text`` holds, None when it holds none, several, or no valid SQL."""
    try:
        trees = sqlglot.parse(text, read="bigquery")
    except SqlglotError:
        return None
    return trees[0] if len(trees) == 1 else None


def _match(tree: exp.Expression | None) -> Metric | None:
    """The metric ``tree`` spells, None when it is none of the three forms."""
    if isinstance(tree, exp.Div):
        column, denominator = _summed(tree.this), _summed(tree.expression)
        if column is not None and denominator is not None:
            return Metric(MetricKind.SUMMABLE_RATIO, column, denominator)
        category = _counted_distinct(tree.expression)
        if column is not None and category is not None:
            return Metric(MetricKind.SUMMABLE_BY_CATEGORY, column, category)
        return None
    column = _summed(tree)
    return None if column is None else Metric(MetricKind.SUMMABLE, column)


def _summed(node: exp.Expression | None) -> str | None:
    """The column of ``SUM(column)``, else None (``SUM(DISTINCT x)`` and ``SUM(x + 1)`` are no metric)."""
    return _column_name(node.this) if type(node) is exp.Sum else None


def _counted_distinct(node: exp.Expression | None) -> str | None:
    """The column of ``COUNT(DISTINCT column)``, else None."""
    if type(node) is not exp.Count or type(node.this) is not exp.Distinct or len(node.this.expressions) != 1:
        return None
    return _column_name(node.this.expressions[0])


def _column_name(node: exp.Expression | None) -> str | None:
    """The name of a bare column (``x`` or ```my col```, unqualified), else None."""
    if type(node) is not exp.Column or node.table or not isinstance(node.this, exp.Identifier):
        return None
    return node.name


@dataclass(frozen=True)
class Columns:
    """The training query's columns, resolved to their spelling in the query.

    Attributes:
        metric: the metric, with its columns as the query spells them.
        is_test: the BOOL column telling test rows (TRUE) from control rows (FALSE).
        dimensions: the dimension columns, in the order the option (or the query) gives them.
        dimension_types: their BigQuery types (INT64, BOOL or STRING).
    """

    metric: Metric
    is_test: str
    dimensions: list[str]
    dimension_types: list[str]


def resolve_columns(schema: pa.Schema, options: dict, metric: Metric) -> Columns:
    """Check the query's columns against the options and return them.

    Raises:
        InvalidModelInputError: a named column is missing or of a type BigQuery does not take
            there, or the query has a column no option names.
        InvalidOptionError: too many dimensions.
    """
    names = list(schema.names)
    is_test = _find(names, options["is_test_col"], "is_test_col")
    found = Metric(metric.kind, *(_find(names, column, "contribution_metric") for column in metric.columns))
    used = {is_test, *found.columns}
    given = options.get("dimension_id_cols")
    dimensions = [_find(names, name, "dimension_id_cols") for name in given] if given else [n for n in names if n not in used]
    extra = [name for name in names if name not in used | set(dimensions)]
    if extra:
        raise InvalidModelInputError(
            "Only is_test, dimension id, and contribution metric columns are allowed as input columns; "
            f"the training query also has {', '.join(extra)}.",
            column=extra[0],
            hint="Select only the columns that contribution_metric, dimension_id_cols and is_test_col name.",
        )
    _check_types(schema, found, is_test, dimensions)
    check_dimension_count(len(dimensions), options)
    return Columns(found, is_test, dimensions, [type_name(schema.field(name).type) for name in dimensions])


def check_dimension_count(count: int, options: dict) -> None:
    """At most 13 dimensions with ``min_apriori_support = 0``, else at most 50; at least one.

    Raises:
        InvalidOptionError: naming dimension_id_cols.
    """
    exhaustive = options.get("top_k_insights_by_apriori_support") is None and options["min_apriori_support"] == 0
    limit = MAX_DIMENSIONS[exhaustive]
    if not 1 <= count <= limit:
        when = "min_apriori_support = 0" if exhaustive else "an apriori support threshold"
        raise InvalidOptionError(
            f"A contribution analysis model takes 1 to {limit} dimensions with {when}; got {count}.",
            option="dimension_id_cols",
            hint="Name fewer dimension columns in dimension_id_cols"
            + (", or set min_apriori_support above 0." if exhaustive else "."),
        )


def _find(names: list[str], name: str, option: str) -> str:
    found = column_named(names, name)
    if found is None:
        raise InvalidModelInputError(
            f"The training query has no column {name}, which {option} names.",
            column=name,
            hint=f"Select {name} in the query, or name one of its columns: {', '.join(names)}.",
        )
    return found


def _check_types(schema: pa.Schema, metric: Metric, is_test: str, dimensions: list[str]) -> None:
    """The types the page gives for each column."""
    _expect(schema, is_test, "is_test_col", pa.types.is_boolean, "BOOL")
    for name in metric.numeric_columns:
        _expect(schema, name, "contribution_metric", _is_numeric, "INT64, NUMERIC, BIGNUMERIC or FLOAT64")
    if metric.kind is MetricKind.SUMMABLE_BY_CATEGORY:
        _expect(schema, metric.other, "contribution_metric", _is_categorical, "BOOL, DATE, DATETIME, TIME, TIMESTAMP, STRING or INT64")
    for name in dimensions:
        _expect(schema, name, "dimension_id_cols", _is_dimension, "INT64, BOOL or STRING")


def _expect(schema: pa.Schema, name: str, option: str, accepts, expected: str) -> None:
    kind = schema.field(name).type
    if not accepts(kind):
        raise InvalidModelInputError(
            f"The column {name} ({option}) must be {expected}; it is {type_name(kind)}.",
            column=name,
            hint=f"CAST {name} in the training query (a number can be bucketized with ML.BUCKETIZE), or name another column.",
        )


def _is_numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _is_dimension(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_categorical(kind: pa.DataType) -> bool:
    return _is_dimension(kind) or pa.types.is_date(kind) or pa.types.is_timestamp(kind) or pa.types.is_time(kind)


def type_name(kind: pa.DataType) -> str:
    """The BigQuery name of an Arrow type, for messages and the model's description."""
    if pa.types.is_integer(kind):
        return "INT64"
    if pa.types.is_floating(kind):
        return "FLOAT64"
    if pa.types.is_decimal(kind):
        return "NUMERIC" if kind.precision <= 38 and kind.scale <= 9 else "BIGNUMERIC"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP" if kind.tz else "DATETIME"
    simple = {pa.types.is_boolean: "BOOL", pa.types.is_string: "STRING", pa.types.is_large_string: "STRING",
              pa.types.is_date: "DATE", pa.types.is_time: "TIME"}  # fmt: skip
    return next((name for test, name in simple.items() if test(kind)), str(kind).upper())
