"""ML.BUCKETIZE and ML.QUANTILE_BUCKETIZE as DuckDB expressions.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-bucketize —
``ML.BUCKETIZE(2.5, [1, 2, 3])`` is ``bin_3`` (two split points are ≤ 2.5); with
``exclude_boundaries`` the first and last points make no bucket (``bin_2``); ``bucket_ranges``
writes ``[2, 3)`` and ``bucket_ranges_json`` ``{"start": "2", "end": "3"}``.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import InvalidOptionError
from sqlml.ml.preprocessing.manual.base import QUANTILE, Function, as_number, optional_argument
from sqlml.ml.preprocessing.manual.constant_arguments import constant
from sqlml.sql.templates import build, literal

_INDEX = "len(list_filter(__p_points, lambda __lp: __lp <= __p_v))"
# the split point at 1-based position __p_k as BigQuery writes it (2, not 2.0); NULL past either end
_POINT = "regexp_replace(CAST(list_extract(__p_points, __p_k) AS VARCHAR), '\\.0$', '')"
# __p_low and __p_high are the bucket's bounds, NULL for the open ends
_FORMATS = {
    "bucket_names": "'bin_' || CAST(__p_i + 1 AS VARCHAR)",
    "bucket_ranges": "coalesce('[' || __p_low, '(-inf') || ', ' || coalesce(__p_high, '+inf') || ')'",
    "bucket_ranges_json": (
        "'{\"start\": \"' || coalesce(__p_low, '-Infinity') || '\", \"end\": \"' || coalesce(__p_high, 'Infinity') || '\"}'"
    ),
}


def bucket(value: exp.Expression, points: exp.Expression, output_format: str) -> exp.Expression:
    """The bucket of ``value`` among split ``points`` (an expression of a sorted DOUBLE list).

    The bucket's index (how many points are ≤ ``value``) is computed at most twice per row, and
    ``points`` is written once per use: a fitted list is one literal (see
    :func:`sqlml.sql.templates.literal`), so the expression is small whatever the list's length.
    """
    if output_format not in _FORMATS:
        raise InvalidOptionError("output_format must be 'bucket_names', 'bucket_ranges' or 'bucket_ranges_json'.")
    index = build(_INDEX, points=points, v=value)
    name = build(
        _FORMATS[output_format],
        i=index,
        low=build(_POINT, points=points, k=index),
        high=build(_POINT, points=points, k=build("__p_i + 1", i=index)),
    )
    return build("CASE WHEN __p_v IS NULL THEN NULL ELSE __p_name END", v=value, name=name)


#: Unsorted split points fail where a row is bucketed, not when the statement is read: a column
#: no query reads is never computed (analytics-componentized-patterns' LTV notebook selects
#: ``ML.BUCKETIZE(qty, [-1, -1, -2, …]) AS bucket_specific`` in a subquery and groups by another column).
_UNSORTED = "ML.BUCKETIZE's split points must be in ascending order."


def _bucketize_output(args, stats):
    exclude = optional_argument(args, 2, False, "exclude_boundaries of ML.BUCKETIZE")
    output_format = optional_argument(args, 3, "bucket_names", "output_format of ML.BUCKETIZE")
    if args[1].find(exp.Column) is not None:
        return bucket(as_number(args[0]), _row_points(args[1], exclude), output_format)
    points = constant(args[1], "array_split_points of ML.BUCKETIZE")
    if not isinstance(points, list) or any(not isinstance(p, (int, float)) or isinstance(p, bool) for p in points):
        raise InvalidOptionError("ML.BUCKETIZE's split points must be an array of numbers.")
    if points != sorted(points):
        return build("CASE WHEN __p_v IS NULL THEN NULL ELSE error(__p_m) END", v=as_number(args[0]), m=literal(_UNSORTED))
    if exclude:
        points = points[1:-1]
    # typed even when empty (exclude_boundaries of two points leaves none)
    return bucket(as_number(args[0]), build("CAST(__p_p AS DOUBLE[])", p=literal([float(p) for p in points])), output_format)


def _row_points(points: exp.Expression, exclude: bool) -> exp.Expression:
    """Split points that read columns, used as each row gives them: ``GENERATE_ARRAY(min_qty,
    max_qty, step)`` over a joined one-row CTE of a column's range (analytics-componentized-patterns
    bqml_automl_ltv_activate_lookalike.ipynb, which BigQuery runs)."""
    typed = build("CAST(__p_p AS DOUBLE[])", p=points)
    return build("list_slice(__p_p, 2, len(__p_p) - 1)", p=typed) if exclude else typed


def _quantile_statistics(args):
    buckets = constant(args[1], "num_buckets of ML.QUANTILE_BUCKETIZE") if len(args) > 1 else None
    if not isinstance(buckets, int) or buckets < 1:
        raise InvalidOptionError("ML.QUANTILE_BUCKETIZE needs num_buckets, an integer ≥ 1.")
    fractions = [k / buckets for k in range(1, buckets)]
    # boundaries are values of the column, as BigQuery's APPROX_QUANTILES gives them (see QUANTILE)
    return [build("list_sort(list_distinct(__p_quantiles))", quantiles=build(QUANTILE, v=as_number(args[0]), q=literal(fractions)))
            if fractions else literal([])]  # fmt: skip


def _quantile_output(args, stats):
    output_format = optional_argument(args, 2, "bucket_names", "output_format of ML.QUANTILE_BUCKETIZE")
    points = build("CAST(__p_p AS DOUBLE[])", p=stats[0])
    return bucket(as_number(args[0]), points, output_format)


def functions() -> list[Function]:
    """BUCKETIZE (scalar) and QUANTILE_BUCKETIZE (analytic)."""
    return [
        Function("BUCKETIZE", (2, 4), output=_bucketize_output),
        Function("QUANTILE_BUCKETIZE", (2, 3), statistics=_quantile_statistics, output=_quantile_output),
    ]
