"""What a statement handler receives and what the executor is given: the typed seams of execution.

A handler runs one planned statement from a :class:`StatementContext`; a rewrite changes a
statement's tree before it is planned; the script interpreter runs procedural nodes through
:class:`ProceduralRunner`. The executor is handed all of them as one :class:`StatementTable`
(built in :mod:`sqlml.statement_table`), so that execution imports none of the modules that own
statements — the warehouse objects, the models, the scripting language sit above it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlglot import exp

from sqlml.engine.base import Cursor, EngineError, EngineTransactionError
from sqlml.engine.errors import is_interrupt
from sqlml.errors import Location
from sqlml.execution.sources import DataInput, SourceSet
from sqlml.execution.survey import Survey
from sqlml.result import Result
from sqlml.sql.nodes import Node
from sqlml.sql.planner import Plan, StatementKind
from sqlml.sql.script import ScriptParser

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.execution.executor import Executor
    from sqlml.sql.expressions import MLFunction


@dataclass
class StatementContext:
    """What a handler needs to run one statement.

    Attributes:
        executor: the executor running it.
        plan: the classified statement.
        params: named parameter values (``@name``) visible to the statement.
        location: where the statement starts, for errors.
        keep_result: whether the caller wants its rows (it is the script's last statement).
        sources: the ML outputs and side cursors the statement registered, closed with it.
        returning: for a DML statement a handler gave a RETURNING clause: turns the executed
            cursor (its returned rows) into the statement's result.
        script: the whole script text the statement's syntax tree positions refer to, so that
            a handler can point an error at the part of the statement at fault.
        survey: the executor's :class:`~sqlml.execution.survey.Survey` of ``plan.tree``, which the
            renderer reads instead of walking that same tree again (a handler that renders
            another tree, or a copy, gets its own).
    """

    executor: Executor
    plan: Plan
    params: dict
    location: Location
    keep_result: bool
    sources: SourceSet = field(default_factory=SourceSet)
    returning: Callable[[Cursor], Result] | None = None
    script: str = ""
    survey: Survey | None = None


@dataclass
class ScriptRun:
    """State of one script run: its parser and the parameters still to bind.

    Attributes:
        parser: the parser of the script's text (statements are parsed once and kept there).
        named: ``@name`` parameter values.
        positional: values of the ``?`` parameters not bound yet, in order.
    """

    parser: ScriptParser
    named: dict
    positional: list


#: Runs one planned statement of the kind it is registered for.
Handler = Callable[[StatementContext], Result]
#: Changes a statement's tree before it is planned (``rewrite(tree, executor, survey)``), looking
#: for what it acts on in the :class:`~sqlml.execution.survey.Survey` of the tree, not by walking it.
Rewrite = Callable[[exp.Expression, "Executor", Survey], exp.Expression]
#: Evaluates one ML table-function call: ``(executor, call, data inputs, parameters)`` -> its rows.
MLCallEvaluator = Callable[["Executor", "MLFunction", list[DataInput], Mapping | None], "pa.Table | pa.RecordBatchReader"]


class ProceduralRunner(Protocol):
    """The script interpreter, as the executor sees it."""

    def needs(self, executor: Executor, node: Node) -> bool:
        """Whether a SQL statement must go through the interpreter too (it may read variables)."""

    def run(self, executor: Executor, node: Node, run: ScriptRun, keep_result: bool) -> Result:
        """Run one top-level node of a script (a procedural statement, a block, or a SQL
        statement that reads variables) and return its result."""


@dataclass(frozen=True)
class StatementTable:
    """Who runs what, handed to the executor.

    Attributes:
        handlers: the handler of each statement kind the executor runs (every kind not in
            :data:`sqlml.sql.planner.PROCEDURAL`).
        rewrites: applied in this order to every statement before it is planned.
        script: runs the procedural kinds and the statements that read script variables.
        evaluate_ml: evaluates ML table-function calls inside statements.
    """

    handlers: Mapping[StatementKind, Handler]
    rewrites: Sequence[Rewrite]
    script: ProceduralRunner
    evaluate_ml: MLCallEvaluator


def in_transaction(executor: Executor) -> bool:
    """Whether the statement running on this thread runs in the connection's open transaction."""
    return executor.engine.in_transaction


def in_transaction_block(executor: Executor) -> bool:
    """Whether this thread's statement already runs in a transaction: the connection's open one,
    or a handler's :func:`atomic` block."""
    return in_transaction(executor) or getattr(executor.thread_state, "atomic", False)


@contextlib.contextmanager
def atomic(executor: Executor, cursor: Cursor) -> Iterator[None]:
    """Run a handler's several statements as one engine transaction: all of them or none.

    Inside the user's open transaction, or another handler's ``atomic`` block, the enclosing
    transaction already covers them and nothing is started. An interrupt (Ctrl-C, a cancel)
    landing before the COMMIT has taken effect rolls everything back; one landing in the COMMIT
    call after it took effect is too late to cancel the statement, which then completes (see
    :func:`_commit`).
    """
    state = executor.thread_state
    if in_transaction_block(executor):
        yield
        return
    state.atomic = True
    try:
        _begin(cursor)
        try:
            yield
        except BaseException:
            cursor.rollback()
            raise
        _commit(executor, cursor)
    finally:
        state.atomic = False


def _begin(cursor: Cursor) -> None:
    try:
        cursor.begin()
    except BaseException:
        with contextlib.suppress(EngineError):
            cursor.rollback()  # interrupted after DuckDB's BEGIN ran: no transaction stays open
        raise


def _commit(executor: Executor, cursor: Cursor) -> None:
    """COMMIT the block's transaction, reporting what happened to it.

    An interrupt can land in the COMMIT call after DuckDB committed (DuckDB then raises while it
    hands the result over): the statement's work is kept, so the statement completes; the cancel
    still stops the script's next statement. A COMMIT that failed before taking effect leaves the
    transaction open and it is rolled back; one DuckDB refused (a write conflict) ended it and
    raises as it is, not as the ROLLBACK's "no transaction is active".
    """
    try:
        cursor.commit()
    except BaseException as error:
        try:
            cursor.rollback()
        except EngineTransactionError:  # no transaction is active: the COMMIT ended it
            if not is_interrupt(error):
                raise error from None
            executor.cancel.set()
            return
        raise


def rollback(executor: Executor) -> None:
    """Roll back the open transaction after a statement in it failed (no-op outside one).

    DuckDB cannot keep a transaction one of whose statements failed, so it ends here, where
    BigQuery leaves it to the script's exception handler to commit or roll back. The handler's
    ROLLBACK TRANSACTION (as BigQuery's documentation writes it) then finds it ended by the error
    (:func:`ended_by_error`) instead of failing for want of a transaction.
    https://cloud.google.com/bigquery/docs/transactions#transaction_scope
    """
    if in_transaction(executor):
        executor.thread_state.ended_by_error = True
        with contextlib.suppress(EngineError):
            executor.engine.end(commit=False)


def ended_by_error(executor: Executor) -> bool:
    """Whether this script's transaction was rolled back by a failed statement and no
    ROLLBACK, COMMIT or BEGIN has come since (each of which forgets it)."""
    state = executor.thread_state
    ended, state.ended_by_error = getattr(state, "ended_by_error", False), False
    return ended
