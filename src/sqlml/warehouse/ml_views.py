"""Views whose query calls ML functions: ``CREATE VIEW ds.v AS SELECT … FROM ML.PREDICT(MODEL ds.m, …)``.

DuckDB cannot keep an ML call inside a view, so the view's query is kept in
``sqlml_meta.ml_views`` (its syntax tree written back as text, in the dialect it was written
in), and every statement that reads the view gets that query in its place, as a subquery under
the view's name, before it runs. The ML functions then run at query time with the model as it
is at that moment — a view over ML.PREDICT follows a retrained model, as on BigQuery, where a
view is re-evaluated whenever it is queried. A view over such a view is one as well.

In DuckDB's catalog the view is a stand-in with the view's columns and types whose rows raise an
error if DuckDB ever evaluates it on its own (it is never read through sqlml), so
INFORMATION_SCHEMA, DROP VIEW and name clashes behave as for any view, and nothing can read it
as silently empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from sqlml.engine.base import CATALOG, Cursor, SqlEngine
from sqlml.errors import SqlError
from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.survey import Survey, survey_of
from sqlml.execution.plain import run_sql
from sqlml.result import Result
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.expressions import MLFunction
from sqlml.sql.planner import plan
from sqlml.warehouse.meta import ML_VIEWS, has_meta_table, relation_exists, remembered_meta_table
from sqlml.warehouse.wildcard_tables import expand, wildcard_tables

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor

ML_VIEWS_TABLE = ML_VIEWS.qualified
#: Views expanding into views deeper than this are a cycle.
MAX_DEPTH = 16
_SCHEMA_PROBE = "__sqlml_ml_view_columns"


def create_ml_view(context: StatementContext, cursor: Cursor) -> Result:
    """CREATE [OR REPLACE] VIEW of a query that reads ML functions (:func:`reads_ml`): stored as its
    query, behind an engine view of the same columns that refuses to be read outside sqlml."""
    tree = context.plan.tree
    ref = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    executor = context.executor
    if tree.args.get("exists") and relation_exists(cursor, ref.db, ref.name, tables=False):
        return Result.empty("CREATE VIEW")
    columns = _output_columns(context, tree.expression)
    # The filter makes DuckDB evaluate error() for any read, COUNT(*) included.
    message = f"{_text(ref)} calls ML functions and is read through sqlml only"
    stand_in = ", ".join(f"CAST(e AS {data_type}) AS {_quoted(name)}" for name, data_type in columns)
    stand_in += f" FROM (SELECT error('{message}') AS e) WHERE e IS NULL"
    verb = "CREATE OR REPLACE VIEW" if tree.args.get("replace") else "CREATE VIEW"
    with atomic(executor, cursor):
        cursor.execute(f"{verb} {CATALOG}.{_quoted(ref.db)}.{_quoted(ref.name)} AS SELECT {stand_in}")
        cursor.execute(ML_VIEWS.create_sql)
        cursor.execute(
            f"INSERT OR REPLACE INTO {CATALOG}.{ML_VIEWS_TABLE} VALUES (lower(?), lower(?), ?, ?)",
            [ref.db, ref.name, tree.expression.sql(dialect=executor.dialect_class), executor.dialect],
        )
    return Result.empty("CREATE VIEW")


def expand_ml_views(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """Put each ML view a statement reads in place as its query (CREATE VIEW keeps the name), in
    a copy of the tree."""
    if isinstance(tree, (exp.Drop, exp.Create)) and (tree.kind or "").upper() == "VIEW":
        return tree
    tables = survey_of(tree, survey).tables
    if not any(t.db for t in tables):
        return tree
    warehouse = executor.engine
    if not remembered_meta_table(warehouse, ML_VIEWS.name):
        return tree
    with warehouse.lease() as cursor:
        if not _ml_views_read(warehouse, cursor, tables):
            return tree
        tree = tree.copy()
        for _ in range(MAX_DEPTH):
            found = _ml_views_read(warehouse, cursor, tree.find_all(exp.Table))
            if not found:
                return tree
            for table, (query, dialect) in found:
                body = sqlglot.parse_one(query, read=DIALECTS[dialect])
                alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(table.name))
                table.replace(exp.Subquery(this=body, alias=alias.copy()))
    raise SqlError("Views calling ML functions refer to each other in a cycle.", hint="Check the views' FROM clauses.")


def _ml_views_read(warehouse, cursor, tables: Iterable[exp.Table]) -> list[tuple[exp.Table, tuple[str, str]]]:
    """The ML views among ``tables``, each with its stored (query, dialect), remembered by ``warehouse``."""

    def stored(table: exp.Table):
        return warehouse.memo(("ml_view", table.db.lower(), table.name.lower()), lambda: _stored(cursor, table))

    found = [(table, stored(table)) for table in tables if table.db]
    return [(table, stored) for table, stored in found if stored is not None]


def reads_ml(warehouse: SqlEngine, cursor: Cursor, query: exp.Expression) -> bool:
    """Whether ``query`` calls an ML function or reads an ML view (or a wildcard table, whose
    matching tables a view must list again each time it is read)."""
    if query.find(MLFunction) is not None or wildcard_tables(query):
        return True
    return remembered_meta_table(warehouse, ML_VIEWS.name, cursor) and bool(_ml_views_read(warehouse, cursor, query.find_all(exp.Table)))


def _output_columns(context: StatementContext, query: exp.Expression) -> list[tuple[str, str]]:
    """(name, DuckDB type) of the view's columns, from its query run with LIMIT 0."""
    probe = exp.select("*").from_(query.copy().subquery("_sqlml_view")).limit(0)
    probe = expand_ml_views(probe, context.executor)
    probe = expand(probe, context.executor)
    result = run_sql(dataclasses.replace(context, plan=plan(probe), keep_result=True))
    try:
        empty = result.arrow()
    finally:
        result.close()
    with context.executor.engine.lease() as cursor:
        cursor.register(_SCHEMA_PROBE, empty)
        try:
            rows = cursor.execute(f"DESCRIBE SELECT * FROM {_SCHEMA_PROBE}").fetchall()
        finally:
            cursor.unregister(_SCHEMA_PROBE)
    return [(row[0], row[1]) for row in rows]


def _stored(cursor, table: exp.Table) -> tuple[str, str] | None:
    rows = cursor.execute(
        f"SELECT query, dialect FROM {CATALOG}.{ML_VIEWS_TABLE} WHERE table_schema = lower(?) AND table_name = lower(?)",
        [table.db, table.name],
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def forget(cursor: Cursor, ref: exp.Table) -> None:
    """Forget the stored query of view ``ref`` if it was an ML view (it was dropped or replaced)."""
    if ref.db and has_meta_table(cursor, ML_VIEWS.name):
        cursor.execute(
            f"DELETE FROM {CATALOG}.{ML_VIEWS_TABLE} WHERE table_schema = lower(?) AND table_name = lower(?)", [ref.db, ref.name]
        )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(ref: exp.Table) -> str:
    return f"{ref.db}.{ref.name}".replace("'", "''")
