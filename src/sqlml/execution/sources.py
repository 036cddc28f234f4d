"""Run ML table functions inside ordinary SQL by swapping them for registered Arrow sources.

DuckDB cannot call a Python table function, so a statement such as
``SELECT … FROM ML.PREDICT(MODEL m, (SELECT …)) JOIN …`` is run in two steps: each outermost
ML call is evaluated in Python — its data argument streamed out of DuckDB on a cursor of its own —
and its output (an Arrow table, or a one-pass record-batch reader for row-wise functions) is
registered under a fresh name on the cursor that runs the statement. The statement's tree then
reads that name instead of the ML call, so WHERE, JOIN, GROUP BY and LIMIT around it run in DuckDB.
ML calls nested in a data argument are handled the same way, one level down.

A function may instead return its rows as SQL (:class:`SqlOutput`, e.g. ML.PREDICT of a linear
model): a query over its data arguments, spliced into the statement as a subquery in the call's
place, with the arguments as written in theirs — DuckDB then computes the rows itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import Cursor, EngineError, Relation
from sqlml.errors import Error as SqlmlError, SqlSyntaxError, UnsupportedStatementError
from sqlml.execution.survey import Survey
from sqlml.sql.date_arithmetic import with_table_columns
from sqlml.sql.typed_columns import has_candidates
from sqlml.sql.expressions import MLFunction, unsupported_function_error, written_location
from sqlml.sql.transpile import parameter_names, to_duckdb
from sqlml.sql.unnest_columns import qualify_unnest_fields

if TYPE_CHECKING:
    import pyarrow as pa  # loaded when an ML function's rows are registered: a plain query needs no Arrow

#: ``memo(key, compute)``: ``compute()``, remembered under ``key`` (:meth:`~sqlml.engine.base.SqlEngine.memo`).
Memo = Callable[[Hashable, Callable[[], tuple]], tuple]

_names = itertools.count(1)
_DATA = "__sqlml_data_{}"


def data_table(index: int) -> exp.Table:
    """The table an :class:`SqlOutput` query reads its ``index``-th data argument from."""
    return exp.Table(this=exp.to_identifier(_DATA.format(index)))


@dataclass(frozen=True)
class SqlOutput:
    """An ML function's rows as a query the statement runs: ``query`` reads the call's data
    arguments as :func:`data_table` tables, which the renderer replaces with the arguments.

    It is generated with the rest of the statement, whichever dialect that is written in: build it
    from sqlglot nodes that mean the same in BigQuery and DuckDB, or carry DuckDB text generated
    beforehand as :class:`sqlglot.exp.Var` nodes (written out verbatim).
    """

    query: exp.Query


@dataclass
class SourceSet:
    """Registrations and side cursors a statement opened; closed together when it is done."""

    registrations: list[tuple[Cursor, str]] = field(default_factory=list)
    cursors: list[Cursor] = field(default_factory=list)
    #: Exceptions raised inside a registered reader while DuckDB consumed it. DuckDB keeps only
    #: their text, so the original (a sqlml error with its hint) is kept here to be re-raised.
    failures: list[BaseException] = field(default_factory=list)

    def register(self, cursor: Cursor, data: pa.Table | pa.RecordBatchReader) -> str:
        """Register ``data`` on ``cursor`` under a fresh name and return the name."""
        import pyarrow as pa

        name = f"__sqlml_source_{next(_names)}"
        if isinstance(data, pa.RecordBatchReader):
            data = pa.RecordBatchReader.from_batches(data.schema, self._guarded(data, contextvars.copy_context()))
        cursor.register(name, data)
        self.registrations.append((cursor, name))
        return name

    def _guarded(self, reader: pa.RecordBatchReader, context: contextvars.Context):
        """The batches of ``reader``, each read in (a copy of) ``context``, the registering
        statement's: DuckDB reads them on threads of its own, where settings of the statement's
        connection (such as ``compile=False``, :mod:`sqlml.ml.compiled.switch`) would be lost."""
        batches = iter(reader)
        try:
            while (batch := context.copy().run(next, batches, None)) is not None:
                yield batch
        except BaseException as error:
            self.failures.append(error)
            raise

    def original_error(self, error: BaseException) -> BaseException:
        """The exception a reader raised that caused DuckDB's ``error``, or ``error`` itself."""
        return self.failures[0] if self.failures else error

    def close(self) -> None:
        """Unregister every source and close every side cursor."""
        for cursor, name in reversed(self.registrations):
            with contextlib.suppress(EngineError):
                cursor.unregister(name)
        for cursor in self.cursors:
            with contextlib.suppress(EngineError):
                cursor.close()
        self.registrations.clear()
        self.cursors.clear()


class DataInput:
    """One data argument of an ML function (``TABLE t`` or ``(query)``), readable as Arrow.

    Args:
        sql: the DuckDB SQL of the data, ML calls already replaced.
        cursor: a side cursor reserved for reading it.
        params: parameter values the SQL needs.
    """

    def __init__(self, sql: str, cursor: Cursor, params: Mapping | None):
        self.sql = sql
        self.cursor = cursor
        self.params = dict(params) if params else None

    def relation(self, sql: str | None = None) -> Relation:
        """A pending relation over the data, or over ``sql`` that reads it as ``__data``."""
        if sql is None:
            return self.cursor.sql(self.sql, params=self.params)
        return self.cursor.sql(f"WITH __data AS ({self.sql}) {sql}", params=self.params)

    @property
    def schema(self) -> pa.Schema:
        """Column names and Arrow types of the data, without reading it."""
        return self.relation().arrow_schema

    def reader(self, batch_size: int = 122_880) -> pa.RecordBatchReader:
        """Stream the rows in batches (at most 122,880 rows each, DuckDB's cap)."""
        return self.relation().to_arrow_reader(batch_size)

    def table(self) -> pa.Table:
        """All rows in memory."""
        return self.relation().to_arrow_table()


class CopiedInput(DataInput):
    """A data argument of a statement in the session's open transaction. Only the statement's
    cursor sees the rows the transaction wrote, and it runs one query at a time: the rows are read
    whole there on first use (not at all when the function only asks for the schema), and the side
    cursor reads that copy.

    Args:
        sql: the DuckDB SQL of the data, for the statement's cursor.
        params: parameter values the SQL needs.
        cursor: the statement's cursor.
        side: the side cursor that reads the copy.
        sources: where the copy is registered.
    """

    def __init__(self, sql: str, params: Mapping | None, cursor: Cursor, side: Cursor, sources: SourceSet):
        super().__init__(sql, side, params)
        self.statement_cursor, self.sources, self.copied = cursor, sources, False

    def relation(self, sql: str | None = None) -> Relation:
        """A pending relation over the copy (made now if not yet), or over ``sql`` reading it as ``__data``."""
        if not self.copied:
            rows = self.statement_cursor.sql(self.sql, params=self.params).to_arrow_table()
            self.sql, self.params, self.copied = f"SELECT * FROM {self.sources.register(self.cursor, rows)}", None, True
        return super().relation(sql)

    @property
    def schema(self) -> pa.Schema:
        """Column names and Arrow types of the data, without reading it."""
        if self.copied:
            return super().schema
        return self.statement_cursor.sql(self.sql, params=self.params).arrow_schema


class Renderer:
    """Turns a statement tree into DuckDB SQL, evaluating its ML calls on the way.

    Args:
        evaluate: runs one ML call: ``evaluate(node, inputs, params) -> Arrow table or reader``,
            where ``inputs`` are the call's :class:`DataInput` objects, in order.
        new_cursor: opens a side cursor on the warehouse.
        params: the statement's parameter values by name.
        from_bigquery: the SQL was written for BigQuery (see :func:`~sqlml.sql.transpile.to_duckdb`).
        in_transaction: the statement runs in the session's open transaction (see :meth:`data_input`).
        session_cursor: the session's own cursor, for data that reads the session's TEMP tables or functions.
        memo: remembers the columns of the tables DATE arithmetic is typed from (``memo(key,
            compute)``, :meth:`~sqlml.engine.base.SqlEngine.memo`, forgotten after a statement that
            may change the catalog); None to bind them for each statement (in a transaction, whose
            uncommitted DDL other sessions must not see remembered).
    """

    def __init__(self, evaluate: Callable, new_cursor: Callable[[], Cursor], params: Mapping | None, *,
                 from_bigquery: bool = True, in_transaction: bool = False,
                 session_cursor: Callable[[], Cursor] | None = None, memo: Memo | None = None):  # fmt: skip
        self.memo = memo
        self.evaluate = evaluate
        self.new_cursor = new_cursor
        self.session_cursor = session_cursor
        self.params = params or {}
        self.from_bigquery = from_bigquery
        self.in_transaction = in_transaction

    def render(self, tree: exp.Expression, cursor: Cursor, sources: SourceSet, survey: Survey | None = None) -> tuple[str, dict]:
        """DuckDB SQL for ``tree`` and the parameter values it reads.

        Each outermost ML call is evaluated and registered on ``cursor`` first (in a copy of
        ``tree``, which is left as it is). ``survey``: the executor's survey of the statement,
        used when it is of ``tree`` itself and still holds.
        """
        # one walk tells which of the steps below have work (most statements call no ML function
        # and hold no + or -), and the date typing what it reads, instead of each step walking
        # the whole tree to find out; the executor's walk of the statement, when this is its tree
        if survey is None or survey.tree is not tree or survey.stale:
            survey = Survey(tree)
        calls = _outermost_ml_calls(tree) if any(issubclass(kind, MLFunction) for kind in survey.kinds) else []
        if calls:
            tree = tree.copy()
            calls = _outermost_ml_calls(tree)
        for node in calls:
            holder = node.parent
            if not (isinstance(holder, exp.Table) and holder.this is node):
                raise SqlSyntaxError(
                    f"ML.{node.function_name} is a table function; use it in FROM, e.g. "
                    f"SELECT * FROM ML.{node.function_name}(…)",
                )
            if not node.supported:
                raise unsupported_function_error(node)
            inputs = [self.data_input(arg, node, sources, cursor) for arg in node.data_arguments]
            try:
                output = self.evaluate(node, inputs, self.params)
            except UnsupportedStatementError as error:
                raise error.with_location(written_location(node)) if error.location is None else error
            if isinstance(output, SqlOutput):
                holder.replace(_spliced(output.query, node, holder))
                continue
            name = sources.register(cursor, output)
            holder.set("this", exp.to_identifier(name))
            holder.set("db", None)
            holder.set("catalog", None)
        if calls and _outermost_ml_calls(tree):  # ML calls inside data arguments an SqlOutput put in place
            return self.render(tree, cursor, sources)
        if self.from_bigquery and exp.Unnest in survey.kinds:
            # an aliased UNNEST's STRUCT fields named without the alias, told from the bound types
            qualified = qualify_unnest_fields(tree, functools.partial(_bound_query, cursor, self.params))
            stale, tree = qualified is not tree, qualified  # the survey does not hold for a qualified copy
        else:
            stale = False
        values = {name: self.params[name] for name in parameter_names(tree) if name in self.params} if self.params else {}
        if self.from_bigquery and (calls or any(issubclass(kind, (exp.Add, exp.Sub)) for kind in survey.kinds) or has_candidates(survey.kinds)):
            # DATE ± INT64 typed from the columns the statement reads (the cursor knows them); the
            # survey holds for the tree unless ML calls were replaced in it
            columns = functools.partial(_bound_columns, cursor)
            columns = columns if self.memo is None else functools.partial(_remembered_columns, self.memo, columns)
            tree = with_table_columns(tree, columns, None if calls or stale else survey, intervals=cursor.types_intervals)
        return to_duckdb(tree, from_bigquery=self.from_bigquery), values

    def data_input(self, argument: exp.Expression, call: MLFunction | None, sources: SourceSet, cursor: Cursor | None = None) -> DataInput:
        """A :class:`DataInput` reading one data argument of ``call`` on a fresh side cursor.

        ``call`` is None for a standalone query (CREATE MODEL's AS clause). In the session's open
        transaction, only the statement's ``cursor`` sees the rows the transaction wrote, and it
        runs one query at a time: there the data is read whole when first read
        (:class:`CopiedInput`), and the side cursor reads that copy. The same holds for data that
        the side cursor cannot bind because it reads the session's own state, which lives in the
        session's cursor only: a script's TEMP table (``CREATE TEMP TABLE t …; … TABLE t``) or
        TEMP function (``CREATE TEMP FUNCTION f …; … (SELECT f(x) …)``).
        """
        query = _as_query(argument, call)
        side = self.new_cursor()
        sources.cursors.append(side)
        if self.in_transaction and cursor is not None:
            return self._copied(query, cursor, side, sources)
        sql, values = self.render(query, side, sources)
        session = cursor if cursor is not None else self.session_cursor() if self.session_cursor is not None else None
        if session is not None and not _binds(side, sql, values):
            return self._copied(query, session, side, sources)
        return DataInput(sql, side, values)

    def _copied(self, query: exp.Query, cursor: Cursor, side: Cursor, sources: SourceSet) -> CopiedInput:
        sql, values = self.render(query, cursor, sources)
        return CopiedInput(sql, values, cursor, side, sources)


def _bound_columns(cursor: Cursor, dataset: str | None, name: str) -> list[tuple[str, str]]:
    """``(column, engine type)`` of the table or view ``dataset.name`` as ``cursor`` resolves the
    name, from binding ``SELECT *`` on it (nothing runs; ~5x cheaper than a catalog query); none
    when it does not bind."""
    try:
        relation = cursor.sql(exp.select("*").from_(exp.table_(name, db=dataset, quoted=True)).sql(dialect="duckdb"))
    except EngineError:
        return []
    return list(zip(relation.columns, relation.types))


def _bound_query(cursor: Cursor, params: Mapping, query: exp.Select) -> list[tuple[str, str]] | None:
    """``(column, engine type)`` of the BigQuery ``query`` (with the values of the parameters it
    reads) as ``cursor`` binds it (nothing runs); None when it does not bind."""
    values = {name: params[name] for name in parameter_names(query) if name in params} if params else {}
    try:
        relation = cursor.sql(to_duckdb(query), params=values or None)
    except (EngineError, SqlmlError):
        return None
    return list(zip(relation.columns, map(str, relation.types)))


def _remembered_columns(memo: Memo, bound: Callable[[str | None, str], list], dataset: str | None, name: str) -> tuple[tuple[str, str], ...]:
    """``bound(dataset, name)`` remembered under the table's name until the catalog may have
    changed, so that a statement run again does not bind ``SELECT *`` on its tables again. An
    unqualified name is bound each time: it may be a TEMP table or registered data of one session,
    and what ``memo`` remembers is shared by the sessions of a warehouse."""
    if dataset is None:
        return tuple(bound(dataset, name))
    return memo(("bound_columns", dataset, name), lambda: tuple(bound(dataset, name)))


def _binds(cursor: Cursor, sql: str, values: Mapping) -> bool:
    """Whether ``cursor`` can bind ``sql`` (names every table and function it reads); runs nothing."""
    try:
        cursor.sql(sql, params=values or None)
    except EngineError:
        return False
    return True


def _spliced(query: exp.Query, call: MLFunction, holder: exp.Table) -> exp.Subquery:
    """``query`` with the call's data arguments in place of its :func:`data_table` tables, as the
    subquery that replaces ``holder`` (the call in FROM, under the call's alias if it has one)."""
    query = query.copy()
    arguments = {_DATA.format(i): argument for i, argument in enumerate(call.data_arguments)}
    for table in list(query.find_all(exp.Table)):
        argument = arguments.get(table.name) if not table.db else None
        if argument is not None:
            alias = table.args.get("alias")
            inner = argument.this if isinstance(argument, exp.Subquery) else argument
            source = inner.copy() if isinstance(inner, exp.Table) else exp.Subquery(this=inner.copy())
            source.set("alias", alias.copy() if alias else None)
            table.replace(source)
    alias = holder.args.get("alias") or exp.TableAlias(this=exp.to_identifier(f"__sqlml_source_{next(_names)}"))
    return exp.Subquery(this=query, alias=alias.copy())


def _outermost_ml_calls(tree: exp.Expression) -> list[MLFunction]:
    calls = []
    for node in tree.find_all(MLFunction):
        parent = node.parent
        while parent is not None and not isinstance(parent, MLFunction):
            parent = parent.parent
        if parent is None:
            calls.append(node)
    return calls


def _as_query(argument: exp.Expression, call: MLFunction | None) -> exp.Query:
    """The data argument as a standalone query, with the enclosing CTEs it reads."""
    if isinstance(argument, exp.Subquery):
        query = argument.this.copy()
    elif isinstance(argument, exp.Query):
        query = argument.copy()
    else:
        query = exp.select("*").from_(argument.copy())
    ctes = _visible_ctes(call)
    needed = _needed_ctes(query, ctes)
    if needed:
        existing = query.args.get("with_")
        own = list(existing.expressions) if existing else []
        query.set("with_", exp.With(expressions=[ctes[n].copy() for n in needed] + own))
    return query


def _visible_ctes(node: exp.Expression | None) -> dict[str, exp.CTE]:
    ctes: dict[str, exp.CTE] = {}
    parent = node.parent if node is not None else None
    while parent is not None:
        with_ = parent.args.get("with_") if isinstance(parent, exp.Query) else None
        if with_ is not None:
            for cte in with_.expressions:
                ctes.setdefault(cte.alias_or_name.lower(), cte)
        parent = parent.parent
    return ctes


def _needed_ctes(query: exp.Expression, ctes: dict[str, exp.CTE]) -> list[str]:
    """CTE names ``query`` reads, directly or through other CTEs, dependencies first."""
    needed: list[str] = []

    def visit(tree: exp.Expression) -> None:
        for table in tree.find_all(exp.Table):
            name = table.name.lower()
            if not table.db and name in ctes and name not in needed:
                visit(ctes[name].this)
                needed.append(name)

    visit(query)
    return needed
