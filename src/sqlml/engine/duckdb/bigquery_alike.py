"""A first run without sqlglot: BigQuery statements that DuckDB's own parser reads the same way.

Why: a statement not yet remembered (:mod:`sqlml.sql.known_statements`) is parsed and transpiled
with sqlglot, and importing sqlglot with its BigQuery and DuckDB dialects alone costs ~0.8× a bare
``python -c "import duckdb; duckdb.sql('select 1')"`` (bench/README.md, cheap starts part 7) — more
than a first ``sqlml query "SELECT 1"`` may cost in all (1.5×). DuckDB is loaded anyway, and its
parser is a real one: :func:`translate` has it parse the statement (``json_serialize_sql``, plus its
tokenizer for what the tree does not keep — quoting and spelling) and, when every token and node is
on a small whitelist on which BigQuery and DuckDB agree, writes the DuckDB text the transpiler
writes for it, character for character (``tests/engine/duckdb/test_bigquery_alike.py`` compares the two over
a battery of statements). The same text runs the same way, so the rows, column names, types and
errors are the full path's; anything else — or any doubt — returns None and the full path runs.

The whitelist: one ``SELECT`` of a comma-separated list of expressions, each optionally
``[AS] alias``, with no ``FROM`` or any other clause, built from

* constants: INT64 (decimal digits within INT64's range, optionally a ``-`` written right before
  them), FLOAT64 (``digits.digits``, same ``-``), single-quoted STRING without quotes, backslashes
  or line breaks inside (BigQuery reads escapes that DuckDB does not), ``TRUE``, ``FALSE``, ``NULL``;
* binary ``+ - *`` over numbers; comparisons ``= <> != < <= > >=`` of two values of one kind
  (numbers, strings or booleans; never a comparison of a comparison); ``AND``, ``OR``, ``NOT`` of
  booleans — so every accepted statement is well typed in BigQuery, and no type error the full
  path would report is skipped;
* no parentheses, comments, quoted identifiers, or keywords other than ``SELECT AS AND OR NOT TRUE
  FALSE NULL`` (``"x"`` is a string in BigQuery and a column in DuckDB; ``==``, ``::``, ``x: 1``
  are DuckDB's alone); a trailing ``;``.

Written as the transpiler writes it: INT64 constants as ``CAST(n AS BIGINT)``, FLOAT64 as
``CAST(x AS DOUBLE)``, a leading ``-`` outside the cast, ``!=`` as ``<>``, and each unnamed
expression named as BigQuery names it, ``f0_``, ``f1_``, … counting unnamed expressions only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import duckdb

from sqlml.sql.known_statements import Known

if TYPE_CHECKING:
    from sqlml.engine.base import Cursor  # for the annotation only

_KEYWORDS = frozenset({"SELECT", "AS", "AND", "OR", "NOT", "TRUE", "FALSE", "NULL"})
_OPERATORS = frozenset({"+", "-", "*", "=", "<>", "!=", "<", "<=", ">", ">=", ",", ";"})
_INT64_MAX = 2**63 - 1
#: Longer statements take the full path: the tree's depth stays far from Python's recursion limit.
_MAX_TOKENS = 100
#: DuckDB's parse of the statement, and whether an identifier is one of DuckDB's keywords (of any
#: category: its tokenizer calls the unreserved ones identifiers; the transpiler quotes them as aliases).
_PARSE = "SELECT json_serialize_sql($1), list_has_any($2::VARCHAR[], (SELECT list(keyword_name) FROM duckdb_keywords()))"
#: SQL's niladic functions, which DuckDB resolves without parentheses and the transpiler quotes as aliases.
_SPECIAL_VALUES = frozenset({"current_catalog", "current_date", "current_role", "current_time", "current_timestamp",
                             "current_user", "localtime", "localtimestamp", "session_user"})  # fmt: skip
_COMPARISONS = {
    "COMPARE_EQUAL": "=",
    "COMPARE_NOTEQUAL": "<>",
    "COMPARE_LESSTHAN": "<",
    "COMPARE_LESSTHANOREQUALTO": "<=",
    "COMPARE_GREATERTHAN": ">",
    "COMPARE_GREATERTHANOREQUALTO": ">=",
}
_CONJUNCTIONS = {"CONJUNCTION_AND": " AND ", "CONJUNCTION_OR": " OR "}
# The keys of each accepted node (DuckDB's serialization): a node with any other key is
# something this module does not know (another DuckDB version), and is refused.
_COMMON = {"class", "type", "alias", "query_location", "query_location_length"}
_KEYS = {
    "CONSTANT": _COMMON | {"literal"},
    "FUNCTION": _COMMON | {"function_name", "schema", "filter", "order_bys", "distinct", "is_operator", "export_state",
                           "catalog", "arguments", "qualified_name", "is_legacy_function_call"},  # fmt: skip
    "COMPARISON": _COMMON | {"left", "right"},
    "CONJUNCTION": _COMMON | {"children"},
    "OPERATOR": _COMMON | {"children"},
}
_EMPTY_SELECT = {
    "type": "SELECT_NODE", "modifiers": [], "cte_map": {"map": []}, "where_clause": None, "group_expressions": [],
    "group_sets": [], "aggregate_handling": "STANDARD_HANDLING", "having": None, "sample": None, "qualify": None,
}  # fmt: skip


class _Refused(Exception):
    """The statement leaves the whitelist: the full path runs it."""


def translate(sql: str, cursor: Cursor | duckdb.DuckDBPyConnection) -> Known | None:
    """The DuckDB text the transpiler writes for the BigQuery statement ``sql``, when ``sql`` is on
    the whitelist (module docstring); None otherwise.

    Args:
        sql: one BigQuery statement (the whole script).
        cursor: a cursor of the connection's DuckDB (or DuckDB's own) to run DuckDB's
            ``json_serialize_sql`` on; nothing is read from the warehouse.

    Raises:
        EngineError: the cursor failed to run the parse (the caller runs the full path then).
    """
    source = sql.encode("utf-8", "surrogatepass")  # DuckDB's positions count bytes
    try:
        identifiers = _check_tokens(source)
        words = [name.lower() for name in identifiers]
        if _SPECIAL_VALUES.intersection(words):
            raise _Refused
        [(serialized, keyword)] = cursor.execute(_PARSE, [sql, words]).fetchall()
        if keyword:
            raise _Refused
        return Known(_statement(json.loads(serialized), source, identifiers), "SELECT")
    # a serialization not shaped as this module expects (another DuckDB version) is refused too
    except (_Refused, duckdb.Error, UnicodeError, KeyError, TypeError, ValueError, IndexError, RecursionError):
        return None


def _check_tokens(source: bytes) -> list[str]:
    """Refuse any token outside the whitelist (DuckDB's tokenizer; positions are byte offsets);
    the identifiers, in order."""
    tokens, identifiers = duckdb.tokenize(source.decode("utf-8")), []
    if len(tokens) > _MAX_TOKENS:
        raise _Refused
    ends = [position for position, _ in tokens[1:]] + [len(source)]
    spaced = True
    for index, ((position, kind), end) in enumerate(zip(tokens, ends)):
        span = source[position:end]
        text, name = span.rstrip().decode("utf-8"), kind.name
        if name != "operator" and not spaced:
            raise _Refused  # two words written together: DuckDB reads '0x1F' as 0 AS x1F, BigQuery as 31
        spaced = name == "operator" or text != span.decode("utf-8")
        if name == "keyword":
            ok = text.upper() in _KEYWORDS
        elif name == "identifier":
            ok = text.isascii() and (text[0].isalpha() or text[0] == "_") and text.replace("_", "a").isalnum()
            identifiers.append(text)
        elif name == "numeric_const":
            whole, dot, fraction = text.partition(".")
            ok = whole.isascii() and whole.isdigit() and (not dot or (fraction.isascii() and fraction.isdigit()))
        elif name == "string_const":
            inner = text[1:-1]
            ok = len(text) >= 2 and text[0] == text[-1] == "'" and not any(c in inner for c in "'\\\n\r")
        elif name == "operator":
            ok = text in _OPERATORS and (text != ";" or index == len(tokens) - 1)
        else:  # comments: BigQuery's '#' comments are not DuckDB's
            ok = False
        if not ok:
            raise _Refused
    return identifiers


def _statement(parsed: dict, source: bytes, identifiers: list[str]) -> str:
    if parsed["error"] or len(parsed["statements"]) != 1:
        raise _Refused
    statement = parsed["statements"][0]
    node = statement["node"]
    if statement["named_param_map"] or node["from_table"]["type"] != "EMPTY" or set(node) != {*_EMPTY_SELECT, "select_list", "from_table"}:
        raise _Refused
    if any(node[key] != value for key, value in _EMPTY_SELECT.items()):
        raise _Refused
    items, unnamed = [], 0
    for item in node["select_list"]:
        text, _ = _expression(item, source)
        alias = item["alias"]
        if not alias:
            alias, unnamed = f"f{unnamed}_", unnamed + 1
        items.append(f"{text} AS {alias}")
    # every identifier is an alias and every alias an identifier: DuckDB takes any keyword after AS
    # ('AS and'), BigQuery only its unreserved words
    if [item["alias"] for item in node["select_list"] if item["alias"]] != identifiers:
        raise _Refused
    return "SELECT " + ", ".join(items)


def _expression(node: dict, source: bytes, top: bool = True) -> tuple[str, str]:
    """``node``'s DuckDB text and its BigQuery kind: ``number``, ``string``, ``bool`` or ``null``."""
    family = node["class"]
    if set(node) != _KEYS.get(family) or (node["alias"] and not top):
        raise _Refused
    if family == "CONSTANT":
        return _constant(node, source)
    if family == "FUNCTION":
        if not (node["is_operator"] and node["function_name"] in ("+", "-", "*") and len(node["arguments"]) == 2):
            raise _Refused
        if node["filter"] is not None or node["distinct"] or node["order_bys"]["orders"] or node["schema"] or node["catalog"]:
            raise _Refused
        if node["export_state"] or node["is_legacy_function_call"] or any(argument["name"] for argument in node["arguments"]):
            raise _Refused
        (left, left_kind), (right, right_kind) = (_expression(a["expression"], source, False) for a in node["arguments"])
        _expect({left_kind, right_kind}, "number")
        return f"{left} {node['function_name']} {right}", "number"
    if family == "COMPARISON" and node["type"] in _COMPARISONS:
        sides = (node["left"], node["right"])
        if any(side["class"] not in ("CONSTANT", "FUNCTION") for side in sides):
            raise _Refused  # a comparison of a comparison, AND, OR or NOT: precedence differs or it is ill typed
        (left, left_kind), (right, right_kind) = (_expression(side, source, False) for side in sides)
        kinds = {left_kind, right_kind} - {"null"}
        if len(kinds) > 1:
            raise _Refused
        return f"{left} {_COMPARISONS[node['type']]} {right}", "bool"
    if family == "CONJUNCTION" and node["type"] in _CONJUNCTIONS and len(node["children"]) >= 2:
        parts = [_expression(child, source, False) for child in node["children"]]
        _expect({kind for _, kind in parts}, "bool")
        return _CONJUNCTIONS[node["type"]].join(text for text, _ in parts), "bool"
    if family == "OPERATOR" and node["type"] == "OPERATOR_NOT" and len(node["children"]) == 1:
        text, kind = _expression(node["children"][0], source, False)
        _expect({kind}, "bool")
        return f"NOT {text}", "bool"
    raise _Refused


def _constant(node: dict, source: bytes) -> tuple[str, str]:
    if node["type"] != "VALUE_CONSTANT":
        raise _Refused
    kind, text = node["literal"]["kind"], node["literal"]["text"]
    start = node["query_location"]
    written = source[start : start + node["query_location_length"]].decode("utf-8")
    if kind in ("INTEGER", "NUMERIC"):
        # as written (DuckDB folds a '-' into the constant; '- 1' or '1e3' are refused here)
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        whole, dot, _ = digits.partition(".")
        if written != text or not digits.isascii() or not whole.isdigit() or bool(dot) != (kind == "NUMERIC"):
            raise _Refused
        if kind == "INTEGER" and int(digits) > _INT64_MAX:
            raise _Refused  # the full path reports it
        return f"{sign}CAST({digits} AS {'BIGINT' if kind == 'INTEGER' else 'DOUBLE'})", "number"
    if kind == "STRING" and written == f"'{text}'":
        return written, "string"
    if kind == "BOOLEAN" and text in ("true", "false"):
        return text.upper(), "bool"
    if kind == "NULL_LITERAL":
        return "NULL", "null"
    raise _Refused


def _expect(kinds: set[str], wanted: str) -> None:
    if not kinds <= {wanted, "null"}:
        raise _Refused
