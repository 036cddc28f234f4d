"""DuckDB functions the front end writes that sqlglot's Spark generator leaves as they are, written
as Spark's functions of the same meaning (before generation, on the parsed DuckDB statement).

The front end writes some BigQuery functions as DuckDB functions sqlglot keeps as anonymous calls
(``STRLEN`` for BYTE_LENGTH, ``error()`` for BigQuery's runtime errors, ``LIST_SLICE`` for
``ARRAY_AGG(… LIMIT n)``, ``JSON_VALUE``, which Spark lacks); each has a Spark counterpart here.
A function with none reaches Spark as it is, and the user gets Spark's "cannot resolve routine" as an unknown function. List
functions are in :mod:`~sqlml.engine.spark.lists`, arithmetic in :mod:`~sqlml.engine.spark.numbers`,
functions giving a DATETIME in :mod:`~sqlml.engine.spark.datetimes`.

Calls are rewritten innermost first, so that a call inside another's arguments is rewritten too.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqlml.engine.spark import lists, numbers
from sqlml.engine.spark.build import call as _call
from sqlml.engine.spark.build import once
from sqlml.engine.spark.datetimes import datetime_function, interval_part

__all__ = ["spark_functions"]


def _finite(value: exp.Expression) -> exp.Expression:
    as_double = exp.cast(value, "DOUBLE")
    infinity = exp.cast(exp.Literal.string("Infinity"), "DOUBLE")
    # parenthesized: the front end writes NOT isfinite(x), which must negate both conditions
    return exp.paren(exp.and_(exp.not_(_call("ISNAN", as_double)), exp.NEQ(this=_call("ABS", as_double.copy()), expression=infinity)))


def _day_of_week(node: exp.DayOfWeek) -> exp.Expression:
    # DuckDB's DAYOFWEEK counts from Sunday = 0 (the front end adds 1 for BigQuery's), Spark's from 1
    return exp.paren(exp.Sub(this=node, expression=exp.Literal.number(1)))


#: Date parts whose DuckDB DATE_DIFF counts boundaries crossed (BigQuery's rule) and the count as a
#: serial number of that part; Spark's DATEDIFF(MONTH, …) counts whole months instead.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_diff
_SERIAL_PARTS: dict[str, Callable[[exp.Expression], exp.Expression]] = {
    "YEAR": lambda d: exp.Year(this=d),
    "QUARTER": lambda d: exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=exp.Literal.number(4)), expression=exp.Quarter(this=d.copy())),
    "MONTH": lambda d: exp.Add(this=exp.Mul(this=exp.Year(this=d), expression=exp.Literal.number(12)), expression=exp.Month(this=d.copy())),
}


def _date_diff(node: exp.DateDiff) -> exp.Expression:
    unit = node.args.get("unit")
    serial = _SERIAL_PARTS.get(unit.name.upper() if unit is not None else "")
    if serial is None or not node.args.get("date_part_boundary"):
        return node
    return exp.paren(exp.Sub(this=exp.paren(serial(node.this)), expression=exp.paren(serial(node.expression))))


def _sunday_week(day: exp.Expression) -> exp.Expression:
    # strftime's %U (BigQuery's WEEK): weeks start on Sunday, days before the first Sunday are week 0;
    # Spark's DATE_FORMAT has no such pattern. Two digits, as strftime writes it.
    days = exp.Sub(this=exp.Add(this=exp.DayOfYear(this=day), expression=exp.Literal.number(7)), expression=exp.DayOfWeek(this=day.copy()))
    week = exp.Floor(this=exp.Div(this=exp.paren(days), expression=exp.Literal.number(7)))
    return exp.Pad(this=exp.cast(week, "STRING"), expression=exp.Literal.number(2), fill_pattern=exp.Literal.string("0"), is_left=True)


def _json_scalar(text: exp.Expression, path: exp.Expression) -> exp.Expression:
    # the JSON text of the scalar at ``path`` (the front end unquotes it with ->> '$', Spark's
    # GET_JSON_OBJECT); NULL for an object, an array or JSON null, as BigQuery's JSON_VALUE is.
    # Spark has no JSON_VALUE, and GET_JSON_OBJECT alone gives an object's text.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_value
    def scalar(text: exp.Expression, path: exp.Expression) -> exp.Expression:
        value = _call("VARIANT_GET", _call("PARSE_JSON", text), path)
        not_scalar = exp.RegexpLike(this=_call("SCHEMA_OF_VARIANT", value), expression=exp.Literal.string("^(VOID|OBJECT|ARRAY)"))
        return exp.Case(ifs=[exp.If(this=not_scalar, true=exp.null())], default=_call("TO_JSON", value.copy()))

    return once([text, path], scalar)


def _json_query(node: exp.JSONExtract) -> exp.Expression:
    # DuckDB's j -> path (the front end's JSON_QUERY / JSON_EXTRACT): the JSON text of the value at
    # path, a string quoted ("x"); Spark's GET_JSON_OBJECT, which sqlglot writes, unquoted it.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_query
    return _call("TO_JSON", _call("VARIANT_GET", _call("PARSE_JSON", node.this), node.expression))


def _json_array(node: exp.Cast) -> exp.Expression | None:
    # DuckDB's CAST(j -> path AS JSON[] | VARCHAR[]) (the front end's JSON_QUERY_ARRAY and
    # JSON_VALUE_ARRAY), its j -> path already _json_query's TO_JSON(VARIANT_GET(…)): Spark casts no
    # string to an array, so the array is read from the variant, its elements JSON text or strings.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_query_array
    text, kind = node.this, node.to
    if not (isinstance(text, exp.Anonymous) and text.name.upper() == "TO_JSON" and kind.is_type(exp.DType.ARRAY) and kind.expressions):
        return None
    value = text.expressions[0] if text.expressions else None
    if not (isinstance(value, exp.Anonymous) and value.name.upper() == "VARIANT_GET" and len(value.expressions) == 2):
        return None
    if kind.expressions[0].is_type(exp.DType.JSON):
        elements = _call("VARIANT_GET", *value.expressions, exp.Literal.string("ARRAY<VARIANT>"))
        element = exp.to_identifier("__e")
        return _call("TRANSFORM", elements, exp.Lambda(this=_call("TO_JSON", exp.column(element.copy())), expressions=[element]))
    if kind.expressions[0].is_type(*exp.DataType.TEXT_TYPES):
        return _call("VARIANT_GET", *value.expressions, exp.Literal.string("ARRAY<STRING>"))
    return None


def _reduce(values: exp.Expression, merge: exp.Expression) -> exp.Expression:
    # DuckDB's LIST_REDUCE(l, (a, b) -> …) starts from the first element (the front end calls it on
    # a non-empty list: APPROX_TOP_SUM's sums); Spark's AGGREGATE takes the start apart
    def reduce(values: exp.Expression) -> exp.Expression:
        rest = _call("SLICE", values, exp.Literal.number(2), _call("SIZE", values.copy()))
        return _call("AGGREGATE", rest, _call("ELEMENT_AT", values.copy(), exp.Literal.number(1)), merge)

    return once([values], reduce)


#: Anonymous DuckDB calls (lower-case name) and their Spark form from the call's arguments.
_CALLS: dict[str, Callable[..., exp.Expression]] = {
    "strlen": lambda value: _call("OCTET_LENGTH", value),
    "error": lambda message: _call("RAISE_ERROR", message),
    "isfinite": _finite,
    "list_slice": lists.slice_,
    "list_count": lists.count_not_null,
    "list_extract": lists.get,
    "array_extract": lists.get,
    "histogram": lists.histogram,
    "row": lambda *values: exp.Struct(expressions=list(values)),
    "get_current_timestamp": lambda: exp.CurrentTimestamp(),
    "json_value": _json_scalar,
    "date_part": interval_part,
    "list_reduce": _reduce,
}


#: DuckDB's EXTRACT parts Spark spells otherwise (DAYOFYEAR, ISOYEAR: the ISO week-numbering year).
_EXTRACT_PARTS = {"DAYOFYEAR": "DOY", "ISOYEAR": "YEAROFWEEK"}

_BINARY = (exp.DType.BLOB, exp.DType.VARBINARY, exp.DType.BINARY)


def _blob_literal(text: str) -> exp.Expression:
    # DuckDB's BLOB text spells a byte as \xHH and others as their ASCII character; Spark's
    # CAST(text AS BINARY) would keep the backslashes as bytes, so the bytes are a hex literal
    data, position = bytearray(), 0
    while position < len(text):
        if text.startswith("\\x", position) and len(text) >= position + 4:
            data.append(int(text[position + 2 : position + 4], 16))
            position += 4
        else:
            data.extend(text[position].encode())
            position += 1
    return exp.HexString(this=data.hex())


#: DuckDB's TYPEOF names Spark's TYPEOF spells otherwise than in lower case (DOUBLE is double,
#: DECIMAL(38,9) decimal(38,9)).
_TYPE_NAMES = {
    "BLOB": "binary",
    "VARCHAR": "string",
    "INTEGER": "int",
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}


def _is_type_name(node: exp.Expression) -> bool:
    # a string compared with DuckDB's TYPEOF(x): the front end's dispatch on a column's type
    # (CASE TYPEOF(x) WHEN 'BLOB' for BYTE_LENGTH, TYPEOF(x) IN ('DOUBLE', 'FLOAT') for casts and MOD)
    if not (isinstance(node, exp.Literal) and node.is_string):
        return False
    parent = node.parent
    if isinstance(parent, exp.If) and node.arg_key == "this":  # CASE TYPEOF(x) WHEN 'name' (not a THEN 'value')
        return isinstance(parent.parent, exp.Case) and isinstance(parent.parent.this, exp.Typeof)
    if isinstance(parent, exp.In) and node.arg_key == "expressions":
        return isinstance(parent.this, exp.Typeof)
    return isinstance(parent, (exp.EQ, exp.NEQ)) and any(isinstance(side, exp.Typeof) for side in (parent.this, parent.expression))


def _spark_type_name(node: exp.Literal) -> exp.Expression:
    return exp.Literal.string(_TYPE_NAMES.get(node.this, node.this.lower()))


def _full_match(node: exp.RegexpFullMatch) -> exp.Expression:
    # DuckDB's REGEXP_FULL_MATCH (the front end's check of a STRING cast to INT64) as Spark's
    # RLIKE, which finds the pattern anywhere: anchored at both ends (\z: not before a final newline)
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored: exp.Expression = exp.Literal.string(f"^(?:{pattern.this})\\z")
    else:
        anchored = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("^(?:"), expression=pattern), expression=exp.Literal.string(")\\z"))
    return exp.RegexpLike(this=node.this, expression=anchored)


def _array_branch(node: exp.Case) -> exp.Expression | None:
    # the front end's bare x[i] of a column it cannot type (sqlml.sql.generator_fixes):
    # CASE WHEN TYPEOF(x) = 'JSON' THEN x[i] ELSE <x[i] checked against LEN(x)> END. Spark has
    # no JSON values, so the array's branch alone, its LEN a list's SIZE: Spark folds TYPEOF, but
    # also folded the JSON branch's x[i - 1] of a literal array, failing on x[0] with index -1.
    ifs = node.args.get("ifs") or []
    test = ifs[0].this if len(ifs) == 1 else None
    if not (isinstance(test, exp.EQ) and isinstance(test.this, exp.Typeof) and test.expression.name.upper() == "JSON"):
        return None
    values, branch = test.this.this, node.args.get("default")
    for length in list(branch.find_all(exp.Length)) if branch is not None else ():
        if length.this == values:
            length.replace(_call("SIZE", length.this.copy()))
    return branch


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Case) and (branch := _array_branch(node)) is not None:
        return branch
    if type(node) is exp.JSONExtract:
        return _json_query(node)
    if isinstance(node, exp.Cast) and (array := _json_array(node)) is not None:
        return array
    if isinstance(node, exp.Anonymous):
        rewrite = _CALLS.get(node.name.lower())
        if rewrite is not None:
            try:
                return rewrite(*node.expressions)
            except TypeError:  # another arity than the front end writes: leave it to Spark
                return node
    if isinstance(node, exp.DayOfWeek):
        return _day_of_week(node)
    if isinstance(node, exp.DateDiff):
        return _date_diff(node)
    if isinstance(node, exp.TimeToStr) and node.args.get("format") is not None and node.args["format"].name == "%U":
        return _sunday_week(node.this)
    if isinstance(node, exp.Cast) and node.to.is_type(*_BINARY) and isinstance(node.this, exp.Literal) and node.this.is_string:
        return _blob_literal(node.this.this)
    if isinstance(node, exp.PercentileCont) and node.expression is not None and not isinstance(node.expression, exp.Array):
        return _call("PERCENTILE", node.this, node.expression)  # DuckDB's QUANTILE_CONT(x, q): aggregate and window
    if isinstance(node, exp.Extract) and node.this.name.upper() in _EXTRACT_PARTS:
        return exp.Extract(this=exp.var(_EXTRACT_PARTS[node.this.name.upper()]), expression=node.expression)
    if lists.is_indexed_lambda(node):
        return lists.one_based_index(node)
    if _is_type_name(node):
        return _spark_type_name(node)
    if isinstance(node, exp.RegexpFullMatch):
        return _full_match(node)
    if isinstance(node, exp.ArrayConcat):
        return lists.concat(node)
    if isinstance(node, exp.Length) and lists.is_list(node.this):
        return _call("SIZE", node.this)
    if numbers.is_hex_cast(node):
        return numbers.hex_cast(node)
    if numbers.is_integer_cast(node):
        return numbers.rounded_cast(node)
    if numbers.is_float_division(node):
        return numbers.ieee_divide(node.this, node.expression)
    if isinstance(node, exp.Log):
        return numbers.log(node)
    if isinstance(node, exp.Ln):
        return numbers.ln(node)
    if isinstance(node, exp.Sign):
        return numbers.sign(node)
    datetime = datetime_function(node)
    if datetime is not None:
        return datetime
    if type(node).__name__ == "ArrayReverse":
        return _call("REVERSE", node.this)
    if isinstance(node, exp.Interval) and node.this is not None and not isinstance(node.this, exp.Literal):
        # INTERVAL (x) DAY: Spark takes only literals there; x * INTERVAL '1' DAY means the same
        unit = node.args.get("unit")
        return exp.Mul(this=exp.paren(node.this), expression=exp.Interval(this=exp.Literal.string("1"), unit=unit))
    return node


def spark_functions(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with the DuckDB calls above written as Spark's."""
    for node in reversed(list(tree.dfs())):  # every node after the nodes inside it
        parent, key, index = node.parent, node.arg_key, node.index  # before a rewrite wraps the node
        rewritten = _rewrite(node)
        if rewritten is not node:
            if parent is None:
                return rewritten
            parent.set(key, rewritten, index)
    return tree
