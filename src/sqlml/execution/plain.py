"""Run a statement as the engine's SQL: the handler of every kind no other module owns, and the
one other handlers call for the statement itself (after or around their own bookkeeping)."""

from __future__ import annotations

import contextlib

from sqlglot import exp

from sqlml.engine.base import Cursor, EngineError, SqlEngine
from sqlml.engine.errors import translate, translate_foreign
from sqlml.errors import Cancelled, Error, Location, TransactionError
from sqlml.execution.context import StatementContext, atomic, ended_by_error
from sqlml.execution.known import run_known
from sqlml.execution.sources import SourceSet
from sqlml.result import Result
from sqlml.sql import known_statements
from sqlml.sql.known_statements import Known
from sqlml.sql.planner import StatementKind


def positional_name(number: int) -> str:
    """The name the ``number``-th positional ``?`` parameter is bound under."""
    return f"__p{number}"


def to_duckdb_parameters(tree: exp.Expression) -> exp.Expression:
    """A copy of ``tree`` with its positional ``?`` placeholders numbered as ``$__p1, $__p2 …``,
    so that all values bind by name."""
    counter = 0

    def number(node: exp.Expression) -> exp.Expression:
        nonlocal counter
        if isinstance(node, exp.Placeholder) and not node.this:
            counter += 1
            return exp.Parameter(this=exp.var(positional_name(counter)))
        return node

    return tree.transform(number)


def run_sql(context: StatementContext) -> Result:
    """Run a plain SQL statement (ML calls inside it included) on the engine."""
    executor, statement = context.executor, context.plan
    warehouse = executor.engine
    warehouse.acquire()
    sources = context.sources
    try:
        cursor = warehouse.cursor()
        # the executor gave the statement's ? parameters their names; without them it has none
        tree = to_duckdb_parameters(statement.tree) if positional_name(1) in context.params else statement.tree
        sql, values = executor.renderer(context.params).render(tree, cursor, sources, context.survey)
        values = values or None
        _stop_if_cancelled(context)
        if statement.returns_rows:
            relation = cursor.sql(sql, params=values)
            if context.keep_result:
                handed_over = sources
                result = Result(
                    relation=relation,
                    statement=statement.verb,
                    on_close=lambda: _finish(handed_over, warehouse),
                    on_error=lambda error: _lazy_error(error, handed_over, context),
                )
                context.sources, sources = SourceSet(), None
                return result
            relation.to_arrow_table()
            return Result.empty(statement.verb)
        if context.returning is not None:
            return context.returning(cursor.execute(sql, values))
        with _own_transaction(context, cursor):
            rows = cursor.execute(sql, values).fetchall()
        rowcount = rows[0][0] if statement.kind is StatementKind.DML and rows and isinstance(rows[0][0], int) else -1
        return Result.empty(statement.verb, rowcount)
    except EngineError as error:
        if sources is not None and sources.failures:
            raise sources.original_error(error) from None
        raise
    finally:
        if sources is not None:
            _finish(sources, warehouse)


def run_remembered(context: StatementContext, script: str) -> Result:
    """Run a query whose DuckDB text its own text decides (:func:`known_statements.text_alone_decides`,
    the whole ``script``) as a later run of ``script`` will (:func:`run_known`), and remember the text.

    What :func:`run_sql` does for such a query — no ML calls, no parameters — in the form a
    remembered statement runs, so that both runs behave the same.
    """
    executor = context.executor
    with executor.engine.lease() as cursor:  # rendered as run_sql renders it (no ML call: the cursor stays unused)
        sql, _ = executor.renderer(context.params).render(context.plan.tree, cursor, context.sources, context.survey)
    known = Known(sql, context.plan.verb)
    _stop_if_cancelled(context)
    result = run_known(executor.engine, known, lambda error: read_error(error, context.plan.tree, context.location))
    known_statements.remember(script, executor.dialect, known)
    return result


def read_error(error: BaseException, tree: exp.Expression, location: Location) -> BaseException:
    """The sqlml error for a failure while the rows of the statement ``tree`` (at ``location``) were read."""
    if isinstance(error, Error):
        return error.with_location(location)
    if isinstance(error, EngineError):
        return translate(error, tree, location.source_line or "", location)
    return translate_foreign(error, location)


def _own_transaction(context: StatementContext, cursor: Cursor) -> contextlib.AbstractContextManager:
    """DDL outside any transaction (ALTER TABLE/VIEW, CREATE/DROP SCHEMA, CREATE/DROP FUNCTION…)
    runs in a transaction of its own rather than DuckDB's autocommit, whose commit an interrupt can
    follow before the call returns: the statement would report a cancel with its change kept.
    :func:`~sqlml.execution.context.atomic` undoes it or completes the statement.

    Not for the engine's own statements (ATTACH, CHECKPOINT…: DuckDB refuses some inside one), nor
    for DML, which runs here only on a TEMP table (the session's, not the warehouse's): the two
    more engine calls cost ~0.7 ms CPU a statement (about a third of a TEMP INSERT's), and a loop
    of them in a script is common."""
    if context.plan.kind in (StatementKind.ENGINE_NATIVE, StatementKind.DML, StatementKind.TRUNCATE_TABLE):
        return contextlib.nullcontext()
    return atomic(context.executor, cursor)


def _stop_if_cancelled(context: StatementContext) -> None:
    if context.executor.cancel.is_set():
        # DuckDB forgets an interrupt that arrives while none of its queries runs (the next
        # one clears it): one that came while the statement was being prepared stops it here.
        raise Cancelled("The statement was cancelled; nothing it started was kept.")


def run_transaction(context: StatementContext) -> Result:
    """BEGIN opens the connection's one transaction, which keeps the warehouse leased until COMMIT
    or ROLLBACK (from any thread), across query() calls; see :meth:`~sqlml.engine.base.SqlEngine.begin`."""
    warehouse, tree = context.executor.engine, context.plan.tree
    warehouse.acquire()
    try:
        rolled_back = ended_by_error(context.executor)
        if isinstance(tree, exp.Transaction):
            if not warehouse.begin():
                raise TransactionError("A transaction is already open; transactions do not nest.", hint="COMMIT or ROLLBACK it first.")
        elif not warehouse.end(commit=isinstance(tree, exp.Commit)):
            _refuse_end(isinstance(tree, exp.Commit), rolled_back)
    finally:
        _finish(context.sources, warehouse)
    return Result.empty(context.plan.verb)


def _refuse_end(commit: bool, rolled_back: bool) -> None:
    # A ROLLBACK after the statement whose failure rolled the transaction back (an exception
    # handler's) has nothing left to do; a COMMIT there would keep what BigQuery keeps, the
    # statements before the failed one, which DuckDB has dropped.
    if rolled_back and not commit:
        return
    if rolled_back:
        raise TransactionError(
            "COMMIT after a failed statement: its failure rolled the transaction back, so nothing is left to commit.",
            hint="ROLLBACK TRANSACTION in the exception handler, or run the statements again in a new transaction.",
        )
    verb = "COMMIT" if commit else "ROLLBACK"
    raise TransactionError(f"{verb} without an open transaction.", hint="Start one with BEGIN TRANSACTION.")


def _lazy_error(error: BaseException, sources: SourceSet, context: StatementContext) -> BaseException:
    """The sqlml error for a failure while a returned result was being read."""
    return read_error(sources.original_error(error), context.plan.tree, context.location)


def _finish(sources: SourceSet, warehouse: SqlEngine) -> None:
    try:
        sources.close()
    finally:  # interrupted while closing them (Ctrl-C lands in DuckDB's unregister), the file is still given back
        warehouse.release()
