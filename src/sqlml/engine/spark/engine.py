"""The Spark implementation of the seam's :class:`~sqlml.engine.base.SqlEngine`.

The datasets are Spark's: databases of Parquet tables and views, queried with the SQL the layers
above write, transpiled (:mod:`.translate`). What Parquet tables cannot hold stays in a DuckDB
file beside them, run by a :class:`~sqlml.engine.duckdb.engine.DuckDBEngine` (the *bookkeeping*
engine): sqlml's ``sqlml_meta`` schema (table options, the write log, run history…), which needs
keys, ``UPDATE`` and transactions, and is small. That engine also gives this one its hold on the
warehouse folder, its transactions, write turns and remembered facts, so they behave as on DuckDB:
a project's bookkeeping is as safe on Spark as on a laptop.

What differs: Spark commits each statement on its own, so BEGIN … ROLLBACK undoes the bookkeeping
but not the rows a Spark statement already wrote; every session of the process shares Spark's TEMP
views (registered data among them).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlml.engine.base import Cursor
from sqlml.engine.duckdb.builtins import Installer
from sqlml.engine.duckdb.engine import DuckDBEngine
from sqlml.engine.spark import catalog
from sqlml.engine.spark.cursor import Shared, SparkCursor, register_frame
from sqlml.engine.spark.session import spark_session
from sqlml.engine.spark.statements import run_statements
from sqlml.engine.spark.translate import META, reads_catalog, side, with_catalog_views
from sqlml.errors import Cancelled, InvalidOptionError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import SparkSession

__all__ = ["SparkEngine"]

_T = TypeVar("_T")


class SparkEngine:
    """A session on Spark (the datasets) and on the bookkeeping DuckDB file.

    Args:
        folder: the warehouse folder (the bookkeeping file, and a started session's tables), or
            None in memory.
        spark: a SparkSession, or the master URL of one to start (default ``local[2]``).
        read_only, lock_timeout, idle_release, config, functions: for the bookkeeping engine (see
            :class:`~sqlml.engine.duckdb.engine.DuckDBEngine`).
    """

    def __init__(
        self,
        folder: str | Path | None,
        *,
        spark: SparkSession | str | None = None,
        read_only: bool = False,
        lock_timeout: float = 30.0,
        idle_release: float = 0.2,
        config: dict | None = None,
        functions: Sequence[Installer] = (),
        _shared: Shared | None = None,
        _meta: DuckDBEngine | None = None,
    ) -> None:
        self.meta = _meta or DuckDBEngine(
            folder, read_only=read_only, lock_timeout=lock_timeout, idle_release=idle_release, config=config, functions=functions
        )
        self.shared = _shared or Shared(spark_session(spark, folder))

    @property
    def spark(self) -> SparkSession:
        """The Spark session."""
        return self.shared.spark

    def session(self) -> SparkEngine:
        """Another session: its own bookkeeping cursors and transaction, the same Spark session."""
        return SparkEngine(None, _shared=self.shared, _meta=self.meta.session())

    @property
    def path(self) -> Path | None:
        """The bookkeeping file, or None in memory."""
        return self.meta.path

    @property
    def read_only(self) -> bool:
        """Whether the warehouse is open read-only."""
        return self.meta.read_only

    @property
    def is_attached(self) -> bool:
        """Whether this process holds the bookkeeping file."""
        return self.meta.is_attached

    @property
    def waited(self) -> float:
        """Seconds spent waiting for other processes to yield the bookkeeping file."""
        return self.meta.waited

    # -- leases, statements, transactions: the bookkeeping engine's --------------------------

    @contextlib.contextmanager
    def lease(self) -> Iterator[Cursor]:
        """Hold the warehouse for a ``with`` block; yields this thread's cursor."""
        with self.meta.lease():
            yield self.cursor()

    def acquire(self) -> None:
        """Take a lease on the warehouse."""
        self.meta.acquire()

    def release(self) -> None:
        """Give a lease back."""
        self.meta.release()

    def statement(self) -> contextlib.AbstractContextManager[None]:
        """Around each call into the session (see :meth:`DuckDBEngine.statement`)."""
        return self.meta.statement()

    @property
    def in_transaction(self) -> bool:
        """Whether this thread's statements run in the session's open transaction."""
        return self.meta.in_transaction

    @property
    def transaction_open(self) -> bool:
        """Whether the session has an open transaction."""
        return self.meta.transaction_open

    def begin(self) -> bool:
        """BEGIN the bookkeeping's transaction (Spark's statements commit one by one)."""
        return self.meta.begin()

    def end(self, commit: bool) -> bool:
        """COMMIT or ROLLBACK the bookkeeping's transaction.

        An interrupt landing in the COMMIT after it took effect completes it, as on DuckDB (see
        :meth:`DuckDBEngine.end`). One landing before rolls the bookkeeping back, but the rows the
        transaction's Spark statements wrote were committed by each statement: the error says so,
        where DuckDB's "nothing it started was kept" would be false.

        Raises:
            Cancelled: the COMMIT was interrupted before it took effect.
        """
        try:
            return self.meta.end(commit)
        except Exception as error:  # a KeyboardInterrupt stays Python's own, which claims nothing
            from sqlml.engine.errors import is_interrupt  # imports sqlglot: not at the top (see DuckDBEngine.end)

            if not (commit and is_interrupt(error)):
                raise
            raise Cancelled(
                "The COMMIT was cancelled before it took effect: sqlml's bookkeeping of the transaction was rolled "
                "back, but the rows its Spark statements wrote are kept (Spark commits each statement on its own)."
            ) from error

    # -- cursors and registered data ---------------------------------------------------------

    def cursor(self) -> Cursor:
        """This thread's cursor (the bookkeeping engine's, paired with Spark). Call while leased."""
        return SparkCursor(self.shared, self.meta.cursor())

    def new_cursor(self) -> Cursor:
        """A fresh cursor for a side job; the caller closes it."""
        return SparkCursor(self.shared, self.meta.new_cursor())

    def define_view(self, cursor: Cursor, name: str, sql: str) -> None:
        """(Re)define ``name`` as a TEMP view on the side that runs ``sql``: Spark's TEMP views
        are seen by every cursor; one over the bookkeeping goes to the bookkeeping engine."""
        shared = self.shared
        if side(sql, shared.meta_view_names()) == META:
            meta = cursor.meta if isinstance(cursor, SparkCursor) else cursor
            if reads_catalog(sql):
                catalog.install_catalog_views(shared.spark, meta)
            self.meta.define_view(meta, name, with_catalog_views(sql))
            with shared.lock:
                shared.meta_views.add(name.lower())
            return
        run_statements(shared.spark, f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        with shared.lock:
            shared.meta_views.discard(name.lower())

    def register(self, name: str, data: pa.Table | pd.DataFrame) -> None:
        """Make Arrow data (or a DataFrame) readable as ``name`` by every later statement."""
        register_frame(self.spark, name, data)

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""
        self.spark.catalog.dropTempView(name)

    # -- training: where CREATE MODEL may train -------------------------------------------------

    def check_training(self, model_type: str, place: str | None) -> None:
        """Refuse to train ``model_type`` unless the statement says where: no family has a
        distributed trainer on Spark yet, so the rows are collected to the driver, which only
        ``OPTIONS(spark_train='driver')`` allows (a table larger than the driver's memory must not
        be collected silently)."""
        if place == "driver":
            return
        if place is not None:
            raise InvalidOptionError(
                f"spark_train='{place}' is not a place to train.", option="spark_train", hint="Use spark_train='driver'."
            )
        raise InvalidOptionError(
            f"model_type='{model_type.lower()}' has no distributed trainer on Spark yet; training would collect every "
            "training row to the Spark driver.",
            option="spark_train",
            hint="Add OPTIONS(spark_train='driver') to train on the driver (the rows must fit in its memory), "
            "or sample the training query.",
        )

    # -- write turns, remembered facts: the bookkeeping engine's --------------------------------

    def take_turn(self, table: str, owner: object, *, transaction: bool, cancel: threading.Event) -> None:
        """Make ``owner`` the writer of ``table`` (see :meth:`DuckDBEngine.take_turn`)."""
        self.meta.take_turn(table, owner, transaction=transaction, cancel=cancel)

    def wait_for_other_writers(self, table: str, *, cancel: threading.Event) -> None:
        """Wait until the statements writing other tables have ended."""
        self.meta.wait_for_other_writers(table, cancel=cancel)

    def give_back_turns(self, owner: object) -> None:
        """End every write turn ``owner`` holds."""
        self.meta.give_back_turns(owner)

    def memo(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, remembered under ``key`` (see :meth:`DuckDBEngine.memo`)."""
        return self.meta.memo(key, compute)

    def forget(self, key: Hashable) -> None:
        """Drop what :meth:`memo` remembers for ``key``."""
        self.meta.forget(key)

    def forget_memos(self) -> None:
        """Drop everything :meth:`memo` remembers."""
        self.meta.forget_memos()

    # -- progress, interrupts, closing ---------------------------------------------------------

    def track_progress(self, on: bool = True) -> None:
        """Progress is measured on the bookkeeping side only (Spark reports stages, not percent)."""
        self.meta.track_progress(on)

    def query_progress(self) -> float:
        """Percent done of the query running on the bookkeeping side (-1 when none or unknown)."""
        return self.meta.query_progress()

    def interrupt(self) -> None:
        """Cancel Spark's running jobs and the bookkeeping's statements."""
        self.meta.interrupt()
        self.spark.sparkContext.cancelAllJobs()

    def close(self) -> None:
        """End the session (the Spark session stays: it is the process's, see :mod:`.session`)."""
        self.meta.close()
