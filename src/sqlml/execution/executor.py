"""Run scripts: statement by statement through the statement table, errors translated once.

The executor is the boundary where foreign exceptions (sqlglot's, the engine's) become sqlml
errors that carry the statement's number, line and column. It parses a script, applies the
table's rewrites to each statement, plans it (:mod:`sqlml.sql.planner`) and hands it to the
handler of its kind; procedural nodes go to the script interpreter. What runs each kind is the
:class:`~sqlml.execution.context.StatementTable` it is given (:mod:`sqlml.statement_table`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import EngineError, SqlEngine
from sqlml.engine.errors import translate, translate_foreign
from sqlml.errors import Error, Location, ParameterError
from sqlml.execution.context import ScriptRun, StatementContext, StatementTable, in_transaction_block, rollback
from sqlml.execution.plain import positional_name, read_error, run_remembered, run_sql
from sqlml.execution.sources import DataInput, Renderer, SqlOutput
from sqlml.execution.survey import Survey, survey_of
from sqlml.result import Result
from sqlml.sql.diagnostics import location_of
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.known_statements import text_alone_decides
from sqlml.sql.nodes import Node
from sqlml.sql.parsed_scripts import parse_script
from sqlml.sql.planner import StatementKind, node_kind, plan
from sqlml.sql.transpile import parameters_among

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.sql.expressions import MLFunction
    from sqlml.store import ModelStore


class Executor:
    """Runs scripts for one connection.

    Args:
        engine: the connection's session on the SQL engine (the seam, :mod:`sqlml.engine.base`).
        models: the model store (see :mod:`sqlml.store`), or a function that opens it: then it is
            opened when a statement first needs it (:attr:`models`), which a plain query never does.
        table: who runs each statement kind, and the rewrites applied first.
        dialect: ``"bigquery"`` or ``"duckdb"``: how the SQL is written.
    """

    def __init__(self, engine: SqlEngine, models: ModelStore | Callable[[], ModelStore], table: StatementTable, dialect: str = "bigquery"):
        if dialect not in DIALECTS:
            raise ParameterError(f"Unknown dialect {dialect!r}.", hint=f"Use one of: {', '.join(DIALECTS)}.")
        self.engine = engine
        self._models = models
        self.table = table
        self.dialect = dialect
        self.session: dict = {}
        #: Set by :meth:`sqlml.Connection.interrupt`; long work (training) checks it between steps.
        self.cancel = threading.Event()
        #: State of the statement running on each thread (see :func:`~sqlml.execution.context.atomic`).
        self.thread_state = threading.local()

    @property
    def models(self) -> ModelStore:
        """The model store, opened on first use when the executor was given a function that opens it."""
        if callable(self._models):
            self._models = self._models()
        return self._models

    @property
    def dialect_class(self) -> type:
        """The sqlglot dialect class scripts are parsed with."""
        return DIALECTS[self.dialect]

    # -- scripts -----------------------------------------------------------------------------

    def execute(self, sql: str, params: Mapping | Sequence | None = None, path: str | None = None) -> Result:
        """Run every statement of ``sql``; return the last statement's result.

        Raises:
            Error: the first statement that fails, with its number, line and column.
        """
        self.cancel.clear()
        self.thread_state.ended_by_error = False  # see context.rollback: a new script's transactions
        if not isinstance(sql, str):
            hint = "Decode it first: sql.decode('utf-8')." if isinstance(sql, (bytes, bytearray)) else None
            raise ParameterError(f"The SQL must be text (a str), not {type(sql).__name__}.", hint=hint)
        named, positional = _split_params(params)
        result, node, parser = Result.empty(), None, None
        try:
            parser, nodes = parse_script(sql, self.dialect_class, path)  # a syntax error anywhere: nothing runs
            run = ScriptRun(parser=parser, named=named, positional=list(positional))
            # a one-statement script without parameters may turn out to be one whose DuckDB text is
            # remembered for later runs (sqlml.sql.known_statements)
            remember = sql if len(nodes) == 1 and not named and not positional else None
            for index, node in enumerate(nodes):
                result.close()
                result = self.execute_node(node, run, keep_result=index == len(nodes) - 1, remember=remember)
        except BaseException as error:
            rollback(self)  # a script that fails inside a transaction rolls it back
            if isinstance(error, Error) or not isinstance(error, Exception):
                raise
            # Only sqlml errors leave: what the procedural runner raised outside a statement
            where = location_of(node.first, parser.sql, node.number, path) if node else Location(path=path)
            if isinstance(error, EngineError):
                raise translate(error, None, parser.sql, where, self.known_tables) from error
            raise translate_foreign(error, where) from error
        return result

    def execute_node(self, node: Node, run: ScriptRun, keep_result: bool, remember: str | None = None) -> Result:
        """Run one top-level node of a script; ``remember`` as in :meth:`execute_tree`."""
        kind = node_kind(node)
        if (kind is not None and kind.is_procedural) or self.table.script.needs(self, node):
            return self.table.script.run(self, node, run, keep_result)
        tree = run.parser.parse_statement(node)
        survey = Survey(tree)
        if remember is not None and not text_alone_decides(tree, survey.kinds):  # before the rewrites change it
            remember = None
        return self.execute_tree(tree, node, run, keep_result, remember=remember, survey=survey)

    def execute_tree(
        self, tree: exp.Expression, node: Node, run: ScriptRun, keep_result: bool, params: Mapping | None = None,
        remember: str | None = None, survey: Survey | None = None,
    ) -> Result:  # fmt: skip
        """Run one parsed statement; ``params`` adds named values (script variables).

        Args:
            remember: the whole script's text, when it is this one statement, which reads no
                variable and whose DuckDB text its own text decides: a query then runs as
                :func:`~sqlml.execution.plain.run_remembered`, which keeps that text for later runs.
            survey: the :class:`~sqlml.execution.survey.Survey` of ``tree``, when the caller made one.
        """
        location = location_of(node.first, run.parser.sql, node.number, run.parser.path)
        try:
            survey = survey_of(tree, survey)  # what the rewrites look for, found in one walk for all of them
            for rewrite in self.table.rewrites:
                rewritten = rewrite(tree, self, survey)
                if rewritten is not tree or survey.stale:
                    tree, survey = rewritten, Survey(rewritten)
            values = self._bind(survey, run, params)
            context = StatementContext(self, plan(tree), values, location, keep_result, script=run.parser.sql, survey=survey)
            handler = self.table.handlers[context.plan.kind]
            try:
                if remember is not None and handler is run_sql and context.plan.kind is StatementKind.QUERY and keep_result:
                    result = run_remembered(context, remember)
                else:
                    result = handler(context)
            except BaseException:
                self.engine.forget_memos()  # a rolled-back write may have undone what was remembered
                raise
            # What the rewrites remember (sqlml_meta's specs) changes with DDL, transactions and
            # handlers' own statements, never with a user's INSERT/UPDATE/DELETE/MERGE.
            if context.plan.kind not in (StatementKind.QUERY, StatementKind.DML):
                self.engine.forget_memos()
            return result
        except Error as error:
            raise error.with_location(location) from None
        except EngineError as error:
            rollback(self)  # translating the error may query the catalog, which an aborted transaction refuses
            raise translate(error, tree, run.parser.sql, location, self.known_tables) from None
        except Exception as error:  # a limit of a library underneath, or a bug: still a sqlml error
            raise translate_foreign(error, location) from error

    def _bind(self, survey: Survey, run: ScriptRun, extra: Mapping | None) -> dict:
        values = dict(extra or {})
        names, count = parameters_among(survey.parameters)
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
            values.update({positional_name(k): v for k, v in enumerate(run.positional[:count], 1)})
            del run.positional[:count]
        return values

    # -- helpers for handlers ----------------------------------------------------------------

    def renderer(self, params: Mapping | None) -> Renderer:
        """A :class:`Renderer` that evaluates ML calls with this executor's model store."""
        return Renderer(
            self.evaluate_ml_call, self.engine.new_cursor, params, from_bigquery=self.dialect == "bigquery",
            in_transaction=self.engine.in_transaction, session_cursor=self.engine.cursor,
            memo=None if in_transaction_block(self) else self.engine.memo,
        )  # fmt: skip

    def evaluate_ml_call(self, node: MLFunction, inputs: list[DataInput], params: Mapping | None) -> pa.Table | pa.RecordBatchReader | SqlOutput:
        """Evaluate one ML table-function call (see :mod:`sqlml.ml.functions`)."""
        return self.table.evaluate_ml(self, node, inputs, params)

    def runs_known_statements(self) -> bool:
        """Whether a remembered statement (:mod:`sqlml.sql.known_statements`) may run without this
        executor: its session holds no script state (variables, ``@@`` settings) and its table runs
        queries as plain SQL."""
        return not self.session and self.table.handlers.get(StatementKind.QUERY) is run_sql

    def read_error(self, sql: str, path: str | None, error: BaseException) -> BaseException:
        """The sqlml error for ``error``, raised while the rows of the remembered one-statement
        script ``sql`` were read (:meth:`sqlml.Connection.query` ran it without parsing it)."""
        parser, nodes = parse_script(sql, self.dialect_class, path)
        location = location_of(nodes[0].first, parser.sql, nodes[0].number, path)
        return read_error(error, parser.parse_statement(nodes[0]), location)

    def known_tables(self) -> list[str]:
        """``dataset.table`` names of every table and view in the warehouse, for hints."""
        with self.engine.lease() as cursor:
            return [f"{dataset}.{name}" for dataset, name in cursor.list_tables()]


def _split_params(params: Mapping | Sequence | None) -> tuple[dict, Sequence]:
    if params is None:
        return {}, ()
    if isinstance(params, Mapping):
        return dict(params), ()
    if isinstance(params, (list, tuple)):
        return {}, params
    raise ParameterError(
        f"params must be a dict (for @name) or a list (for ?), not {type(params).__name__}.",
    )
