"""The text FORMAT's ``%T`` gives a value: a GoogleSQL literal of it, as BigQuery's table of
conversions shows — a STRING quoted ("abc", its quotes and backslashes escaped), BYTES as b"…",
DATE "2011-02-03", DATETIME "…", TIME "…", TIMESTAMP "2011-02-03 04:05:06+00", NULL as NULL. Other
types keep their ``%t`` text. (DuckDB's text of a STRING was unquoted, of a DATE without its type.)
https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
"""

from __future__ import annotations

from sqlglot import exp

#: The GoogleSQL type name a literal of each DuckDB type (its TYPEOF) starts with.
_TYPED = {"DATE": "DATE", "TIME": "TIME", "TIMESTAMP": "DATETIME", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}
_KNOWN = {exp.DType.DATE: "DATE", exp.DType.TIME: "TIME", exp.DType.TIMESTAMP: "TIMESTAMP", exp.DType.TIMESTAMPNTZ: "TIMESTAMP",
          exp.DType.TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE", exp.DType.BLOB: "BLOB", exp.DType.VARBINARY: "BLOB"}  # fmt: skip


def _quoted(text: str) -> str:
    return f"""'"' || REPLACE(REPLACE({text}, '\\', '\\\\'), '"', '\\"') || '"'"""


def _of_type(type_name: str, text: str) -> str:
    # the literal's text for a value of DuckDB's type ``type_name`` whose text is ``text``
    if type_name == "VARCHAR":
        return _quoted(text)
    if type_name == "BLOB":  # DuckDB's text of BYTES already escapes other bytes as \xHH
        return f"""'b"' || {text} || '"'"""
    return f"""'{_TYPED[type_name]} "' || {text} || '"'"""


def literal_text(node: exp.Expression, value: str) -> str:
    """DuckDB SQL for ``%T`` of the value ``node`` (generated as ``value``): its literal's text."""
    text = f"CAST({value} AS VARCHAR)"
    known = next((name for kind, name in _KNOWN.items() if node.is_type(kind)), None)
    if node.is_string or node.is_type(*exp.DataType.TEXT_TYPES):
        literal = _of_type("VARCHAR", text)
    elif known is not None:
        literal = _of_type(known, text)
    else:  # the tree does not tell the type: DuckDB's TYPEOF, folded when the query is bound
        branches = " ".join(f"WHEN '{name}' THEN {_of_type(name, text)}" for name in ("VARCHAR", "BLOB", *_TYPED))
        literal = f"CASE TYPEOF({value}) {branches} ELSE {text} END"
    return f"COALESCE({literal}, 'NULL')"
