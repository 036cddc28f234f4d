"""Run scripts: statement by statement, SQL on DuckDB, ML work in Python, errors translated once.

The executor is the boundary where foreign exceptions (sqlglot's, DuckDB's) become sqlml errors
that carry the statement's number, line and column. Statement kinds other than plain SQL are
dispatched to handlers (``CREATE MODEL`` to :mod:`sqlml.ml`, procedural blocks to
:mod:`sqlml.script`), registered in :data:`HANDLERS` by the modules that own them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from sqlml.engine.errors import translate, translate_foreign
from sqlml.execution.sources import Renderer, SourceSet
from sqlml.engine.warehouse import CATALOG, Warehouse
from sqlml.errors import Error, Location, ParameterError, TransactionError, UnsupportedStatementError
from sqlml.result import Result
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.planner import Plan, StatementKind, plan
from sqlml.sql.script import PROCEDURAL_VERBS, Node, ScriptParser, Statement, location_of
from sqlml.sql.transpile import parameters


@dataclass
class StatementContext:
    """What a handler needs to run one statement.

    Attributes:
        executor: the executor running it.
        plan: the classified statement.
        params: named parameter values (``@name``) visible to the statement.
        location: where the statement starts, for errors.
        keep_result: whether the caller wants its rows (it is the script's last statement).
        returning: for a DML statement a handler gave a RETURNING clause: turns the executed
            cursor (its returned rows) into the statement's result.
        script: the whole script text the statement's syntax tree positions refer to, so that
            a handler can point an error at the part of the statement at fault.
    """

    executor: "Executor"
    plan: Plan
    params: dict
    location: Location
    keep_result: bool
    sources: SourceSet = field(default_factory=SourceSet)
    returning: Callable[[duckdb.DuckDBPyConnection], Result] | None = None
    script: str = ""


Handler = Callable[[StatementContext], Result]

#: ``(applies, handler)`` pairs tried in order; the first whose ``applies(context)`` is true runs
#: the statement, else it runs as plain SQL. Modules that own a statement add theirs with
#: :func:`register_handler`.
HANDLERS: list[tuple[Callable[[StatementContext], bool], Handler]] = []
#: Tree rewrites applied to every statement before it is planned (``rewrite(tree, executor)``),
#: e.g. expanding views that call ML functions; added with :func:`register_rewrite`.
REWRITES: list[Callable[[exp.Expression, "Executor"], exp.Expression]] = []
#: ``(wants, run)``: ``run(executor, node, run, keep_result)`` runs procedural nodes (blocks,
#: loops, DECLARE…) and the plain statements for which ``wants(executor, node)`` is true (they
#: may read script variables); set by :mod:`sqlml.script`.
SCRIPT_RUNNER: list[tuple[Callable, Callable]] = []
#: Modules that register handlers and rewrites, imported when the first executor is made.
EXTENSIONS = ("sqlml.warehouse.default_dataset", "sqlml.ml.training.model_ddl", "sqlml.ml.preprocessing.manual", "sqlml.ml.training.export_model", "sqlml.script", "sqlml.warehouse.information_schema", "sqlml.warehouse.partitions",
              "sqlml.warehouse.dml", "sqlml.warehouse.materialized_views", "sqlml.warehouse.ml_views", "sqlml.warehouse.wildcard_tables")


def register_handler(applies: Callable[[StatementContext], bool], handler: Handler) -> None:
    """Let ``handler`` run the statements for which ``applies(context)`` is true."""
    HANDLERS.append((applies, handler))


def register_rewrite(rewrite: Callable[[exp.Expression, "Executor"], exp.Expression]) -> None:
    """Apply ``rewrite(tree, executor)`` to every statement before it is planned."""
    REWRITES.append(rewrite)


def handles(*kinds: StatementKind) -> Callable[[StatementContext], bool]:
    """An ``applies`` predicate matching statements of the given kinds."""
    return lambda context: context.plan.kind in kinds


def _load_extensions() -> None:
    import importlib

    for name in EXTENSIONS:
        importlib.import_module(name)


class Executor:
    """Runs scripts for one connection.

    Args:
        warehouse: the connection's warehouse.
        models: the model store (see :mod:`sqlml.store`).
        dialect: ``"bigquery"`` or ``"duckdb"``: how the SQL is written.
    """

    def __init__(self, warehouse: Warehouse, models, dialect: str = "bigquery"):
        if dialect not in DIALECTS:
            raise ParameterError(f"Unknown dialect {dialect!r}.", hint=f"Use one of: {', '.join(DIALECTS)}.")
        self.warehouse = warehouse
        self.models = models
        self.dialect = dialect
        self.session: dict = {}
        #: Set by :meth:`sqlml.Connection.interrupt`; long work (training) checks it between steps.
        self.cancel = threading.Event()
        self._local = threading.local()
        if not _extensions_loaded:
            _load_extensions()
            _extensions_loaded.append(True)

    @property
    def dialect_class(self):
        """The sqlglot dialect class scripts are parsed with."""
        return DIALECTS[self.dialect]

    # -- scripts -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Mapping | Sequence | None = None, path: str | None = None) -> Result:
        """Run every statement of ``sql``; return the last statement's result.

        Raises:
            Error: the first statement that fails, with its number, line and column.
        """
        self.cancel.clear()
        if not isinstance(sql, str):
            hint = "Decode it first: sql.decode('utf-8')." if isinstance(sql, (bytes, bytearray)) else None
            raise ParameterError(f"The SQL must be text (a str), not {type(sql).__name__}.", hint=hint)
        named, positional = _split_params(params)
        result, node, parser = Result.empty(), None, None
        try:
            parser = ScriptParser(sql, self.dialect_class, path)
            nodes = parser.nodes()
            parser.parse_all(nodes)  # a syntax error anywhere: nothing runs
            run = _Run(parser=parser, named=named, positional=list(positional))
            for index, node in enumerate(nodes):
                result.close()
                result = self.execute_node(node, run, keep_result=index == len(nodes) - 1)
        except BaseException as error:
            rollback(self)  # a script that fails inside a transaction rolls it back
            if isinstance(error, Error) or not isinstance(error, Exception):
                raise
            # Only sqlml errors leave: what the procedural runner raised outside a statement
            where = location_of(node.first, parser.sql, node.number, path) if node else Location(path=path)
            if isinstance(error, duckdb.Error):
                raise translate(error, None, parser.sql, where, self.known_tables) from error
            raise translate_foreign(error, where) from error
        return result

    def execute_node(self, node: Node, run: "_Run", keep_result: bool) -> Result:
        """Run one top-level node of a script."""
        procedural = not isinstance(node, Statement) or node.verb in PROCEDURAL_VERBS
        if procedural or any(wants(self, node) for wants, _ in SCRIPT_RUNNER):
            if not SCRIPT_RUNNER:
                raise UnsupportedStatementError(
                    "Procedural statements are not available.",
                    location=location_of(node.first, run.parser.sql, node.number, run.parser.path),
                )
            return SCRIPT_RUNNER[0][1](self, node, run, keep_result)
        tree = run.parser.parse_statement(node)
        return self.execute_tree(tree, node, run, keep_result)

    def execute_tree(self, tree: exp.Expression, node: Node, run: "_Run", keep_result: bool, params=None) -> Result:
        """Run one parsed statement; ``params`` adds named values (script variables)."""
        location = location_of(node.first, run.parser.sql, node.number, run.parser.path)
        try:
            for rewrite in REWRITES:
                tree = rewrite(tree, self)
            values = self._bind(tree, run, params)
            context = StatementContext(self, plan(tree), values, location, keep_result, script=run.parser.sql)
            handler = next((h for applies, h in HANDLERS if applies(context)), run_sql)
            try:
                result = handler(context)
            except BaseException:
                self.warehouse.forget_memos()  # a rolled-back write may have undone what was remembered
                raise
            # What the rewrites remember (sqlml_meta's specs) changes with DDL, transactions and
            # handlers' own statements, never with a user's INSERT/UPDATE/DELETE/MERGE.
            if context.plan.kind not in (StatementKind.QUERY, StatementKind.DML):
                self.warehouse.forget_memos()
            return result
        except Error as error:
            raise error.with_location(location) from None
        except duckdb.Error as error:
            rollback(self)  # translating the error may query the catalog, which an aborted transaction refuses
            raise translate(error, tree, run.parser.sql, location, self.known_tables) from None
        except Exception as error:  # a limit of a library underneath, or a bug: still a sqlml error
            raise translate_foreign(error, location) from error

    def _bind(self, tree: exp.Expression, run: "_Run", extra: Mapping | None) -> dict:
        values = dict(extra or {})
        names, count = parameters(tree)
        for name in names:
            if name in values:
                continue
            if name not in run.named:
                raise ParameterError(
                    f"The query parameter @{name} has no value.",
                    hint=f"Pass it, e.g. query(sql, params={{'{name}': …}}) or --param {name}=….",
                )
            values[name] = run.named[name]
        if count:
            if len(run.positional) < count:
                raise ParameterError(
                    f"The statement has {count} positional parameter(s) (?) but only "
                    f"{len(run.positional)} value(s) are left.",
                    hint="Pass one value per ? in params=[…], in order.",
                )
            values.update({_positional(k): v for k, v in enumerate(run.positional[:count], 1)})
            del run.positional[:count]
        return values

    # -- helpers for handlers ----------------------------------------------------------------

    def renderer(self, params: Mapping | None) -> Renderer:
        """A :class:`Renderer` that evaluates ML calls with this executor's model store."""
        return Renderer(
            self.evaluate_ml_call, self.warehouse.new_cursor, params, from_bigquery=self.dialect == "bigquery",
            in_transaction=self.warehouse.in_transaction,
        )  # fmt: skip

    def evaluate_ml_call(self, node, inputs, params):
        """Evaluate one ML table-function call (see :mod:`sqlml.ml.functions`)."""
        from sqlml.ml import functions

        return functions.run(self, node, inputs, params)

    def known_tables(self) -> list[str]:
        """``dataset.table`` names of every table and view in the warehouse, for hints."""
        with self.warehouse.lease() as cursor:
            rows = cursor.sql(
                f"SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = '{CATALOG}' "
                f"UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() "
                f"WHERE database_name = '{CATALOG}' AND NOT internal"
            ).fetchall()
        return [row[0] for row in rows]


_extensions_loaded: list[bool] = []


@dataclass
class _Run:
    """State of one script run: its parser and the parameters still to bind."""

    parser: ScriptParser
    named: dict
    positional: list


def _split_params(params) -> tuple[dict, Sequence]:
    if params is None:
        return {}, ()
    if isinstance(params, Mapping):
        return dict(params), ()
    if isinstance(params, (list, tuple)):
        return {}, params
    raise ParameterError(
        f"params must be a dict (for @name) or a list (for ?), not {type(params).__name__}.",
    )


def _positional(number: int) -> str:
    """The name the ``number``-th positional ``?`` parameter is bound under."""
    return f"__p{number}"


def to_duckdb_parameters(tree: exp.Expression) -> exp.Expression:
    """A copy of ``tree`` with its positional ``?`` placeholders numbered as ``$__p1, $__p2 …``,
    so that all values bind by name."""
    counter = 0

    def number(node):
        nonlocal counter
        if isinstance(node, exp.Placeholder) and not node.this:
            counter += 1
            return exp.Parameter(this=exp.var(_positional(counter)))
        return node

    return tree.transform(number)


def run_sql(context: StatementContext) -> Result:
    """Run a plain SQL statement (ML calls inside it included) on DuckDB."""
    executor, statement = context.executor, context.plan
    warehouse = executor.warehouse
    warehouse.acquire()
    sources = context.sources
    try:
        cursor = warehouse.cursor()
        # _bind gave the statement's ? parameters their names; without them it has none
        tree = to_duckdb_parameters(statement.tree) if _positional(1) in context.params else statement.tree
        sql, values = executor.renderer(context.params).render(tree, cursor, sources)
        values = values or None
        if statement.kind is StatementKind.TRANSACTION:
            return _run_transaction(context, cursor, sql)
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
        rows = cursor.execute(sql, values).fetchall()
        rowcount = rows[0][0] if statement.kind is StatementKind.DML and rows and isinstance(rows[0][0], int) else -1
        return Result.empty(statement.verb, rowcount)
    except duckdb.Error as error:
        if sources is not None and sources.failures:
            raise sources.original_error(error) from None
        raise
    finally:
        if sources is not None:
            _finish(sources, warehouse)


def _lazy_error(error: BaseException, sources: SourceSet, context: StatementContext) -> BaseException:
    """The sqlml error for a failure while a returned result was being read."""
    original = sources.original_error(error)
    if isinstance(original, Error):
        return original.with_location(context.location)
    if isinstance(original, duckdb.Error):
        return translate(original, context.plan.tree, context.location.source_line or "", context.location)
    return translate_foreign(original, context.location)


def _finish(sources: SourceSet, warehouse: Warehouse) -> None:
    sources.close()
    warehouse.release()


def _run_transaction(context: StatementContext, cursor, sql: str) -> Result:
    """BEGIN opens the connection's one transaction, which keeps the warehouse leased until COMMIT
    or ROLLBACK (from any thread), across query() calls; see :meth:`Warehouse.begin`."""
    warehouse, tree = context.executor.warehouse, context.plan.tree
    if isinstance(tree, exp.Transaction):
        if not warehouse.begin():
            raise TransactionError("A transaction is already open; transactions do not nest.", hint="COMMIT or ROLLBACK it first.")
    elif not warehouse.end(commit=isinstance(tree, exp.Commit)):
        verb = "COMMIT" if isinstance(tree, exp.Commit) else "ROLLBACK"
        raise TransactionError(f"{verb} without an open transaction.", hint="Start one with BEGIN TRANSACTION.")
    return Result.empty(context.plan.verb)


def in_transaction(executor: Executor) -> bool:
    """Whether the statement running on this thread runs in the connection's open transaction."""
    return executor.warehouse.in_transaction


def in_transaction_block(executor: Executor) -> bool:
    """Whether this thread's statement already runs in a transaction: the connection's open one,
    or a handler's :func:`atomic` block."""
    return in_transaction(executor) or getattr(executor._local, "atomic", False)


@contextlib.contextmanager
def atomic(executor: Executor, cursor: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run a handler's several statements as one DuckDB transaction: all of them or none.

    Inside the user's open transaction, or another handler's ``atomic`` block, the enclosing
    transaction already covers them and nothing is started.
    """
    local = executor._local
    if in_transaction_block(executor):
        yield
        return
    local.atomic = True
    cursor.execute("BEGIN TRANSACTION")
    try:
        yield
        cursor.execute("COMMIT")
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    finally:
        local.atomic = False


def rollback(executor: Executor) -> None:
    """Roll back the open transaction after a statement in it failed (no-op outside one)."""
    if in_transaction(executor):
        with contextlib.suppress(duckdb.Error):
            executor.warehouse.end(commit=False)
