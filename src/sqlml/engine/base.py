"""The one seam between sqlml and the SQL engine that holds the warehouse: what every layer above
(the executor, the warehouse objects, the ML runtime, the script interpreter, the project runner)
may ask of it, as typed Protocols, and the exceptions it raises.

Layers above the seam generate the engine's SQL text (sqlglot writes it) and run it through a
:class:`Cursor`; they never touch the engine's Python API or its exception types. An engine is
added as one more implementation of these Protocols (today: :mod:`sqlml.engine.duckdb`), the way
dbt's adapters and SQLMesh's ``EngineAdapter`` put a DB-API-shaped cursor under one interface.

The shapes, from the bottom up:

* :class:`Relation` — a statement's pending rows, run when first read (streamed as Arrow);
* :class:`Cursor` — one thread's handle for running SQL: execute now or lazily, read the last
  result, register Arrow data under a name, begin/commit/rollback a transaction of its own, look
  up the catalog (datasets, tables and views, their columns);
* :class:`SqlEngine` — a session on the warehouse: the hold on the warehouse file (leases, the
  queue of other processes, the lock timeout), the session's one transaction, the cursors,
  registered data, table write turns, remembered catalog facts, interrupts.

Every engine exception leaves the implementation as an :class:`EngineError` subclass that keeps
the engine's message; the executor turns it into a :class:`sqlml.Error` located in the user's SQL
(:mod:`sqlml.engine.errors`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from sqlml.sql import duckdb_names

if TYPE_CHECKING:  # the seam itself loads no engine, no Arrow, no NumPy and no pandas
    import numpy as np
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "CATALOG",
    "Cursor",
    "EngineBindError",
    "EngineConversionError",
    "EngineError",
    "EngineInterrupted",
    "EngineIOError",
    "EngineSyntaxError",
    "EngineTransactionError",
    "Parameters",
    "Relation",
    "SqlEngine",
]

#: The catalog the warehouse's datasets live in, in the engine's SQL (``warehouse.ds.t``);
#: unqualified names resolve in it. Named in :mod:`sqlml.sql.duckdb_names`: the SQL front end writes it.
CATALOG = duckdb_names.CATALOG

#: Named (``{"name": value}``) or positional (``[value, …]``) values for a statement's parameters.
Parameters = dict[str, Any] | Sequence[Any] | None

_T = TypeVar("_T")


# -- exceptions ------------------------------------------------------------------------------


class EngineError(Exception):
    """An error the SQL engine reported; ``str()`` is the engine's own message, unchanged.

    The subclasses name the kinds of failure the executor translates differently; any other
    failure is an :class:`EngineError` itself.
    """


class EngineInterrupted(EngineError):
    """The statement was interrupted (:meth:`SqlEngine.interrupt`, Ctrl-C)."""


class EngineSyntaxError(EngineError):
    """The engine could not parse the SQL it was given."""


class EngineConversionError(EngineError):
    """A value could not be converted to the type asked for, or types do not match."""


class EngineBindError(EngineError):
    """A name or a function call in the SQL could not be resolved (binding)."""


class EngineTransactionError(EngineError):
    """A transaction failed: a conflict with another session's write, or an aborted transaction."""


class EngineIOError(EngineError):
    """The engine could not read or write a file (the warehouse file, a file it was asked to read)."""


# -- rows ------------------------------------------------------------------------------------


@runtime_checkable
class Relation(Protocol):
    """A statement's pending rows: run on first read, readable once."""

    @property
    def columns(self) -> list[str]:
        """Column names, in order, known without running the statement."""

    @property
    def types(self) -> list[str]:
        """The engine's SQL type names of the columns, in order (for SQL written per column type)."""

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema the rows will have, known without running the statement (a result's
        columns and types are reported before it is read, as BigQuery's schema is)."""

    def fetchall(self) -> list[tuple]:
        """Run the statement and return every row as a tuple."""

    def to_arrow_table(self) -> pa.Table:
        """Run the statement and return its rows as one Arrow table."""

    def to_arrow_reader(self, batch_size: int = ...) -> pa.RecordBatchReader:
        """Stream the rows as Arrow record batches of at most ``batch_size`` rows, for results
        larger than memory. An error while streaming surfaces from the reader."""

    def map_batches(
        self, function: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]], schema: pa.Schema, name: str
    ) -> None:
        """Define the session view ``name`` as ``function`` applied to the rows' Arrow batches
        where the data is (the engine's workers), giving rows of ``schema``; run when a statement
        reads the view. Only where the cursor that made the relation says
        :attr:`Cursor.maps_batches`; the view is dropped when that cursor closes (a statement's
        side cursor: when the statement ends). DuckDB raises :class:`EngineError`: it has no
        workers, its callers score the batches in this process instead."""

    def map_groups(self, function: Callable[[pa.Table], pa.Table], keys: Sequence[str], schema: pa.Schema, name: str) -> None:
        """Define the session view ``name`` as ``function`` applied to each group of the rows that
        share the values of the columns ``keys`` (NULL is a value like any other; no key: one
        group of every row), one Arrow table per group in :attr:`arrow_schema`'s types, giving rows
        of ``schema`` — work per time series where the data is. Spark runs the groups on its
        executors (``groupBy(keys).applyInArrow``) when a statement reads the view, dropped when
        the making cursor closes; DuckDB runs them in this process now and registers the rows on
        the making cursor."""


@runtime_checkable
class Cursor(Protocol):
    """One thread's handle for running SQL, DB-API shaped (PEP 249's execute/fetch pair).

    A cursor runs one call at a time and belongs to one thread; its last executed statement's
    rows are read with the ``fetch*`` methods before the next one runs (Arrow comes from the
    relations of :meth:`sql`).
    """

    def execute(self, sql: str, parameters: Parameters = None) -> Cursor:
        """Run one statement now, binding ``parameters`` (``$name`` or ``?``); returns the cursor,
        whose fetch methods read its rows."""

    def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> Cursor:
        """Run one statement once per row of ``parameters`` (bulk inserts of small catalogs)."""

    def sql(self, query: str, params: Parameters = None) -> Relation:
        """The rows of ``query``, run when first read (a statement that returns no rows runs now).

        Lazy, so that a caller can learn a result's columns without running it, and stream a
        large result instead of holding it in memory.
        """

    @property
    def maps_batches(self) -> bool:
        """Whether this cursor's relations can :meth:`Relation.map_batches`: run a Python function
        over their Arrow batches on the engine's workers, so that rows never travel to this
        process (Spark's ``mapInArrow``: True). DuckDB: False, it runs in this process already."""

    @property
    def types_intervals(self) -> bool:
        """Whether the column types this cursor reports tell an INTERVAL YEAR TO MONTH from a DAY TO
        SECOND one, so that BigQuery's typed rewrites (``CAST(interval_column AS STRING)``) may read
        their parts. DuckDB: True (one INTERVAL type holds both). Spark: False, its catalog calls
        both ``INTERVAL``, and each exposes only its own fields."""

    def fetchall(self) -> list[tuple]:
        """Every row of the last executed statement."""

    def fetchone(self) -> tuple | None:
        """The next row of the last executed statement (None when none is left)."""

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        """Every column of the last executed statement as a NumPy array (masked where NULL): the
        cheap read of a large column a DML statement returned. Arrow comes from :meth:`sql`."""

    @property
    def description(self) -> list[tuple] | None:
        """PEP 249's description of the last executed statement's columns (name first)."""

    def register(self, name: str, data: pa.Table | pa.RecordBatchReader | pd.DataFrame) -> None:
        """Make Arrow data (a table, a record batch reader, a pandas DataFrame) readable by this
        cursor's statements as the relation ``name``, until :meth:`unregister`. A reader is
        scanned once, when a statement reads it."""

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""

    def begin(self) -> None:
        """Start a transaction of this cursor's own (a handler's several statements as one)."""

    def commit(self) -> None:
        """Commit this cursor's transaction."""

    def rollback(self) -> None:
        """Roll back this cursor's transaction."""

    def close(self) -> None:
        """Close the cursor (rolling back a transaction it left open)."""

    # -- catalog lookups: on a cursor, so that they see its transaction's own DDL ----------------
    # Names compare case-insensitively, as the engine resolves them.

    def dataset_exists(self, dataset: str) -> bool:
        """Whether the warehouse has the dataset ``dataset``."""

    def relation_kind(self, dataset: str, name: str) -> str | None:
        """``"table"`` or ``"view"`` for the warehouse relation ``dataset.name``, None if absent."""

    def table_columns(self, dataset: str | None, name: str) -> list[tuple[str, str]]:
        """``(column, engine type name)`` of the table or view ``dataset.name``, in order (empty
        when it does not exist). Without a dataset, of every relation called ``name`` wherever an
        unqualified name may resolve (the session's, any dataset's)."""

    def view_definition(self, dataset: str, name: str) -> str | None:
        """The SQL of the view ``dataset.name`` as the engine keeps it (in the engine's own
        dialect), None if there is no such view."""

    def session_relations(self) -> list[str]:
        """Names of the relations that live in this cursor's session, not in the warehouse: TEMP
        tables and views, and registered data."""

    def list_tables(self, dataset: str | None = None, *, views: bool = True) -> list[tuple[str, str]]:
        """``(dataset, name)`` of the tables, and of the views unless ``views`` is false, of
        ``dataset`` (None: of every dataset), sorted."""


# -- the session -----------------------------------------------------------------------------


@runtime_checkable
class SqlEngine(Protocol):
    """A session on the SQL engine holding the warehouse: everything sqlml asks of the engine.

    A connection has one session per thread family (:meth:`session` makes more): each has its
    own cursors, TEMP objects and transaction, and shares the hold on the warehouse file, the
    registered data and the remembered catalog facts with the others. The engine comes with the
    BigQuery functions it lacks installed (UDFs and macros: FARM_FINGERPRINT, GEOGRAPHY, …, handed
    to it when it opens: :mod:`sqlml.udfs`), so the SQL sqlglot writes for it runs as it is.
    """

    # -- where and how -----------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The warehouse file, or None for an in-memory warehouse."""

    @property
    def read_only(self) -> bool:
        """Whether the warehouse is open read-only (several processes may then read at once)."""

    @property
    def is_attached(self) -> bool:
        """Whether this process holds the warehouse file right now (it is released when idle)."""

    @property
    def waited(self) -> float:
        """Seconds spent so far waiting for other processes to yield the warehouse file."""

    def session(self) -> SqlEngine:
        """Another session on the same engine: its own cursors, TEMP objects and transaction."""

    # -- the hold on the warehouse file (locking) -------------------------------------------

    def lease(self) -> AbstractContextManager[Cursor]:
        """Hold the warehouse file for a ``with`` block and yield this thread's cursor.

        Taking the file may queue behind other processes (first come, first served) and fails
        with :class:`~sqlml.errors.WarehouseLockedError` after the lock timeout.
        """

    def acquire(self) -> None:
        """Take a lease on the warehouse file without a ``with`` block (give it back with
        :meth:`release`); for a result that keeps the file until it is read."""

    def release(self) -> None:
        """Give back a lease taken with :meth:`acquire`."""

    def statement(self) -> AbstractContextManager[None]:
        """Around each call into the session (a script, a load): yield the file first if another
        process waits for it, and, while a transaction is open, wait for this thread's turn in it."""

    # -- the session's transaction ----------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """Whether this thread's statements run in the session's open transaction."""

    @property
    def transaction_open(self) -> bool:
        """Whether the session has an open transaction (begun by any thread)."""

    def begin(self) -> bool:
        """BEGIN the session's transaction on this thread's cursor (False if one is open already);
        the file stays leased until :meth:`end`."""

    def end(self, commit: bool) -> bool:
        """COMMIT (``commit``) or ROLLBACK the session's transaction, from any thread (False if
        none is open), and give back the table turns it held."""

    # -- cursors and registered data ---------------------------------------------------------

    def cursor(self) -> Cursor:
        """The cursor this thread's statement runs on (the open transaction's, in its turn).
        Call only while holding a lease."""

    def new_cursor(self) -> Cursor:
        """A fresh cursor for a side job (reading an ML function's input while the statement's
        own cursor runs); the caller closes it."""

    def define_view(self, cursor: Cursor, name: str, sql: str) -> None:
        """(Re)define ``name`` as a session-scoped (TEMP) view on ``cursor`` and on the side
        cursors opened later: a view that must not write the warehouse file."""

    def register(self, name: str, data: pa.Table | pd.DataFrame) -> None:
        """Make Arrow data (or a pandas DataFrame) readable as ``name`` by every later statement
        of every session of this engine."""

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""

    # -- write turns: sessions writing one table take turns ----------------------------------

    def take_turn(self, table: str, owner: object, *, transaction: bool, cancel: threading.Event) -> None:
        """Make ``owner`` the writer of ``table``, waiting at most the lock timeout for the writer
        ahead; an open transaction (``transaction``) fails at once instead, as BigQuery cancels
        conflicting transactions. Raises :class:`~sqlml.errors.TransactionError` or
        :class:`~sqlml.errors.Cancelled` (``cancel`` set)."""

    def wait_for_other_writers(self, table: str, *, cancel: threading.Event) -> None:
        """Wait (at most the lock timeout) until the statements writing tables other than
        ``table`` have ended, before a conflicting write of ``table`` runs again."""

    def give_back_turns(self, owner: object) -> None:
        """End every write turn ``owner`` holds."""

    # -- remembered catalog facts ------------------------------------------------------------

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, remembered under ``key`` until :meth:`forget_memos` or until the file
        is taken again (another process may have changed it meanwhile)."""

    def forget(self, key: Hashable) -> None:
        """Drop what :meth:`memo` remembers for ``key``."""

    def forget_memos(self) -> None:
        """Drop everything :meth:`memo` remembers (after a statement that may write the catalog)."""

    # -- training ----------------------------------------------------------------------------

    def check_training(self, model_type: str, place: str | None) -> None:
        """Refuse CREATE MODEL of ``model_type`` where this engine cannot train it, given
        ``place``, the statement's ``OPTIONS(spark_train=…)`` (None when absent). Spark: only
        ``'driver'`` (the rows are collected to the driver). DuckDB: training always runs in this
        process, where the rows are; any ``spark_train`` is refused
        (:class:`~sqlml.errors.InvalidOptionError`)."""

    # -- progress, interrupts, closing --------------------------------------------------------

    def track_progress(self, on: bool = True) -> None:
        """Have the engine measure the progress of queries, for :meth:`query_progress`."""

    def query_progress(self) -> float:
        """Percent done of the query running in this session (-1 when none or unknown)."""

    def interrupt(self) -> None:
        """Ask every running statement of this session to stop, or to stop waiting for the file;
        they fail with :class:`EngineInterrupted` or :class:`~sqlml.errors.Cancelled`."""

    def close(self) -> None:
        """End the session: roll back its open transaction, close its cursors and, for the
        engine's first session, release the warehouse file."""

