"""Building one node's output so that readers never see it half-written.

Every build runs in one DuckDB transaction: the new table or view replaces the old one at COMMIT,
and a failing or killed build leaves the previous output as it was (DuckDB's write-ahead log
discards an uncommitted transaction on the next open). Incremental models write their new rows to
a temporary table first, then delete the rows (or partitions) they replace and insert the new ones,
all in the same transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlglot import exp

import sqlml
from sqlml.project.kinds import Materialization, RelationKind
from sqlml.project.nodes import Node


def build_data_model(
    con: sqlml.Connection, node: Node, sql: str, *, existing: RelationKind | None, incremental_run: bool
) -> tuple[int | None, str]:
    """Materialize a data model as its config says; return (rows written, a short message).

    Args:
        existing: what the node's relation is now (see :meth:`sqlml.Connection.relation_kind`).
        incremental_run: add to the existing table (``sql`` was rendered with ``is_incremental()``).
    """
    if incremental_run:
        return _merge_increment(con, node, sql)
    return _BUILDERS[node.materialized](con, node, sql, existing)


def _inline(con: sqlml.Connection, node: Node, sql: str, existing: RelationKind | None) -> tuple[None, str]:
    return None, "ephemeral: inlined where referenced"


def _view(con: sqlml.Connection, node: Node, sql: str, existing: RelationKind | None) -> tuple[None, str]:
    drop = f"DROP TABLE IF EXISTS {node.relation};\n" if existing is RelationKind.TABLE else ""
    _transaction(con, node, f"{drop}CREATE OR REPLACE VIEW {node.relation} AS\n{sql}\n;")
    return None, "view"


def _table(con: sqlml.Connection, node: Node, sql: str, existing: RelationKind | None, *, message: str) -> tuple[int, str]:
    relation = node.relation
    drop = f"DROP VIEW IF EXISTS {relation};\n" if existing is RelationKind.VIEW else ""
    order = _ordering(node)
    body = f"SELECT * FROM (\n{sql}\n) ORDER BY {order}" if order else sql
    _transaction(con, node, f"{drop}CREATE OR REPLACE TABLE {relation} AS\n{body}\n;")
    return con.query(f"SELECT COUNT(*) FROM {relation}").scalar(), message


#: How each materialization builds a data model from scratch (an incremental run merges instead).
_BUILDERS: dict[Materialization, Callable[[sqlml.Connection, Node, str, RelationKind | None], tuple[int | None, str]]] = {
    Materialization.EPHEMERAL: _inline,
    Materialization.VIEW: _view,
    Materialization.TABLE: functools.partial(_table, message="table"),
    Materialization.INCREMENTAL: functools.partial(_table, message="incremental: full build"),
}


def _ordering(node: Node) -> str:
    """Rows are sorted by partition, then cluster columns, so DuckDB's zone maps prune row groups."""
    parts = [node.config.get("partition_by")] + list(_as_list(node.config.get("cluster_by")))
    return ", ".join(p for p in parts if p)


def _merge_increment(con: sqlml.Connection, node: Node, sql: str) -> tuple[int, str]:
    relation = node.relation
    staging = f"__sqlml_increment_{node.name}"
    partition = node.config.get("partition_by")
    keys = list(_as_list(node.config.get("unique_key")))
    where = ""
    if partition:
        lookback = int(node.config.get("lookback", 1))
        where = (f"\nWHERE {partition} NOT IN (SELECT DISTINCT {partition} FROM {relation})"
                 f" OR {partition} >= (SELECT MIN(p) FROM (SELECT DISTINCT {partition} AS p FROM {relation} "
                 f"ORDER BY p DESC LIMIT {lookback}))")  # fmt: skip
    statements = [f"CREATE TEMP TABLE {staging} AS SELECT * FROM (\n{sql}\n){where}"]
    if partition:
        statements.append(f"DELETE FROM {relation} WHERE {partition} IN (SELECT DISTINCT {partition} FROM {staging})")
        strategy = f"replaced partitions of {partition}"
    elif keys:
        match = " AND ".join(f"n.{k} = t.{k}" for k in keys)
        statements.append(f"DELETE FROM {relation} AS t WHERE EXISTS (SELECT 1 FROM {staging} AS n WHERE {match})")
        strategy = f"merged on {', '.join(keys)}"
    else:
        strategy = "appended"
    con.query(f"DROP TABLE IF EXISTS {staging}")
    try:
        con.query("BEGIN TRANSACTION;\n" + statements[0], path=str(node.path))
        columns = ", ".join(_quoted(c, con.dialect) for c in con.query(f"SELECT * FROM {staging} LIMIT 0").columns)
        rows = con.query(f"SELECT COUNT(*) FROM {staging}").scalar()
        script = statements[1:] + [f"INSERT INTO {relation} ({columns}) SELECT {columns} FROM {staging}", f"DROP TABLE {staging}"]
        con.query(";\n".join(script) + ";\nCOMMIT TRANSACTION;", path=str(node.path))
    except BaseException:
        _rollback(con)
        raise
    return rows, f"incremental: {strategy}"


def _quoted(column: str, dialect: str) -> str:
    """A column name quoted as the session's dialect quotes identifiers."""
    return exp.to_identifier(column, quoted=True).sql(dialect=dialect)


def _transaction(con: sqlml.Connection, node: Node, script: str) -> None:
    """Run ``script`` as one transaction (a failing script is rolled back by the executor)."""
    con.query(f"BEGIN TRANSACTION;\n{script}\nCOMMIT TRANSACTION;", path=str(node.path))


def _rollback(con: sqlml.Connection) -> None:
    """Roll back a transaction left open between two calls (a failing call rolls back by itself)."""
    try:
        con.query("ROLLBACK TRANSACTION")
    except sqlml.Error:
        pass  # the failed call already rolled back


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
