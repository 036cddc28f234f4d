"""Scalar ML.* calls left after the preprocessing functions were expanded: ML.TFDV_VALIDATE becomes
a call of its built-in macro, ML.DISTANCE and ML.LP_NORM become DuckDB list arithmetic,
BigQuery's scalar ML functions sqlml lacks say so, and so do the AI.* functions (Google-hosted models).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-distance —
``ML.DISTANCE(vector1, vector2 [, type])``, type ``'EUCLIDEAN'`` (default), ``'MANHATTAN'`` or
``'COSINE'`` (1 - cosine similarity); FLOAT64, NULL if either vector is NULL. A vector is
``ARRAY<numeric>`` (dense: one element a dimension, both vectors of one length) or
``ARRAY<STRUCT<STRING|INT64, numeric>>`` (sparse: "values are matched by the identifier rather than
by their position", duplicate identifiers are an error); a dimension one sparse vector lacks is 0
in it, as in ML.BAG_OF_WORDS and ML.TF_IDF output.
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-lp-norm —
``ML.LP_NORM(vector, degree)``, degree 0.0 (the count of non-zero elements), any value >= 1.0, or
``CAST('INF' AS FLOAT64)`` (the largest magnitude); FLOAT64, NULL if the vector is NULL; the
vector dense or sparse, as ML.DISTANCE's.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tfdv-validate —
``ML.TFDV_VALIDATE(base_statistics, study_statistics [, detection_type] [,
categorical_default_threshold] [, categorical_metric_type] [, numerical_default_threshold] [,
numerical_metric_type] [, thresholds])``, positional, defaults ``'SKEW'``, 0.3, ``'L_INFTY'``, 0.3,
``'JENSEN_SHANNON_DIVERGENCE'``, no per-column thresholds.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import SqlTypeError, UnsupportedStatementError
from sqlml.sql.duckdb_names import TFDV_VALIDATE
from sqlml.sql.expressions import NOT_YET_SUPPORTED_SCALAR_NAMES, written_location
from sqlml.sql.templates import build

_TFDV_DEFAULTS = ("'SKEW'", "0.3", "'L_INFTY'", "0.3", "'JENSEN_SHANNON_DIVERGENCE'", "NULL")


def ml_scalars(tree: exp.Expression) -> exp.Expression:
    """Replace ``ML.TFDV_VALIDATE(…)``, ``ML.DISTANCE(…)``, ``ML.LP_NORM(…)``; refuse the scalar ML
    functions sqlml does not have, and every AI.* function (scalar or in FROM)."""
    for table in tree.find_all(exp.Table):  # FROM AI.FORECAST(…): sqlglot keeps AI as the table's dataset
        if table.db.upper() == "AI" and isinstance(table.this, exp.Func):
            raise _generative_ai_error(_function_name(table.this), table.this)
    for dot in reversed(list(tree.find_all(exp.Dot, bfs=False))):  # innermost first, as arguments are copied
        call = dot.expression
        prefix = dot.this.name.upper() if isinstance(dot.this, exp.Identifier) else ""
        if prefix not in ("ML", "AI") or not isinstance(call, exp.Func):
            continue
        name = _function_name(call)
        if prefix == "AI":
            raise _generative_ai_error(name, call)
        if name == "TFDV_VALIDATE":
            dot.replace(_tfdv_validate(call))
        elif name == "DISTANCE":
            dot.replace(_distance(call))
        elif name == "LP_NORM":
            dot.replace(_lp_norm(call))
        elif name in NOT_YET_SUPPORTED_SCALAR_NAMES:
            raise UnsupportedStatementError(f"ML.{name} is not supported yet", location=written_location(call))
    return tree


def _function_name(call: exp.Func) -> str:
    return (call.name if isinstance(call, exp.Anonymous) else call.sql_name()).upper()


def _generative_ai_error(name: str, call: exp.Expression) -> UnsupportedStatementError:
    # AI.GENERATE, AI.FORECAST (TimesFM), AI.EMBED, AI.IF, … call Google-hosted models.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate
    name = name.removeprefix("A_I_")  # sqlglot's own AI.FORECAST node (AIForecast) is named A_I_FORECAST
    return UnsupportedStatementError(
        f"AI.{name} calls a Google-hosted model (Gemini, TimesFM, a Vertex AI endpoint), which sqlml cannot reach: it runs models locally.",
        hint="Forecast locally with CREATE MODEL … OPTIONS(model_type='ARIMA_PLUS') and ML.FORECAST, and detect "
        "anomalies with ML.DETECT_ANOMALIES; the generative AI functions have no local counterpart.",
        location=written_location(call),
    )


def _arguments(call: exp.Expression, name: str, least: int, most: int) -> list[exp.Expression]:
    arguments = list(call.expressions) if isinstance(call, exp.Anonymous) else list(call.iter_expressions())
    if not least <= len(arguments) <= most:
        raise SqlTypeError(f"No matching signature for function ML.{name}: it takes {least} to {most} arguments; got {len(arguments)}.")
    return arguments


def _tfdv_validate(call: exp.Expression) -> exp.Expression:
    arguments = _arguments(call, "TFDV_VALIDATE", 2, 8)
    parts = {str(i): a for i, a in enumerate(arguments)}
    values = [f"__p_{i}" if i < len(arguments) else _TFDV_DEFAULTS[i - 2] for i in range(8)]
    thresholds = values[7] if values[7] == "NULL" else f"to_json({values[7]})"
    template = (
        f"CAST({TFDV_VALIDATE}(CAST({values[0]} AS VARCHAR), CAST({values[1]} AS VARCHAR), {values[2]}, "
        f"CAST({values[3]} AS DOUBLE), {values[4]}, CAST({values[5]} AS DOUBLE), {values[6]}, CAST({thresholds} AS VARCHAR)) AS JSON)"
    )
    return build(template, **parts)


# DuckDB's list functions need DOUBLE[]. DuckDB binds every branch of a CASE, so a sparse vector
# (a list of (identifier, value) structs) is read through its JSON, which binds for any type, and a
# dense one with TRY_CAST; typeof() is a constant, so each call keeps one branch when bound.
_IS_SPARSE = "regexp_matches(typeof(__p_{v}), '^(STRUCT|TUPLE)\\(.*\\[\\]$')"
_IS_DENSE = (
    "(regexp_matches(typeof(__p_{v}), '^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\\(\\d+,\\d+\\))\\[\\]$') "
    "OR typeof(__p_{v}) = '\"NULL\"')"
)
_DENSE = "TRY_CAST(__p_{v} AS DOUBLE[])"
# Each element as [identifier, value] text: a named STRUCT is a JSON object, an unnamed one an array.
_PAIRS = (
    "list_transform(CAST(to_json(__p_{v}) AS JSON[]), LAMBDA e : CASE WHEN json_type(e) = 'ARRAY' "
    "THEN CAST(e AS VARCHAR[]) ELSE map_values(CAST(e AS MAP(VARCHAR, VARCHAR))) END)"
)
_IDS = "list_transform(" + _PAIRS + ", LAMBDA p : p[1])"
_VALUES = "list_transform(" + _PAIRS + ", LAMBDA p : CAST(p[2] AS DOUBLE))"
_UNION = "list_distinct(list_concat(" + _IDS.format(v="a") + ", " + _IDS.format(v="b") + "))"
# The sparse vector's value at each identifier of both vectors, 0 where it has none.
_ALIGNED = (
    "list_transform(" + _UNION + ", LAMBDA k : coalesce(map_from_entries(list_transform(" + _PAIRS
    + ", LAMBDA p : {{'k': p[1], 'v': CAST(p[2] AS DOUBLE)}}))[k], 0))"
)
_DUPLICATES = "len(list_distinct({ids})) <> len({ids})"
_DISTANCES = {
    "EUCLIDEAN": "list_distance({a}, {b})",
    "COSINE": "list_cosine_distance({a}, {b})",
    "MANHATTAN": "list_sum(list_transform(list_zip({a}, {b}), LAMBDA p : abs(p[1] - p[2])))",
}
_SIGNATURE = (
    "error('No matching signature for function ML.DISTANCE for argument types: ' || typeof(__p_a) || ', ' || typeof(__p_b) "
    "|| '. Supported: two ARRAY<numeric> of one length, or two ARRAY<STRUCT<STRING or INT64, numeric>>.')"
)


def _distance_template(kind: str) -> str:
    dense = _DISTANCES[kind].format(a=_DENSE.format(v="a"), b=_DENSE.format(v="b"))
    sparse = _DISTANCES[kind].format(a=_ALIGNED.format(v="a"), b=_ALIGNED.format(v="b"))
    duplicates = " OR ".join(_DUPLICATES.format(ids=_IDS.format(v=v)) for v in "ab")
    return (
        f"CASE WHEN {_IS_SPARSE.format(v='a')} AND {_IS_SPARSE.format(v='b')} THEN CASE WHEN __p_a IS NULL OR __p_b IS NULL THEN NULL "
        f"WHEN {duplicates} THEN error('ML.DISTANCE got a vector with duplicate identifiers.') ELSE {sparse} END "
        f"WHEN {_IS_DENSE.format(v='a')} AND {_IS_DENSE.format(v='b')} THEN CASE WHEN len(__p_a) <> len(__p_b) "
        f"THEN error('ML.DISTANCE needs two vectors of the same length.') ELSE {dense} END ELSE {_SIGNATURE} END"
    )


def _distance(call: exp.Expression) -> exp.Expression:
    arguments = _arguments(call, "DISTANCE", 2, 3)
    kind = arguments[2] if len(arguments) == 3 else exp.Literal.string("EUCLIDEAN")
    if not (isinstance(kind, exp.Literal) and kind.is_string and kind.name.upper() in _DISTANCES):
        raise SqlTypeError(
            f"The type argument of ML.DISTANCE must be 'EUCLIDEAN', 'MANHATTAN' or 'COSINE'. Got {kind.sql(dialect='bigquery')} instead.",
            location=written_location(call),
        )
    return build(_distance_template(kind.name.upper()), a=arguments[0], b=arguments[1])


_LP_NORM = (
    "CASE WHEN __p_d = 0 THEN CAST(len(list_filter({v}, LAMBDA x : x <> 0)) AS DOUBLE) "
    "WHEN isinf(__p_d) THEN list_aggregate(list_transform({v}, LAMBDA x : abs(x)), 'max') "
    "WHEN __p_d >= 1 THEN power(list_sum(list_transform({v}, LAMBDA x : power(abs(x), __p_d))), 1 / __p_d) "
    "ELSE error('The degree of ML.LP_NORM must be 0.0, at least 1.0, or CAST(''INF'' AS FLOAT64); got ' || CAST(__p_d AS VARCHAR) || '.') END"
)
_LP_NORM_ANY = (
    f"CASE WHEN {_IS_SPARSE.format(v='v')} THEN {_LP_NORM.format(v=_VALUES.format(v='v'))} "
    f"WHEN {_IS_DENSE.format(v='v')} THEN {_LP_NORM.format(v=_DENSE.format(v='v'))} "
    "ELSE error('No matching signature for function ML.LP_NORM for argument type: ' || typeof(__p_v) "
    "|| '. Supported: ARRAY<numeric> or ARRAY<STRUCT<STRING or INT64, numeric>>.') END"
)


def _lp_norm(call: exp.Expression) -> exp.Expression:
    vector, degree = _arguments(call, "LP_NORM", 2, 2)
    return build(_LP_NORM_ANY, v=vector, d=exp.cast(degree, "DOUBLE"))
