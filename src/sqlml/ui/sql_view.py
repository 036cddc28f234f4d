"""The SQL page: a statement box whose queries anyone may run and whose writes need the token.

A script only reads when every statement is a query (SELECT, WITH …, set operations, ML table
functions) containing no data-changing statement: anything else — DML, DDL, CREATE MODEL, ALTER
MODEL, EXPORT, a procedural block — is a write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

import sqlml
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.nodes import Statement
from sqlml.sql.parsed_scripts import parse_script

#: Rows the page shows of a result.
MAX_ROWS = 1000
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Into, exp.Copy)


def only_reads(sql: str, dialect: str) -> bool:
    """Whether every statement of ``sql`` is a query that changes nothing.

    Raises:
        SqlSyntaxError: the script does not parse (nothing runs).
    """
    parser, nodes = parse_script(sql, DIALECTS[dialect])
    for node in nodes:
        if type(node) is not Statement:
            return False
        tree = parser.parse_statement(node)
        if not isinstance(tree, exp.Query) or any(isinstance(n, _WRITES) for n in tree.walk()):
            return False
    return True


@dataclass
class Outcome:
    """A statement's result as the page shows it."""

    columns: list[str]
    rows: list[tuple]
    truncated: bool
    rowcount: int


def run(con: sqlml.Connection, sql: str) -> Outcome:
    """Run ``sql``; the last statement's first :data:`MAX_ROWS` rows."""
    result = con.query(sql)
    columns = list(result.columns)  # before reading: a streamed result lets go of its query
    if not columns:
        return Outcome([], [], False, result.rowcount)
    rows: list[tuple] = []
    for batch in result.reader():  # a large result is read only as far as the page shows it
        rows += zip(*(column.to_pylist() for column in batch.slice(0, MAX_ROWS + 1 - len(rows)).columns), strict=True)
        if len(rows) > MAX_ROWS:
            break
    return Outcome(columns, rows[:MAX_ROWS], len(rows) > MAX_ROWS, len(rows[:MAX_ROWS]))
