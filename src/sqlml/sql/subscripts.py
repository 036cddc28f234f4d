"""BigQuery's bare subscript ``x[i]``: an ARRAY's element at offset ``i`` (0-based, an error past
either end, as ``x[OFFSET(i)]``), a JSON array's element ``i`` (0-based, NULL when missing).

sqlglot shifted ``x[i]`` to DuckDB's 1-based lists when ``i`` was an integer literal, whatever ``x``
held, so a JSON column's ``j[0]`` read DuckDB's 0-based JSON element 1, the second; a computed
``i`` was not shifted at all, so an ARRAY's ``a[i]`` read the element before. Where the tree tells an
ARRAY (an array literal, SPLIT, ARRAY_AGG…), the subscript becomes ``x[OFFSET(i)]``; where it tells
a JSON value, ``i`` is kept as it is; otherwise :func:`sqlml.sql.generator_fixes` dispatches on
DuckDB's ``TYPEOF(x)`` (folded when DuckDB binds the query). A string subscript (``j['key']``, a JSON
field) is left alone, as are the subscripts of sqlml's own DuckDB templates (1-based already).
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#json_subscript_operator
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.templates import DUCKDB_OWN

#: The meta key marking a bare subscript for the generator: "array" (checked as x[OFFSET(i)]),
#: "json", or "any" (dispatch on TYPEOF).
BARE = "sqlml_bare_subscript"

_ARRAYS = (exp.Array, exp.Split, exp.ArrayAgg, exp.GenerateSeries, exp.ArrayConcat, exp.RegexpExtractAll)
_JSON = (exp.ParseJSON, exp.JSONExtract, exp.JSONFormat, exp.JSONObject, exp.JSONArray)


def bare_subscripts(tree: exp.Expression) -> exp.Expression:
    """Mark or rewrite each bare ``x[i]`` with a non-string ``i`` (see the module's docstring)."""
    for bracket in tree.find_all(exp.Bracket):
        if bracket.args.get("offset") is not None or len(bracket.expressions) != 1 or bracket.meta.get(DUCKDB_OWN):
            continue
        index = bracket.expressions[0]
        if isinstance(index, exp.Literal) and index.is_string or isinstance(index, (exp.Slice, exp.Struct)):
            continue
        base = bracket.this
        if isinstance(base, exp.Literal):  # sqlglot reads JSON '[1]'[0] as JSON('[1]'[0])
            continue
        if isinstance(base, _ARRAYS) or base.is_type(exp.DType.ARRAY):
            bracket.set("offset", 0)  # as x[OFFSET(i)]: checked, and shifted by the generator
            bracket.set("safe", False)
            bracket.meta[BARE] = "array"  # worded "Array index i" when out of bounds
        else:
            bracket.meta[BARE] = "json" if isinstance(base, _JSON) or base.is_type(exp.DType.JSON) else "any"
    return tree
