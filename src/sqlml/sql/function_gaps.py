"""BigQuery functions that sqlglot parses but DuckDB lacks or computes otherwise, written as DuckDB
SQL made of calls the Spark engine reads back too (:mod:`sqlml.engine.spark.functions`).

* SEC, CSC, COTH, SECH and CSCH: reciprocals of COS, SIN, TANH, COSH and SINH; a result that is not
  finite from a finite operand (CSC(0), COTH(0), CSCH(0)) is BigQuery's "Floating point error", as
  for COT. https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#sec
* PARSE_NUMERIC / PARSE_BIGNUMERIC: a STRING with spaces around it and between the sign and the
  number, the sign before or after the number, an exponent; rounded half away from zero to the
  type's scale (DuckDB's DECIMAL cast does so). BIGNUMERIC is sqlml's DECIMAL(38, 9), as everywhere.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#parse_numeric
* ARRAY_FIRST / ARRAY_LAST: an error for an empty array, NULL for a NULL one.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_first
* ARRAY_CONCAT: "The function returns NULL if any input argument is NULL" (DuckDB's LIST_CONCAT
  read a NULL list as an empty one).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_concat
* APPROX_TOP_SUM(x, weight, n): ARRAY<STRUCT<value, sum>> by descending sum (exact here), which
  "doesn't ignore NULL values for the expression and weight parameters": NULL is a value with its
  sum, a value whose weights are all NULL has a NULL sum (last); NULL for no rows. DuckDB has none.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/approximate_aggregate_functions#approx_top_sum
* Time zones and functions of times: :mod:`sqlml.sql.time_zones`.
* ``SELECT * REPLACE (e AS x)`` over a join whose sides both have ``x``: BigQuery's "Column x in SELECT
  * REPLACE list is ambiguous"; DuckDB silently kept one ``x`` (:func:`ambiguous_replacements`).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#select_replace
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.cast_formats import formatted_cast
from sqlml.sql.generator_fixes import GENERATOR_FIXES, duckdb_rendering, operands_once
from sqlml.sql.literal_text import interval_text, is_interval
from sqlml.sql.numbers import NUMBER_FIXES
from sqlml.sql.time_zones import TIME_FIXES

#: BigQuery's reciprocal functions: their name and the DuckDB function they are 1 / of.
_RECIPROCALS = {exp.Sec: ("SEC", "COS"), exp.Csc: ("CSC", "SIN"), exp.Coth: ("COTH", "TANH"), exp.Sech: ("SECH", "COSH"), exp.Csch: ("CSCH", "SINH")}


def _failing(message: str, safe: bool) -> str:
    # what a failed call gives: BigQuery's error, or NULL under the SAFE. prefix
    return "NULL" if safe else f"error({message})"


def _reciprocal(self, node: exp.Expression, safe: bool = False) -> str:
    # 1 / f(x) as DOUBLEs: IEEE's inf for a zero divisor (checked below) on both engines
    name, base = _RECIPROCALS[type(node)]
    x = self.sql(node, "this")
    result = f"CAST(1 AS DOUBLE) / CAST({base}({x}) AS DOUBLE)"
    message = f"'Floating point error in function: {name}(' || CAST({x} AS VARCHAR) || ')'"
    return f"CASE WHEN NOT isfinite({result}) AND isfinite({x}) THEN {_failing(message, safe)} ELSE {result} END"


#: What PARSE_NUMERIC reads: spaces, a sign, spaces, digits with a point, an exponent, spaces, a
#: sign, spaces (groups: 1 the sign before, 2 the digits, 3 the exponent, 4 the sign after).
_NUMERIC_TEXT = r"'^\s*([+-]?)\s*([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*([+-]?)\s*$'"


def _parse_numeric(type_name: str):
    def render(self, node: exp.Expression, safe: bool = False) -> str:
        text = self.sql(node, "this")
        group = lambda index: f"REGEXP_EXTRACT({text}, {_NUMERIC_TEXT}, {index})"  # noqa: E731
        bad = f"NOT REGEXP_FULL_MATCH({text}, {_NUMERIC_TEXT}) OR ({group(1)} <> '' AND {group(4)} <> '')"
        message = f"'Invalid {type_name} value: ' || {text}"
        number = f"{group(1)} || {group(4)} || {group(2)} || {group(3)}"
        return f"CASE WHEN {bad} THEN {_failing(message, safe)} ELSE CAST({number} AS DECIMAL(38, 9)) END"

    return render


def _array_end(name: str, last: bool):
    def render(self, node: exp.Expression, safe: bool = False) -> str:
        values = self.sql(node, "this")
        # ARRAY_LENGTH, not LEN, which the Spark engine reads as a string's length
        index = f"ARRAY_LENGTH({values})" if last else "1"
        message = f"'{name} cannot get the {'last' if last else 'first'} element of an empty array'"
        return f"CASE WHEN ARRAY_LENGTH({values}) = 0 THEN {_failing(message, safe)} ELSE ({values})[{index}] END"

    return render


def _array_concat(self, node: exp.ArrayConcat) -> str:
    # an array literal is never NULL: only the other arguments are checked
    concat = duckdb_rendering(exp.ArrayConcat)(self, node)
    checked = [argument for argument in (node.this, *node.expressions) if not isinstance(argument, exp.Array)]
    if not checked:
        return concat
    nulls = " OR ".join(f"({self.sql(argument)}) IS NULL" for argument in checked)
    return f"CASE WHEN {nulls} THEN NULL ELSE {concat} END"


def _approx_top_sum(self, node: exp.ApproxTopSum) -> str:
    # the group's (value, weight) pairs and distinct values, bound once; each value's sum adds its
    # non-NULL weights in their own type (LIST_REDUCE; LIST_SUM would widen INT64 to HUGEINT). Sorted
    # as structs: sums present first, then by descending sum (-s). O(rows x values) per group.
    value, weight, count = self.sql(node, "this"), self.sql(node, "expression"), self.sql(node, "count")
    distinct = f"LIST_DISTINCT(LIST({value}) FILTER (WHERE {value} IS NOT NULL))"  # Spark's ARRAY_DISTINCT keeps a NULL
    group = f"{{'pairs': LIST({{'v': {value}, 'w': {weight}}}), 'keys': {distinct}, 'nulls': COUNT_IF({value} IS NULL), 'n': COUNT(*)}}"
    weights = "LIST_TRANSFORM(LIST_FILTER(__g.pairs, LAMBDA __p : __p.v IS NOT DISTINCT FROM __k AND __p.w IS NOT NULL), LAMBDA __p : __p.w)"
    total = "CASE WHEN ARRAY_LENGTH(__w) > 0 THEN LIST_REDUCE(__w, LAMBDA __a, __b : __a + __b) END"
    entry = f"LIST_TRANSFORM([{weights}], LAMBDA __w : LIST_TRANSFORM([{total}], LAMBDA __s : {{'o1': __s IS NULL, 'o2': -__s, 'value': __k, 'sum': __s}})[1])[1]"
    keys = "LIST_CONCAT(__g.keys, CASE WHEN __g.nulls > 0 THEN [NULL] END)"
    top = f"LIST_SLICE(LIST_SORT(LIST_TRANSFORM({keys}, LAMBDA __k : {entry})), 1, {count})"
    body = f"CASE WHEN __g.n > 0 THEN LIST_TRANSFORM({top}, LAMBDA __e : {{'value': __e.value, 'sum': __e.sum}}) END"
    return f"LIST_TRANSFORM([{group}], LAMBDA __g : {body})[1]"


def ambiguous_replacements(tree: exp.Expression) -> exp.Expression:
    """``SELECT * REPLACE (… AS x)`` over a join fails, as BigQuery's does, where ``x`` is ambiguous:
    the query also reads the bare ``x`` in a WHERE condition that is always true, which DuckDB's
    (and Spark's) binder refuses as an ambiguous reference naming both sides. USING (x) merges it."""
    for select in tree.find_all(exp.Select):
        if not select.args.get("joins"):
            continue
        for star in select.expressions:
            if not isinstance(star, exp.Star) or not star.args.get("replace"):
                continue
            for replacement in star.args["replace"]:
                reference = exp.column(replacement.alias_or_name, quoted=True)
                select.where(exp.or_(exp.Is(this=reference, expression=exp.null()), exp.true()), copy=False)
    return tree


#: The renderings above that can fail, as ``render(generator, node, safe)``.
_FAILING = {
    **dict.fromkeys(_RECIPROCALS, _reciprocal),
    exp.ParseNumeric: _parse_numeric("NUMERIC"),
    exp.ParseBignumeric: _parse_numeric("BIGNUMERIC"),
    exp.ArrayFirst: _array_end("ARRAY_FIRST", last=False),
    exp.ArrayLast: _array_end("ARRAY_LAST", last=True),
}
_SAFE_CALL = GENERATOR_FIXES[exp.SafeFunc]


def _safe_call(self, node: exp.SafeFunc) -> str:
    # SAFE.f(...) of a function above: NULL where it fails (DuckDB's TRY refuses the error() call)
    render = _FAILING.get(type(node.this))
    if render is None:
        return _SAFE_CALL(self, node)
    return operands_once(self, node.this, lambda self, call: render(self, call, safe=True))


def _cast(node_type: type[exp.Cast]):
    # CAST(x AS STRING FORMAT '...'): sqlml.sql.cast_formats; CAST(interval AS STRING): its canonical text
    plain = NUMBER_FIXES[node_type]

    def render(self, node: exp.Cast) -> str:
        if node.args.get("format") is not None:
            return formatted_cast(self, node)
        if node.to.is_type(*exp.DataType.TEXT_TYPES) and is_interval(node.this):
            return operands_once(self, node, lambda self, cast: interval_text(self.sql(cast, "this")))
        return plain(self, node)

    return render


def _once(render):
    return lambda self, node: operands_once(self, node, render)


#: Generator TRANSFORMS for the nodes above, merged into BigQueryOnDuckdb's generator.
FUNCTION_GAPS = {
    **{node_type: _once(render) for node_type, render in _FAILING.items()},
    exp.SafeFunc: _safe_call,
    exp.Cast: _cast(exp.Cast),
    exp.TryCast: _cast(exp.TryCast),
    exp.ArrayConcat: _once(_array_concat),
    exp.ApproxTopSum: _approx_top_sum,
    **TIME_FIXES,
}
