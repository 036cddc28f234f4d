"""The datasets and tables pages' figures, read through BigQuery's INFORMATION_SCHEMA views.

Names from a URL are only ever looked up among the names INFORMATION_SCHEMA lists, and then
written as quoted identifiers: a page cannot be made to run other SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlml
from sqlml.errors import NotFoundError

#: Rows a table page shows.
FIRST_ROWS = 20


@dataclass
class TableInfo:
    """One table or view of the warehouse, as the datasets page lists it."""

    dataset: str
    name: str
    kind: str  # BASE TABLE or VIEW
    rows: int | None
    columns: int
    partitioned_by: str | None


def tables(con: sqlml.Connection) -> list[TableInfo]:
    """Every table and view of every dataset (sqlml's own ``sqlml_meta`` left out), by dataset and name."""
    listed = con.query(
        "SELECT t.table_schema, t.table_name, t.table_type, t.total_rows, COUNT(c.column_name) AS columns, "
        "STRING_AGG(IF(c.is_partitioning_column = 'YES', c.column_name, NULL)) AS partitioned_by "
        "FROM `region-us`.INFORMATION_SCHEMA.TABLES AS t LEFT JOIN `region-us`.INFORMATION_SCHEMA.COLUMNS AS c "
        "USING (table_schema, table_name) GROUP BY ALL ORDER BY t.table_schema, t.table_name"
    ).fetchall()
    return [TableInfo(*row) for row in listed]


@dataclass
class TableDetail:
    """A table page: its columns, partitions, exact row count and first rows."""

    info: TableInfo
    columns: list[dict]
    partitions: list[dict]
    row_count: int
    first_rows: sqlml.Result


def table_detail(con: sqlml.Connection, dataset: str, name: str) -> TableDetail:
    """The page of ``dataset.name``.

    Raises:
        NotFoundError: no such table or view; the message lists the dataset's.
    """
    known = {(t.dataset, t.name): t for t in tables(con)}
    info = known.get((dataset, name))
    if info is None:
        names = sorted(n for d, n in known if d == dataset)
        raise NotFoundError(
            f"Table {dataset}.{name} was not found.", hint=f"Tables of {dataset}: {', '.join(names)}." if names else "See /datasets."
        )
    where = {"table": name}
    columns = con.query(
        f"SELECT column_name, data_type, is_nullable, is_partitioning_column FROM {quoted(dataset)}.INFORMATION_SCHEMA.COLUMNS "
        "WHERE table_name = @table ORDER BY ordinal_position", where,
    ).arrow().to_pylist()  # fmt: skip
    partitions = []
    if info.partitioned_by:
        partitions = con.query(
            f"SELECT partition_id, total_rows, last_modified_time FROM {quoted(dataset)}.INFORMATION_SCHEMA.PARTITIONS "
            "WHERE table_name = @table ORDER BY partition_id", where,
        ).arrow().to_pylist()  # fmt: skip
    relation = f"{quoted(dataset)}.{quoted(name)}"
    row_count = con.query(f"SELECT COUNT(*) FROM {relation}").fetchall()[0][0]
    return TableDetail(info, columns, partitions, row_count, con.query(f"SELECT * FROM {relation} LIMIT {FIRST_ROWS}"))


def quoted(identifier: str) -> str:
    """A BigQuery quoted identifier."""
    return "`" + identifier.replace("\\", "\\\\").replace("`", "\\`") + "`"
