"""ML.DISTANCE and ML.LP_NORM as DuckDB macros, for dense and sparse vectors alike.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-distance — a vector
is ``ARRAY<numeric>`` (dense: one element a dimension, both vectors of one length) or
``ARRAY<STRUCT<STRING|INT64, numeric>>`` (sparse: "values are matched by the identifier rather than
by their position", duplicate identifiers are an error); a dimension one sparse vector lacks is 0
in it, as in ML.BAG_OF_WORDS and ML.TF_IDF output. ML.LP_NORM
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-lp-norm) takes the
same two forms.

DuckDB binds every branch of a CASE, so a sparse vector is read through its JSON (which binds for
any type) and a dense one with TRY_CAST; typeof() is a constant, so each call keeps one branch.
Macros rather than inline templates: the SQL front end writes one call, and the ~450-node body is
expanded by DuckDB instead of going through every translation pass.
"""

from __future__ import annotations

from typing import Protocol

from sqlml.sql.duckdb_names import LP_NORM, VECTOR_DISTANCE


class _Executes(Protocol):
    """The part of a DuckDB connection :func:`install` uses (only the engine imports duckdb)."""

    def execute(self, query: str) -> object: ...

_IS_SPARSE = "regexp_matches(typeof({v}), '^(STRUCT|TUPLE)\\(.*\\[\\]$')"
_IS_DENSE = (
    "(regexp_matches(typeof({v}), '^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\\(\\d+,\\d+\\))\\[\\]$') "
    "OR typeof({v}) = '\"NULL\"')"
)
_DENSE = "TRY_CAST({v} AS DOUBLE[])"
# Each element as [identifier, value] text: a named STRUCT is a JSON object, an unnamed one an array.
_PAIRS = (
    "list_transform(CAST(to_json({v}) AS JSON[]), lambda e: CASE WHEN json_type(e) = 'ARRAY' "
    "THEN CAST(e AS VARCHAR[]) ELSE map_values(CAST(e AS MAP(VARCHAR, VARCHAR))) END)"
)
_IDS = "list_transform(" + _PAIRS + ", lambda p: p[1])"
_VALUES = "list_transform(" + _PAIRS + ", lambda p: CAST(p[2] AS DOUBLE))"
_UNION = "list_distinct(list_concat(" + _IDS.format(v="a") + ", " + _IDS.format(v="b") + "))"
# The sparse vector's value at each identifier of both vectors, 0 where it has none.
_ALIGNED = (
    "list_transform(" + _UNION + ", lambda k: coalesce(map_from_entries(list_transform(" + _PAIRS
    + ", lambda p: {{'k': p[1], 'v': CAST(p[2] AS DOUBLE)}}))[k], 0))"
)
_DUPLICATES = "len(list_distinct({ids})) <> len({ids})"
_FORMULAS = {
    "EUCLIDEAN": "list_distance({a}, {b})",
    "COSINE": "list_cosine_distance({a}, {b})",
    "MANHATTAN": "list_sum(list_transform(list_zip({a}, {b}), lambda p: abs(p[1] - p[2])))",
}
_SIGNATURE = (
    "error('No matching signature for function ML.DISTANCE for argument types: ' || typeof(a) || ', ' || typeof(b) "
    "|| '. Supported: two ARRAY<numeric> of one length, or two ARRAY<STRUCT<STRING or INT64, numeric>>.')"
)
_NORM = (
    "CASE WHEN d = 0 THEN CAST(len(list_filter({v}, lambda x: x <> 0)) AS DOUBLE) "
    "WHEN isinf(d) THEN list_aggregate(list_transform({v}, lambda x: abs(x)), 'max') "
    "WHEN d >= 1 THEN power(list_sum(list_transform({v}, lambda x: power(abs(x), d))), 1 / d) "
    "ELSE error('The degree of ML.LP_NORM must be 0.0, at least 1.0, or CAST(''INF'' AS FLOAT64); got ' || CAST(d AS VARCHAR) || '.') END"
)


def _distance_body(kind: str) -> str:
    dense = _FORMULAS[kind].format(a=_DENSE.format(v="a"), b=_DENSE.format(v="b"))
    sparse = _FORMULAS[kind].format(a=_ALIGNED.format(v="a"), b=_ALIGNED.format(v="b"))
    duplicates = " OR ".join(_DUPLICATES.format(ids=_IDS.format(v=v)) for v in "ab")
    return (
        f"CASE WHEN {_IS_SPARSE.format(v='a')} AND {_IS_SPARSE.format(v='b')} THEN CASE WHEN a IS NULL OR b IS NULL THEN NULL "
        f"WHEN {duplicates} THEN error('ML.DISTANCE got a vector with duplicate identifiers.') ELSE {sparse} END "
        f"WHEN {_IS_DENSE.format(v='a')} AND {_IS_DENSE.format(v='b')} THEN CASE WHEN len(a) <> len(b) "
        f"THEN error('ML.DISTANCE needs two vectors of the same length.') ELSE {dense} END ELSE {_SIGNATURE} END"
    )


_NORM_BODY = (
    f"CASE WHEN {_IS_SPARSE.format(v='v')} THEN {_NORM.format(v=_VALUES.format(v='v'))} "
    f"WHEN {_IS_DENSE.format(v='v')} THEN {_NORM.format(v=_DENSE.format(v='v'))} "
    "ELSE error('No matching signature for function ML.LP_NORM for argument type: ' || typeof(v) "
    "|| '. Supported: ARRAY<numeric> or ARRAY<STRUCT<STRING or INT64, numeric>>.') END"
)


def install(db: _Executes) -> None:
    """Create the ML.DISTANCE macros (one per distance type) and the ML.LP_NORM macro on ``db``."""
    for kind, name in VECTOR_DISTANCE.items():
        db.execute(f"CREATE OR REPLACE MACRO {name}(a, b) AS {_distance_body(kind)}")
    db.execute(f"CREATE OR REPLACE MACRO {LP_NORM}(v, d) AS {_NORM_BODY}")
