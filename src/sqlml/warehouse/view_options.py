"""View descriptions: ``CREATE VIEW … OPTIONS(description='…')`` and ``ALTER VIEW … SET OPTIONS(description=…)``,
kept in ``sqlml_meta.view_options`` and shown by INFORMATION_SCHEMA.TABLE_OPTIONS.

dbt-bigquery's persist_docs writes a view's description both ways. A DuckDB view has no options (the
generator leaves a view's OPTIONS out: :mod:`sqlml.sql.dataset_options`), so the description is
recorded beside the view, in the statement's transaction; replacing or dropping the view forgets it.
A view's other options (labels, friendly_name, expiration_timestamp…) have nothing to act on locally
and are not kept.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#view_option_list
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor, SqlEngine
from sqlml.errors import InvalidOptionError
from sqlml.sql.constants import NotConstant, literal_value
from sqlml.warehouse.meta import VIEW_OPTIONS, ensure_meta_table, has_meta_table

OPTIONS_TABLE = VIEW_OPTIONS.qualified


def description_of(create: exp.Create) -> str | None:
    """The description a CREATE VIEW's OPTIONS give (None: none, or NULL).

    Raises:
        InvalidOptionError: a description that is not a STRING literal.
    """
    properties = create.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if type(prop) is exp.Property and prop.name.lower() == "description":  # OPTIONS entries are plain Property
            return description_value(prop.args.get("value"))
    return None


def description_value(value: exp.Expression | None) -> str | None:
    """The text of a description option's value; None for NULL.

    Raises:
        InvalidOptionError: a value that is not a STRING literal.
    """
    if isinstance(value, exp.Null):
        return None
    try:
        return literal_value(value, str)
    except NotConstant:
        raise InvalidOptionError("The view option description takes a STRING literal.", option="description") from None


def record(warehouse: SqlEngine, cursor: Cursor, view: exp.Table, description: str | None) -> None:
    """Keep ``description`` for the view ``view`` (None: it has none), replacing what it had."""
    forget(cursor, view)
    if description is not None:
        ensure_meta_table(warehouse, cursor, VIEW_OPTIONS)
        cursor.execute(f"INSERT INTO {CATALOG}.{OPTIONS_TABLE} VALUES (?, ?, ?)", [view.db.lower(), view.name.lower(), description])


def forget(cursor: Cursor, view: exp.Table) -> None:
    """Drop the description of a dropped (or replaced) view."""
    if view.db and has_meta_table(cursor, VIEW_OPTIONS.name):
        cursor.execute(f"DELETE FROM {CATALOG}.{OPTIONS_TABLE} WHERE table_schema = ? AND table_name = ?", [view.db.lower(), view.name.lower()])
