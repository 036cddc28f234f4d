"""Column descriptions: ``CREATE TABLE t (x INT64 OPTIONS(description='…'))`` and
``ALTER TABLE t ALTER COLUMN x SET OPTIONS(description='…')``, kept in ``sqlml_meta.column_options``.

dbt-bigquery's persist_docs writes both. DuckDB has no column options (sqlglot's DuckDB generator
dropped them with "Unsupported property property" on standard error), so the CREATE's are taken
out of the tree before it runs and recorded beside the table, in the create's transaction.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#column_option_list
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor, SqlEngine
from sqlml.errors import InvalidOptionError, NotFoundError
from sqlml.sql.constants import NotConstant, literal_value
from sqlml.warehouse.meta import COLUMN_OPTIONS, ensure_meta_table, has_meta_table

OPTIONS_TABLE = COLUMN_OPTIONS.qualified


def take_descriptions(tree: exp.Create) -> dict[str, str]:
    """The column descriptions of the CREATE TABLE ``tree`` by column, their OPTIONS removed from it.

    Raises:
        InvalidOptionError: a column option other than description, or a description not a STRING literal.
    """
    found = {}
    columns = tree.this.expressions if isinstance(tree.this, exp.Schema) else []
    for column in [c for c in columns if isinstance(c, exp.ColumnDef)]:
        for constraint in list(column.args.get("constraints") or []):
            if isinstance(constraint.args.get("kind"), exp.Properties):
                description = description_option(constraint.args["kind"].expressions)
                if description is not None:
                    found[column.name] = description
                constraint.pop()
    return found


def description_option(options: list[exp.Expression]) -> str | None:
    """The description a column's ``OPTIONS(…)`` gives (None: none, or NULL).

    Raises:
        InvalidOptionError: another option, or a description not a STRING literal.
    """
    description = None
    for prop in options:
        if prop.name.lower() != "description":
            raise InvalidOptionError(f"Unknown column option {prop.name}.", option=prop.name, hint="Columns take OPTIONS(description='…').")
        value = prop.args.get("value")
        try:
            description = None if isinstance(value, exp.Null) else literal_value(value, str)
        except NotConstant:
            raise InvalidOptionError("The column option description takes a STRING literal.", option="description") from None
    return description


def record(warehouse: SqlEngine, cursor: Cursor, table: exp.Table, descriptions: dict[str, str]) -> None:
    """Keep the column ``descriptions`` of the table ``table`` just made (forgetting a replaced table's)."""
    forget(cursor, table.db, table.name)
    if descriptions:
        ensure_meta_table(warehouse, cursor, COLUMN_OPTIONS)
        rows = [[table.db.lower(), table.name.lower(), name.lower(), text] for name, text in descriptions.items()]
        cursor.executemany(f"INSERT INTO {CATALOG}.{OPTIONS_TABLE} VALUES (?, ?, ?, ?)", rows)


def set_description(warehouse: SqlEngine, cursor: Cursor, table: exp.Table, column: str, description: str | None, *, if_exists: bool) -> None:
    """ALTER COLUMN ``column`` SET OPTIONS(description=…) on the existing table ``table``; None removes it.

    Raises:
        NotFoundError: the table has no such column (and the action has no IF EXISTS).
    """
    names = [name for name, _ in cursor.table_columns(table.db, table.name)]
    if column.lower() not in {name.lower() for name in names}:
        if if_exists:
            return
        raise NotFoundError(f"Unknown column {column} in table {table.db}.{table.name}.", hint=f"Its columns: {', '.join(names)}.")
    key = [table.db.lower(), table.name.lower(), column.lower()]
    if has_meta_table(cursor, COLUMN_OPTIONS.name):
        cursor.execute(f"DELETE FROM {CATALOG}.{OPTIONS_TABLE} WHERE table_schema = ? AND table_name = ? AND column_name = ?", key)
    if description is not None:
        ensure_meta_table(warehouse, cursor, COLUMN_OPTIONS)
        cursor.execute(f"INSERT INTO {CATALOG}.{OPTIONS_TABLE} VALUES (?, ?, ?, ?)", [*key, description])


def forget(cursor: Cursor, dataset: str, table: str) -> None:
    """Drop the column descriptions of a dropped (or replaced) table."""
    if has_meta_table(cursor, COLUMN_OPTIONS.name):
        cursor.execute(f"DELETE FROM {CATALOG}.{OPTIONS_TABLE} WHERE table_schema = ? AND table_name = ?", [dataset.lower(), table.lower()])
