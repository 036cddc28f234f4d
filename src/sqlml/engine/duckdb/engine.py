"""The DuckDB implementation of the seam's :class:`~sqlml.engine.base.SqlEngine`: a session's
cursors (:class:`~sqlml.engine.duckdb.cursor.DuckDBCursor`, so no DuckDB type or exception leaves
this package) on a private instance that holds the warehouse file only while work runs.

DuckDB lets one process hold a database file for writing, or several processes hold it
read-only, and refuses every other process meanwhile (duckdb.org/docs/2.0/connect/concurrency).
A shell left open must not lock out the scheduler, the project runner or the server, so the
warehouse file is *attached* to the connection's in-memory DuckDB instance
(:class:`~sqlml.engine.duckdb.instance.Instance`) for the duration of a lease and *detached* when the
last lease ends and either another process waits for the file or the connection has been idle
for ``idle_release`` seconds (a short grace period, so that a loop of small statements does not
pay for the attach each time).

Processes take turns first come, first served (:mod:`sqlml.engine.duckdb.lease_queue`): a process that
finds the file busy takes a ticket in the queue beside it and attaches when nobody is ahead of
it (a read-only process also when everyone ahead only reads, since readers share the file);
the holder yields between statements — when its last lease ends, never inside a statement or a
transaction — as soon as a process it excludes waits, even while its own statements keep
coming. So under steady load every process makes progress, and a writer waits about as long as
the longest statement running when it arrived. A process that still finds the file busy after
``lock_timeout`` seconds gets :class:`~sqlml.errors.WarehouseLockedError` naming the holder.

Session state lives outside the file and survives detaching: TEMP tables and TEMP functions are
in each cursor's temporary catalog, registered DataFrames are re-registered on every cursor,
and script variables are kept in Python by the scripting layer.

One transaction per session: while one is open, every statement of the session, from whichever
thread, waits its turn and runs on the transaction's cursor, one at a time (a DuckDB cursor runs
one call at a time); COMMIT or ROLLBACK from any thread ends it. Threads that need transactions
of their own use sessions of their own (:meth:`DuckDBEngine.session`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

from sqlml.engine.base import CATALOG, Cursor, EngineError
from sqlml.engine.duckdb.builtins import Installer
from sqlml.engine.duckdb.cursor import DuckDBCursor
from sqlml.engine.duckdb.instance import Instance
from sqlml.engine.duckdb.turns import Turns
from sqlml.errors import InvalidOptionError, WarehouseError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["DuckDBEngine"]

_T = TypeVar("_T")


@dataclass
class _Cursor:
    """A DuckDB cursor, the seam's view of it, and what of the session it has been given so far."""

    cursor: duckdb.DuckDBPyConnection
    wrapped: DuckDBCursor
    generation: int = 0
    registry: int = 0
    progress: bool = False


class DuckDBEngine:
    """One session's cursors on a connection's DuckDB instance and its leases on the warehouse file.

    Args:
        folder, read_only, lock_timeout, idle_release, config, functions: for a new instance (see
            :class:`~sqlml.engine.duckdb.instance.Instance`).
        instance: share this instance instead (see :meth:`session`).
    """

    def __init__(
        self,
        folder: str | Path | None,
        *,
        read_only: bool = False,
        lock_timeout: float = 30.0,
        idle_release: float = 0.2,
        config: dict | None = None,
        functions: Sequence[Installer] = (),
        instance: Instance | None = None,
    ) -> None:
        self._owns_instance = instance is None
        self.instance = instance or Instance(
            folder, read_only=read_only, lock_timeout=lock_timeout, idle_release=idle_release, config=config,
            functions=functions,
        )  # fmt: skip
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cursors: set = set()
        self._track_progress = False
        self._turns = Turns()
        self._transaction: _Cursor | None = None
        self._closed = False

    def session(self) -> DuckDBEngine:
        """Another session on the same instance: its own cursors, TEMP tables and transaction,
        the same hold on the file, registered data and remembered catalog facts."""
        return DuckDBEngine(None, instance=self.instance)

    @property
    def path(self) -> Path | None:
        """The warehouse file, or None in memory."""
        return self.instance.path

    @property
    def read_only(self) -> bool:
        """Whether the file is attached read-only."""
        return self.instance.read_only

    @property
    def is_attached(self) -> bool:
        """Whether this process currently holds the warehouse file."""
        return self.instance.is_attached

    @property
    def waited(self) -> float:
        """Seconds this connection has spent waiting for other processes to yield the file."""
        return self.instance.waited

    # -- leases ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lease(self) -> Iterator[Cursor]:
        """Hold the warehouse file for the duration of a ``with`` block; yields the cursor to use."""
        self.acquire()
        try:
            yield self.cursor()
        finally:
            self.release()

    def acquire(self) -> None:
        """Take a lease, attaching the file if no lease was held."""
        if self._closed:
            raise WarehouseError("This connection is closed.", hint="Open a new one with sqlml.connect().")
        self.instance.acquire()

    def release(self) -> None:
        """Give a lease back (see :meth:`Instance.release`)."""
        self.instance.release()

    # -- the session's transaction -----------------------------------------------------------

    @contextlib.contextmanager
    def statement(self) -> Iterator[None]:
        """Around each call into the session (a script, a load): yield the file first if another
        process waits for it (:meth:`Instance.admit`); while a transaction is open, wait for the
        turn, then run on the transaction's cursor until the call returns."""
        local = self._local
        if getattr(local, "in_statement", False):
            yield
            return
        local.in_statement = True
        try:
            self.instance.admit()
            if self._transaction is not None:
                self._turns.take()
            yield
        finally:
            local.in_statement = False
            self._turns.give_back()

    @property
    def in_transaction(self) -> bool:
        """Whether this thread's statements run in the session's open transaction."""
        return self._transaction is not None and self._turns.is_mine()

    @property
    def transaction_open(self) -> bool:
        """Whether the session has an open transaction (begun by any thread)."""
        return self._transaction is not None

    def begin(self) -> bool:
        """Start the session's transaction on this thread's cursor; False if one is open.

        The file stays leased until :meth:`end`; call within :meth:`statement`.
        """
        self._turns.take()
        if self._transaction is not None:
            return False
        state = self._own_cursor()
        try:
            state.wrapped.begin()
        except BaseException:
            _roll_back(state.cursor)  # Ctrl-C lands in DuckDB's call as often after its work as before
            raise
        self.instance.acquire(pinned=True)
        self._transaction = state
        return True

    def end(self, commit: bool) -> bool:
        """COMMIT or ROLLBACK the session's transaction, from any thread; False if none is open.

        An interrupt (:meth:`interrupt`) can land in the COMMIT call after DuckDB committed: the
        work is kept, so the COMMIT completes (the interrupt's cancel flag stops the script's next
        statement). A Ctrl-C there (KeyboardInterrupt) still propagates, as Python's own, claiming
        nothing; a COMMIT interrupted before it took effect is rolled back and raises.
        """
        self._turns.take()
        state, self._transaction = self._transaction, None
        if state is None:
            return False
        try:
            state.wrapped.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException as error:
            # here, not at the top: engine.errors imports sqlglot, which a remembered query's process never loads
            from sqlml.engine.errors import is_interrupt

            was_open = _roll_back(state.cursor)  # refused or interrupted: no transaction stays open unnoted
            if was_open or not commit or not is_interrupt(error) or isinstance(error, KeyboardInterrupt):
                raise  # not committed, refused by DuckDB (which ended it), or Python's own Ctrl-C
        finally:
            self.instance.table_writes.give_back(self)  # the tables it wrote (see modification_log)
            self.instance.release(pinned=True)
        return True

    # -- cursors -----------------------------------------------------------------------------

    def cursor(self) -> Cursor:
        """The cursor this thread's statement runs on. Call only while holding a lease.

        The open transaction's cursor for the thread whose turn it is; else this thread's own:
        DuckDB refuses to share one cursor between threads at once ("connection is busy"), so
        each thread gets its own cursor on the shared instance (SQLMesh's connection pool).
        """
        state = self._transaction
        if state is None or not self._turns.is_mine():
            state = self._own_cursor()
        return self._prepared(state)

    def _own_cursor(self) -> _Cursor:
        state = getattr(self._local, "cursor", None)
        if state is None:
            cursor = self.instance.cursor()
            state = self._local.cursor = _Cursor(cursor, DuckDBCursor(cursor, self.instance.builtins))
            with self._lock:
                self._cursors.add(state.cursor)
        return state

    def _prepared(self, state: _Cursor) -> DuckDBCursor:
        instance, cursor = self.instance, state.wrapped
        if state.generation != instance.generation:
            cursor.execute(f"USE {CATALOG}")
            state.generation = instance.generation
        if state.registry != instance.registry_version:
            state.registry = self._sync_registrations(cursor)
        if state.progress != self._track_progress:
            # DuckDB measures a query's progress only with its progress bar on; it must not print.
            cursor.execute(f"SET enable_progress_bar = {str(self._track_progress).lower()}")
            cursor.execute("SET enable_progress_bar_print = false")
            state.progress = self._track_progress
        return state.wrapped

    def new_cursor(self) -> Cursor:
        """A fresh cursor for a side job (reading an ML function's input); close it after use."""
        cursor = DuckDBCursor(self.instance.cursor(), self.instance.builtins)
        cursor.execute(f"USE {CATALOG}")
        self._sync_registrations(cursor)
        with self.instance.lock:
            views = list(self.instance.views.items())
        for name, sql in views:
            with contextlib.suppress(EngineError):  # what it reads may be gone; then nobody reads it
                cursor.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        return cursor

    def define_view(self, cursor: Cursor, name: str, sql: str) -> None:
        """(Re)define ``name`` as a TEMP view on ``cursor``, and on side cursors opened later.

        TEMP, because a view in the instance's own catalog would be a write there, which a
        transaction that writes the warehouse file refuses ("a single transaction can only
        write to a single attached database").
        """
        cursor.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        with self.instance.lock:
            self.instance.views[name] = sql

    def register(self, name: str, data: pa.Table | pd.DataFrame) -> None:
        """Make a pandas DataFrame or Arrow table readable by ``name`` in every later query."""
        instance = self.instance
        with instance.lock:
            instance.registered[name] = data
            instance.forgotten.discard(name)
            instance.registry_version += 1

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""
        instance = self.instance
        with instance.lock:
            if instance.registered.pop(name, None) is not None:
                instance.forgotten.add(name)
            instance.registry_version += 1

    def _sync_registrations(self, cursor: DuckDBCursor) -> int:
        instance = self.instance
        with instance.lock:
            version, forgotten, registered = instance.registry_version, list(instance.forgotten), list(instance.registered.items())
        for name in forgotten:
            with contextlib.suppress(EngineError):
                cursor.unregister(name)
        for name, data in registered:
            cursor.register(name, data)
        return version

    # -- sqlml's own catalog, remembered -------------------------------------------------------

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, remembered under ``key`` until :meth:`forget_memos` or the file is
        attached again. For facts about sqlml's own catalog tables (which tables are
        partitioned, which views call ML) that every statement consults: while this process
        holds the file nobody else can change them, and the executor forgets them after each
        statement that may change them (DDL, transactions, failures).
        """
        memos = self.instance.memos
        with self.instance.lock:
            if key in memos:
                return memos[key]
        value = compute()
        with self.instance.lock:
            memos[key] = value
        return value

    def forget(self, key: Hashable) -> None:
        """Drop what :meth:`memo` remembers for ``key``."""
        with self.instance.lock:
            self.instance.memos.pop(key, None)

    def forget_memos(self) -> None:
        """Drop every remembered value (after a statement that may have written the catalog)."""
        with self.instance.lock:
            self.instance.memos.clear()

    # -- write turns (see sqlml.engine.duckdb.table_writes) ---------------------------------

    def take_turn(self, table: str, owner: object, *, transaction: bool, cancel: threading.Event) -> None:
        """Make ``owner`` the writer of ``table`` (see :meth:`TableWrites.take`), waiting at most
        the lock timeout."""
        instance = self.instance
        instance.table_writes.take(table, owner, transaction=transaction, timeout=instance.lock_timeout, cancel=cancel)

    def wait_for_other_writers(self, table: str, *, cancel: threading.Event) -> None:
        """Wait until the statements writing other tables have ended (see :meth:`TableWrites.wait_for_others`)."""
        self.instance.table_writes.wait_for_others(table, timeout=self.instance.lock_timeout, cancel=cancel)

    def give_back_turns(self, owner: object) -> None:
        """End every write turn ``owner`` holds."""
        self.instance.table_writes.give_back(owner)

    # -- training ------------------------------------------------------------------------------

    def check_training(self, model_type: str, place: str | None) -> None:
        """Training always runs here, in this process where the rows are: nothing to check, but
        ``OPTIONS(spark_train=…)`` (a place to train on Spark) is refused."""
        if place is not None:
            raise InvalidOptionError("spark_train applies to the Spark engine only.", option="spark_train", hint="Remove it.")

    # -- progress, interrupts, closing ---------------------------------------------------------

    def track_progress(self, on: bool = True) -> None:
        """Have DuckDB measure the progress of queries, for :meth:`query_progress`."""
        self._track_progress = on

    def query_progress(self) -> float:
        """Percent done of the query running in this session (-1 when none or unknown)."""
        progress = -1.0
        for cursor in self._all_cursors():
            with contextlib.suppress(duckdb.Error):
                progress = max(progress, cursor.query_progress())
        return progress

    def interrupt(self) -> None:
        """Ask every running statement of this session to stop (DuckDB's interrupt), or to stop
        waiting for the file."""
        self.instance.stop_waiting()
        for cursor in self._all_cursors():
            with contextlib.suppress(duckdb.Error):
                cursor.interrupt()

    def _all_cursors(self) -> list[duckdb.DuckDBPyConnection]:
        with self._lock:
            return list(self._cursors)

    def close(self) -> None:
        """End the session: roll back its open transaction, close its cursors and, for the
        connection's own session, release the file and close the DuckDB instance."""
        if self._closed:
            return
        self._closed = True
        state, self._transaction = self._transaction, None
        if state is not None:
            _roll_back(state.cursor)
            self.instance.table_writes.give_back(self)
            self.instance.release(pinned=True)
        if self._owns_instance:
            self.instance.close()
            return
        for cursor in self._all_cursors():
            with contextlib.suppress(duckdb.Error):
                cursor.close()  # a DuckDB cursor closed in a transaction rolls it back


def _roll_back(cursor: duckdb.DuckDBPyConnection) -> bool:
    """End the transaction open on ``cursor``, if any; False only when DuckDB says none was active
    (a COMMIT that took effect, or one it refused). One left open unnoted (its BEGIN or COMMIT
    interrupted) would keep the warehouse file open in DuckDB even once detached, and every later
    attach would be refused ("already attached")."""
    try:
        cursor.execute("ROLLBACK")
    except duckdb.TransactionException:  # no transaction is active
        return False
    except duckdb.Error:
        pass
    return True
