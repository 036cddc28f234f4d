"""The one DuckDB instance a connection uses, holding the warehouse file only while work runs.

DuckDB lets one process hold a database file for writing and refuses every other process
meanwhile (duckdb.org/docs/2.0/connect/concurrency). A shell left open must not lock out the
scheduler, the project runner or the server, so the warehouse file is *attached* to a private
in-memory DuckDB instance for the duration of a lease and *detached* once no lease is left and
the connection has been idle for ``idle_release`` seconds (a short grace period, so that a loop
of small statements does not pay for the attach each time).

Session state lives outside the file and survives detaching: TEMP tables and TEMP functions are
in each cursor's temporary catalog, registered DataFrames are re-registered on every cursor,
and script variables are kept in Python by the scripting layer.

A second process that wants the file while it is held waits up to ``lock_timeout`` seconds, then
gets :class:`~sqlml.errors.WarehouseLockedError` naming the process that holds it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from pathlib import Path

import duckdb

from sqlml.engine import builtins
from sqlml.errors import WarehouseError, WarehouseLockedError

#: The catalog name the warehouse file is attached under; unqualified names resolve in it.
CATALOG = "warehouse"
#: The file inside the warehouse folder.
FILENAME = "warehouse.duckdb"


class Warehouse:
    """Owns the DuckDB instance of one connection and leases the warehouse file to its work.

    Args:
        folder: the warehouse folder, or None for an in-memory warehouse.
        read_only: attach the file read-only (several processes may then read at once).
        lock_timeout: seconds to wait for another process to release the file.
        idle_release: seconds of idleness after which the file is released.
        config: extra DuckDB settings (``threads``, ``memory_limit``…).
    """

    def __init__(
        self,
        folder: str | os.PathLike | None,
        *,
        read_only: bool = False,
        lock_timeout: float = 30.0,
        idle_release: float = 0.2,
        config: dict | None = None,
    ):
        self.path = None if folder is None else Path(folder) / FILENAME
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.idle_release = idle_release
        # Replacement scans would let any Python variable in a caller's frame shadow a table.
        self._db = duckdb.connect(":memory:", config={"python_enable_replacements": False, **(config or {})})
        self._lock = threading.RLock()
        self._leases = 0
        self._generation = 0
        self._attached = False
        self._timer: threading.Timer | None = None
        self._idle_since = 0.0
        self._local = threading.local()
        self._registered: dict[str, object] = {}
        self._forgotten: set[str] = set()
        self._registry_version = 0
        self._cursors: set = set()
        self._closed = False
        self._memos: dict = {}
        self._track_progress = False
        builtins.install(self._db)
        if self.path is None:
            self._db.execute(f"ATTACH ':memory:' AS {CATALOG}")
            self._attached = True
            self._generation = 1
        else:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)

    # -- leases ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lease(self):
        """Hold the warehouse file for the duration of a ``with`` block; yields this thread's cursor."""
        self.acquire()
        try:
            yield self.cursor()
        finally:
            self.release()

    def acquire(self) -> None:
        """Take a lease, attaching the file if no lease was held."""
        with self._lock:
            if self._closed:
                raise WarehouseError("This connection is closed.", hint="Open a new one with sqlml.connect().")
            if not self._attached:
                self._attach()
            self._leases += 1

    def release(self) -> None:
        """Give a lease back; the file is detached after ``idle_release`` seconds without one."""
        with self._lock:
            self._leases -= 1
            if self._leases > 0 or self.path is None:
                return
            if self.idle_release <= 0:
                self._detach()
                return
            self._idle_since = time.monotonic()
            if self._timer is None:  # one timer per idle period, not one thread per statement
                self._start_idle_timer(self.idle_release)

    @property
    def is_attached(self) -> bool:
        """Whether this process currently holds the warehouse file."""
        return self._attached

    def _attach(self) -> None:
        mode = " (READ_ONLY)" if self.read_only else ""
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.01
        collected = False
        while True:
            try:
                self._db.execute(f"ATTACH '{_sql_string(str(self.path))}' AS {CATALOG}{mode}")
                break
            except duckdb.Error as error:
                if "already attached" in str(error) and not collected:
                    # A finished query's result object (held, e.g., by a traceback) still pins
                    # the detached file; once it is collected the file can be attached again.
                    gc.collect()
                    collected = True
                    continue
                if not _is_busy(error):
                    if isinstance(error, duckdb.IOException):
                        raise WarehouseError(f"Cannot open the warehouse {self.path}: {error}") from None
                    raise WarehouseError(
                        f"Cannot open the warehouse {self.path}: {error}",
                        hint="Check that the file is a DuckDB 2 database written by sqlml.",
                    ) from None
                if time.monotonic() >= deadline:
                    raise _locked_error(self.path, error, self.lock_timeout) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        self._attached = True
        self._generation += 1
        self._memos.clear()  # another process may have changed the file while it was released

    def _start_idle_timer(self, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self._detach_if_idle)
        self._timer.daemon = True
        self._timer.start()

    def _detach_if_idle(self) -> None:
        """Detach once ``idle_release`` seconds passed since the last release with no lease taken."""
        with self._lock:
            self._timer = None
            if self._leases or not self._attached or self._closed:
                return
            remaining = self._idle_since + self.idle_release - time.monotonic()
            if remaining > 0:
                self._start_idle_timer(remaining)
            else:
                self._detach()

    def _detach(self) -> None:
        if not self._attached or self.path is None:
            return
        self._db.execute(f"DETACH {CATALOG}")
        self._attached = False

    # -- sqlml's own catalog, remembered -------------------------------------------------------

    def memo(self, key: tuple, compute):
        """``compute()``, remembered under ``key`` until :meth:`forget_memos` or the file is
        attached again. For facts about sqlml's own catalog tables (which tables are
        partitioned, which views call ML) that every statement consults: while this process
        holds the file nobody else can change them, and the executor forgets them after each
        statement that may change them (DDL, transactions, failures).
        """
        with self._lock:
            if key in self._memos:
                return self._memos[key]
        value = compute()
        with self._lock:
            self._memos[key] = value
        return value

    def remember(self, key: tuple, value) -> None:
        """Set what :meth:`memo` returns for ``key`` (after creating what it describes)."""
        with self._lock:
            self._memos[key] = value

    def forget_memos(self) -> None:
        """Drop every remembered value (after a statement that may have written the catalog)."""
        with self._lock:
            self._memos.clear()

    # -- cursors -----------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor, pointed at the warehouse. Call only while holding a lease.

        DuckDB refuses to share one connection object between threads ("connection is busy"),
        so each thread gets its own cursor on the shared instance (SQLMesh's connection pool).
        """
        local = self._local
        cursor = getattr(local, "cursor", None)
        if cursor is None:
            cursor = self._db.cursor()
            local.cursor, local.generation, local.registry = cursor, 0, 0
            with self._lock:
                self._cursors.add(cursor)
        if local.generation != self._generation:
            cursor.execute(f"USE {CATALOG}")
            local.generation = self._generation
        if local.registry != self._registry_version:
            self._sync_registrations(cursor)
            local.registry = self._registry_version
        if getattr(local, "progress", False) != self._track_progress:
            # DuckDB measures a query's progress only with its progress bar on; it must not print.
            cursor.execute(f"SET enable_progress_bar = {str(self._track_progress).lower()}")
            cursor.execute("SET enable_progress_bar_print = false")
            local.progress = self._track_progress
        return cursor

    def track_progress(self, on: bool = True) -> None:
        """Have DuckDB measure the progress of queries, for :meth:`query_progress`."""
        self._track_progress = on

    def query_progress(self) -> float:
        """Percent done of the query running on this connection (-1 when none or unknown)."""
        with self._lock:
            cursors = list(self._cursors)
        progress = -1.0
        for cursor in cursors:
            with contextlib.suppress(duckdb.Error):
                progress = max(progress, cursor.query_progress())
        return progress

    def new_cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor for a side job (reading an ML function's input); close it after use."""
        cursor = self._db.cursor()
        cursor.execute(f"USE {CATALOG}")
        self._sync_registrations(cursor)
        return cursor

    def register(self, name: str, data: object) -> None:
        """Make a pandas DataFrame or Arrow table readable by ``name`` in every later query."""
        with self._lock:
            self._registered[name] = data
            self._forgotten.discard(name)
            self._registry_version += 1

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""
        with self._lock:
            if self._registered.pop(name, None) is not None:
                self._forgotten.add(name)
            self._registry_version += 1

    def _sync_registrations(self, cursor) -> None:
        for name in self._forgotten:
            with contextlib.suppress(duckdb.Error):
                cursor.unregister(name)
        for name, data in self._registered.items():
            cursor.register(name, data)

    def interrupt(self) -> None:
        """Ask every running statement of this connection to stop (DuckDB's interrupt)."""
        with self._lock:
            for cursor in list(self._cursors):
                with contextlib.suppress(duckdb.Error):
                    cursor.interrupt()

    def close(self) -> None:
        """Release the file and close the DuckDB instance."""
        with self._lock:
            if self._closed:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._closed = True
            with contextlib.suppress(duckdb.Error):
                self._detach()
            self._db.close()


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def _is_busy(error: duckdb.Error) -> bool:
    """Another process holds the file's lock, or another connection of this process has it attached.

    Either way the file frees up when that holder's lease ends, so the caller waits for it.
    """
    if isinstance(error, duckdb.IOException):
        return "lock" in str(error).lower()
    return "already attached" in str(error)


def _locked_error(path: Path, error: Exception, waited: float) -> WarehouseLockedError:
    # DuckDB names the holder: '... Conflicting lock is held in /usr/bin/python3 (PID 4242) ...'
    message = str(error)
    pid = None
    if "PID " in message:
        digits = message.split("PID ", 1)[1].split(")")[0].strip()
        pid = int(digits) if digits.isdigit() else None
    holder = f" (PID {pid})" if pid else ""
    return WarehouseLockedError(
        f"The warehouse {path} is in use by another process{holder}; waited {waited:g} s.",
        hint=(
            "Wait for it to finish and retry, raise the wait with "
            "sqlml.connect(..., lock_timeout=SECONDS) or --lock-timeout, or open it read-only "
            "with sqlml.connect(..., read_only=True) once the writer is done."
        ),
        pid=pid,
    )
