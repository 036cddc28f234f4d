"""Views: ``CREATE VIEW`` and ``DROP VIEW``.

A view is the engine's own, unless its query reads ML functions (or an ML view, or a wildcard
table): then :mod:`~sqlml.warehouse.ml_views` keeps it. Its OPTIONS(description=…) is kept by
:mod:`~sqlml.warehouse.view_options`. Replacing or dropping a view forgets the query an ML view of
that name had and the description it had.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_view_statement
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.execution.context import StatementContext, atomic
from sqlml.execution.plain import run_sql
from sqlml.result import Result
from sqlml.warehouse import ml_views, view_options
from sqlml.warehouse.meta import relation_exists


def create_view(context: StatementContext) -> Result:
    """CREATE [OR REPLACE] VIEW: the engine's view, or an ML view if its query reads ML functions."""
    tree = context.plan.tree
    executor = context.executor
    description = view_options.description_of(tree)
    ref = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    with executor.engine.lease() as cursor:
        kept = tree.args.get("exists") and relation_exists(cursor, ref.db, ref.name, tables=False)
        with atomic(executor, cursor):
            if ml_views.reads_ml(executor.engine, cursor, tree.expression):
                result = ml_views.create_ml_view(context, cursor)
            else:
                result = run_sql(context)
                if not kept:
                    ml_views.forget(cursor, ref)
            if not kept and ref.db:
                view_options.record(executor.engine, cursor, ref, description)
        return result


def drop_view(context: StatementContext) -> Result:
    """DROP VIEW, forgetting an ML view's query and the view's description."""
    executor = context.executor
    with executor.engine.lease() as cursor, atomic(executor, cursor):
        result = run_sql(context)
        for ref in context.plan.tree.args.get("tables") or [context.plan.tree.this]:
            ml_views.forget(cursor, ref)
            view_options.forget(cursor, ref)
    return result
