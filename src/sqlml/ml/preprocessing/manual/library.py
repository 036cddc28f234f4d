"""BigQuery ML's manual preprocessing functions as DuckDB expressions.

https://cloud.google.com/bigquery/docs/manual-preprocessing (and each function's page)

Each analytic function is split in two: its *statistics* (DuckDB aggregates over the input column:
a mean, a vocabulary…) and its *output* built from them. Standalone in a SELECT the statistics are
window aggregates ``OVER ()``; inside a TRANSFORM clause they are computed once on the training
rows and frozen into the model as literals, so prediction never re-fits. Scalar functions
(BUCKETIZE, NORMALIZER, …) have no statistics.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import InvalidOptionError
from sqlml.ml.preprocessing.manual import buckets, text
from sqlml.ml.preprocessing.manual.base import QUANTILE, Function, as_number, as_text, optional_argument, vocabulary_of
from sqlml.ml.preprocessing.manual.constant_arguments import constant
from sqlml.ml.preprocessing.manual.text import codes
from sqlml.sql.duckdb_names import FARM_FINGERPRINT
from sqlml.sql.templates import build, literal

# -- scalers and imputation ------------------------------------------------------------------


def _standard_scaler():
    return Function(
        "STANDARD_SCALER", (1, 1),
        statistics=lambda a: [build("avg(__p_v)", v=as_number(a[0])), build("stddev_samp(__p_v)", v=as_number(a[0]))],
        output=lambda a, s: build(
            "CASE WHEN __p_v IS NULL THEN NULL WHEN coalesce(__p_sd, 0) = 0 THEN CAST(0 AS DOUBLE) ELSE (__p_v - __p_mean) / __p_sd END",
            v=as_number(a[0]), mean=s[0], sd=s[1],
        ),
    )  # fmt: skip


def _min_max_scaler():
    # values beyond the training range clip to 0 and 1
    return Function(
        "MIN_MAX_SCALER", (1, 1),
        statistics=lambda a: [build("min(__p_v)", v=as_number(a[0])), build("max(__p_v)", v=as_number(a[0]))],
        output=lambda a, s: build(
            "CASE WHEN __p_v IS NULL THEN NULL WHEN __p_hi = __p_lo THEN CAST(0 AS DOUBLE) "
            "ELSE least(greatest((__p_v - __p_lo) / (__p_hi - __p_lo), CAST(0 AS DOUBLE)), CAST(1 AS DOUBLE)) END",
            v=as_number(a[0]), lo=s[0], hi=s[1],
        ),
    )  # fmt: skip


def _max_abs_scaler():
    return Function(
        "MAX_ABS_SCALER", (1, 1),
        statistics=lambda a: [build("max(abs(__p_v))", v=as_number(a[0]))],
        output=lambda a, s: build("CASE WHEN coalesce(__p_m, 0) = 0 THEN __p_v * 0 ELSE __p_v / __p_m END", v=as_number(a[0]), m=s[0]),
    )  # fmt: skip


def _robust_statistics(args):
    bounds = optional_argument(args, 1, [25, 75], "quantile_range of ML.ROBUST_SCALER")
    if not (isinstance(bounds, list) and len(bounds) == 2 and 0 < bounds[0] < bounds[1] < 100):
        raise InvalidOptionError("ML.ROBUST_SCALER's quantile_range must be [low, high] with 0 < low < high < 100.")
    v = as_number(args[0])
    return [build(QUANTILE, v=v, q=literal(q)) for q in (0.5, bounds[0] / 100, bounds[1] / 100)]


def _robust_output(args, stats):
    with_median = optional_argument(args, 2, True, "with_median of ML.ROBUST_SCALER")
    with_range = optional_argument(args, 3, True, "with_quantile_range of ML.ROBUST_SCALER")
    center = stats[0] if with_median else literal(0.0)
    scale = build("__p_hi - __p_lo", hi=stats[2], lo=stats[1]) if with_range else literal(1.0)
    return build("CASE WHEN __p_s = 0 THEN CAST(0 AS DOUBLE) ELSE (__p_v - __p_c) / __p_s END", v=as_number(args[0]), c=center, s=scale)


def _imputer_statistics(args):
    strategy = str(optional_argument(args, 1, None, "strategy of ML.IMPUTER")).lower()
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-imputer
    templates = {"mean": "avg(__p_v)", "median": QUANTILE, "most_frequent": "mode(__p_x)"}
    if strategy not in templates:
        raise InvalidOptionError("ML.IMPUTER's strategy must be 'mean', 'median' or 'most_frequent'.")
    return [build(templates[strategy], v=as_number(args[0]), x=args[0], q=literal(0.5))]


def _imputer_output(args, stats):
    strategy = str(optional_argument(args, 1, None, "strategy of ML.IMPUTER")).lower()
    value = args[0] if strategy == "most_frequent" else as_number(args[0])
    return build("coalesce(__p_v, __p_fill)", v=value, fill=stats[0])


# -- encoders --------------------------------------------------------------------------------


def _one_hot_statistics(args):
    drop = str(optional_argument(args, 1, "none", "drop of ML.ONE_HOT_ENCODER")).lower()
    if drop not in ("none", "most_frequent"):
        raise InvalidOptionError("ML.ONE_HOT_ENCODER's drop must be 'none' or 'most_frequent'.")
    vocabulary = vocabulary_of(build("histogram(__p_t)", t=as_text(args[0])), args, 2, "ONE_HOT_ENCODER")
    dropped = build("mode(__p_t)", t=as_text(args[0])) if drop == "most_frequent" else build("CAST(NULL AS VARCHAR)")
    return [vocabulary, dropped]


def _one_hot_output(args, stats):
    # the dropped (most frequent) category keeps its index with value 0.0; NULL/unknown → index 0
    return build(
        "[{'index': CAST(coalesce(list_position(__p_vocab, __p_t), 0) AS BIGINT), "
        "'value': CASE WHEN __p_t = __p_dropped THEN CAST(0 AS DOUBLE) ELSE CAST(1 AS DOUBLE) END}]",
        vocab=stats[0], t=as_text(args[0]), dropped=stats[1],
    )  # fmt: skip


def _label_encoder():
    return Function(
        "LABEL_ENCODER", (1, 3),
        statistics=lambda a: [vocabulary_of(build("histogram(__p_t)", t=as_text(a[0])), a, 1, "LABEL_ENCODER")],
        output=lambda a, s: build("CAST(coalesce(list_position(__p_vocab, __p_t), 0) AS BIGINT)", vocab=s[0], t=as_text(a[0])),
    )  # fmt: skip


def _multi_hot():
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-multi-hot-encoder —
    # the doc's example (['a','b','b','c',NULL] and ['c','c','d','d',NULL], top_k 3, threshold 1
    # → indices 1, 2, 3, 0 and 3, 0) counts a category once per row that holds it, and lists each
    # index once, in the order of its first element.
    counts = "list_aggregate(flatten(list(list_distinct(list_transform(__p_a, lambda __le: CAST(__le AS VARCHAR))))), 'histogram')"
    return Function(
        "MULTI_HOT_ENCODER", (1, 3),
        statistics=lambda a: [vocabulary_of(build(counts, a=a[0]), a, 1, "MULTI_HOT_ENCODER")],
        output=lambda a, s: build(
            "list_transform(__p_codes, lambda __le: {'index': CAST(__le AS BIGINT), 'value': CAST(1 AS DOUBLE)})",
            codes=_first_occurrences(_text_codes(a[0], s[0])),
        ),
    )  # fmt: skip


def _first_occurrences(codes: exp.Expression) -> exp.Expression:
    """Each distinct code once, in order of first appearance (list_distinct keeps no order)."""
    if codes.find(exp.Window) is not None:
        # a window aggregate cannot be evaluated inside a lambda body: pass the list in via list_zip
        return build(
            "list_transform(list_filter(list_zip(__p_c, list_resize([__p_c], len(__p_c), __p_c)), "
            "lambda __lz, __li: list_position(__lz[2], __lz[1]) = __li), lambda __lz: __lz[1])",
            c=codes,
        )
    return build("list_filter(__p_c, lambda __le, __li: list_position(__p_c, __le) = __li)", c=codes)


def _text_codes(values, vocabulary):
    return codes(build("list_transform(__p_a, lambda __le: CAST(__le AS VARCHAR))", a=values), vocabulary)


def _hash_bucketize_output(args, stats):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-hash-bucketize —
    # FARM_FINGERPRINT read as unsigned, modulo the size (the doc's example: a→0, b→1, c→1, d→2 of
    # 3 buckets); a size of 0 "only hashes the string": the fingerprint itself.
    size = constant(args[1], "hash_bucket_size of ML.HASH_BUCKETIZE")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidOptionError("ML.HASH_BUCKETIZE's hash_bucket_size must be an integer ≥ 0.")
    fingerprint = build(f"{FARM_FINGERPRINT}(__p_t)", t=as_text(args[0]))
    if size == 0:
        return fingerprint
    unsigned = build("CAST(__p_h AS HUGEINT) + CASE WHEN __p_h < 0 THEN CAST(18446744073709551616 AS HUGEINT) ELSE 0 END", h=fingerprint)
    return build("CAST((__p_u) % __p_m AS BIGINT)", u=unsigned, m=literal(size))


# -- library ---------------------------------------------------------------------------------


def functions() -> dict[str, Function]:
    """Every preprocessing function by name."""
    table = [
        _standard_scaler(),
        _min_max_scaler(),
        _max_abs_scaler(),
        Function("ROBUST_SCALER", (1, 4), statistics=_robust_statistics, output=_robust_output),
        Function("IMPUTER", (2, 2), statistics=_imputer_statistics, output=_imputer_output),
        Function("ONE_HOT_ENCODER", (1, 4), statistics=_one_hot_statistics, output=_one_hot_output),
        _label_encoder(),
        _multi_hot(),
        Function("HASH_BUCKETIZE", (2, 2), output=_hash_bucketize_output),
        *buckets.functions(),
        *text.functions(),
    ]
    return {function.name: function for function in table}
