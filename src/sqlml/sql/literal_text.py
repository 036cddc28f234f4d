"""The text FORMAT's ``%T`` gives a value: a GoogleSQL literal of it, as BigQuery's table of
conversions shows — a STRING quoted ("abc", its quotes and backslashes escaped), BYTES as b"…",
DATE "2011-02-03", DATETIME "…", TIME "…", TIMESTAMP "2011-02-03 04:05:06+00", NULL as NULL. Other
FLOAT64 NaN and infinities as CAST("nan" AS FLOAT64), JSON as JSON '…', INTERVAL as INTERVAL "Y-M D
H:M:S" YEAR TO SECOND (where the tree tells an INTERVAL). Other types keep their ``%t`` text.
(DuckDB's text of a STRING was unquoted, of a DATE without its type, of NaN 'nan'.)
https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string

And an INTERVAL's text, as ``CAST(i AS STRING)`` writes it: BigQuery's canonical ``[-]Y-M [-]D
[-]H:M:S[.F]`` (``0-0 1 0:0:0`` for one day), not DuckDB's ``1 day``.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.struct_subscripts import constructor_fields

#: The meta key of a STRUCT constructor made of a STRUCT column's fields
#: (:mod:`sqlml.sql.typed_columns`): that column, whose NULL prints as NULL.
STRUCT_COLUMN = "sqlml_struct_column"
#: The GoogleSQL type name a literal of each DuckDB type (its TYPEOF) starts with.
_TYPED = {"DATE": "DATE", "TIME": "TIME", "TIMESTAMP": "DATETIME", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}
_KNOWN = {exp.DType.DATE: "DATE", exp.DType.TIME: "TIME", exp.DType.TIMESTAMP: "TIMESTAMP", exp.DType.TIMESTAMPNTZ: "TIMESTAMP",
          exp.DType.TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE", exp.DType.BLOB: "BLOB", exp.DType.VARBINARY: "BLOB",
          exp.DType.DOUBLE: "DOUBLE", exp.DType.FLOAT: "FLOAT", exp.DType.JSON: "JSON"}  # fmt: skip


def _quoted(text: str) -> str:
    return f"""'"' || REPLACE(REPLACE({text}, '\\', '\\\\'), '"', '\\"') || '"'"""


def _of_type(type_name: str, text: str) -> str:
    # the literal's text for a value of DuckDB's type ``type_name`` whose text is ``text``; string
    # operations only, so that each branch of the TYPEOF dispatch below binds for any value
    if type_name == "VARCHAR":
        return _quoted(text)
    if type_name in ("DOUBLE", "FLOAT"):  # DuckDB writes them nan, inf, -inf; Spark NaN, Infinity, -Infinity
        special = f"CASE LOWER({text}) WHEN 'nan' THEN 'nan' WHEN 'inf' THEN 'inf' WHEN 'infinity' THEN 'inf' WHEN '-inf' THEN '-inf' WHEN '-infinity' THEN '-inf' END"
        return f"""COALESCE('CAST("' || {special} || '" AS FLOAT64)', {text})"""
    if type_name == "JSON":  # in a BigQuery string literal: its quotes and backslashes escaped
        return "'JSON ''' || " + f"REPLACE(REPLACE({text}, '\\', '\\\\'), '''', '\\''')" + " || ''''"
    if type_name == "BLOB":  # DuckDB's text of BYTES already escapes other bytes as \xHH
        return f"""'b"' || {text} || '"'"""
    return f"""'{_TYPED[type_name]} "' || {text} || '"'"""


def literal_text(node: exp.Expression, value: str) -> str:
    """DuckDB SQL for ``%T`` of the value ``node`` (generated as ``value``): its literal's text."""
    text = f"CAST({value} AS VARCHAR)"
    known = next((name for kind, name in _KNOWN.items() if node.is_type(kind)), None)
    if node.is_string or node.is_type(*exp.DataType.TEXT_TYPES):
        literal = _of_type("VARCHAR", text)
    elif is_interval(node):
        literal = f"""'INTERVAL "' || {interval_text(value)} || '" YEAR TO SECOND'"""
    elif known is not None:
        literal = _of_type(known, text)
    else:  # the tree does not tell the type: DuckDB's TYPEOF, folded when the query is bound
        branches = " ".join(f"WHEN '{name}' THEN {_of_type(name, text)}" for name in ("VARCHAR", "BLOB", "DOUBLE", "FLOAT", "JSON", *_TYPED))
        literal = f"CASE TYPEOF({value}) {branches} ELSE {text} END"
    return f"COALESCE({literal}, 'NULL')"


def is_interval(node: exp.Expression) -> bool:
    """Whether ``node`` is an INTERVAL as far as the tree tells (a column's type it does not: such
    a column keeps DuckDB's own text)."""
    if isinstance(node, (exp.Add, exp.Sub)):
        return is_interval(node.this) and is_interval(node.expression)
    if isinstance(node, (exp.Paren, exp.Neg, exp.Mul, exp.Div)):  # interval * / INT64 is an INTERVAL
        return is_interval(node.this)
    return isinstance(node, exp.Interval) or node.is_type(exp.DType.INTERVAL)


def interval_text(value: str) -> str:
    """DuckDB SQL for the canonical text of the INTERVAL ``value``: months, days and the time of
    day each signed on their own, fractional seconds without trailing zeros."""
    months = f"(DATE_PART('year', {value}) * 12 + DATE_PART('month', {value}))"
    hours, minutes, micros = (f"DATE_PART('{part}', {value})" for part in ("hour", "minute", "microsecond"))
    fraction = f"ABS({micros}) % 1000000"
    parts = [
        f"CASE WHEN {months} < 0 THEN '-' ELSE '' END",
        f"CAST(ABS({months}) // 12 AS VARCHAR)", "'-'", f"CAST(ABS({months}) % 12 AS VARCHAR)", "' '",
        f"CAST(DATE_PART('day', {value}) AS VARCHAR)", "' '",
        f"CASE WHEN {hours} < 0 OR {minutes} < 0 OR {micros} < 0 THEN '-' ELSE '' END",
        f"CAST(ABS({hours}) AS VARCHAR)", "':'", f"CAST(ABS({minutes}) AS VARCHAR)", "':'", f"CAST(ABS({micros}) // 1000000 AS VARCHAR)",
        f"CASE WHEN {fraction} > 0 THEN '.' || RTRIM(LPAD(CAST({fraction} AS VARCHAR), 6, '0'), '0') ELSE '' END",
    ]  # fmt: skip
    return f"CASE WHEN {value} IS NOT NULL THEN {' || '.join(parts)} END"


def composite_text(node: exp.Expression, value: str, field_sql) -> str | None:
    """DuckDB SQL for ``%T`` of an ARRAY or a STRUCT the tree shows (else None): ``[v, v, …]`` and
    ``(v, v, …)`` — ``STRUCT()`` and ``STRUCT(v)`` for zero and one field — each value a literal.
    An array's elements are read from the list DuckDB built (so [1.5, 2] is [1.5, 2.0], its
    elements FLOAT64 as in BigQuery); a STRUCT's fields from the tree, ``field_sql(node)``
    generating each (a typed STRUCT<…>(…) casts each to its declared type). A STRUCT element of
    an ARRAY keeps DuckDB's text: SQL cannot walk the fields of a STRUCT it is not shown."""
    if isinstance(node, exp.Array) or (node.is_type(exp.DType.ARRAY) and not isinstance(node, exp.Null)):
        element = literal_text(exp.column("__v"), "__v")
        return f"COALESCE('[' || ARRAY_TO_STRING(LIST_TRANSFORM({value}, LAMBDA __v : {element}), ', ') || ']', 'NULL')"
    fields = constructor_fields(node)
    if fields is None:
        return None
    texts = [composite_text(field, field_sql(field), field_sql) or literal_text(field, field_sql(field)) for field in fields]
    if not texts:
        return "'STRUCT()'"
    text = " || ".join(["'('" if len(texts) > 1 else "'STRUCT('", " || ', ' || ".join(texts), "')'"])
    column = node.meta.get(STRUCT_COLUMN)  # the fields of a STRUCT column: NULL when it is
    return f"COALESCE(CASE WHEN {field_sql(column)} IS NOT NULL THEN {text} END, 'NULL')" if column is not None else text
