"""Scripts parsed before: running the same text again skips tokenizing and parsing it.

A connection that runs the same statement many times (an application's queries, a dashboard's
refresh) pays for sqlglot's tokenizer and parser once. Only short scripts of statements sqlglot
parses are kept (no procedural blocks or statements, whose runs parse more as they go); every run
gets its own copy of the trees, which the run rewrites in place.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.nodes import Node, Statement
from sqlml.sql.script import ScriptParser

#: Scripts longer than this are parsed each time (a long script is rarely run twice in a row).
MAX_LENGTH = 10_000
_SIZE = 256
_PARSED: dict[tuple[str, type, str | None], tuple[ScriptParser, list[Node]]] = {}


def parse_script(sql: str, dialect: type, path: str | None = None) -> tuple[ScriptParser, list[Node]]:
    """A parser of ``sql`` with every statement parsed (:meth:`ScriptParser.parse_all`), and the nodes.

    Raises:
        SqlSyntaxError: as :class:`ScriptParser` does; nothing is kept then.
    """
    key = (sql, dialect, path)
    found = _PARSED.get(key)
    if found is not None:
        return found[0].fresh_copy(), found[1]
    parser = ScriptParser(sql, dialect, path)
    nodes = parser.nodes()
    parser.parse_all(nodes)  # a syntax error anywhere: nothing runs
    if len(sql) <= MAX_LENGTH and all(type(node) is Statement and isinstance(parser.parse_statement(node), exp.Expression) for node in nodes):
        if len(_PARSED) >= _SIZE:
            _PARSED.clear()  # bounded; clear() is atomic where threads share the cache
        _PARSED[key] = (parser, nodes)
        return parser.fresh_copy(), nodes
    return parser, nodes
