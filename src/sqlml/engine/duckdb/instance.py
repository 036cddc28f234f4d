"""A connection's private DuckDB instance and its hold on the warehouse file.

The file is attached while leases are out and detached when the last one ends and either
another process waits for it (:mod:`sqlml.engine.duckdb.lease_queue`) or ``idle_release`` seconds pass
with none taken. See :mod:`sqlml.engine.duckdb.engine` for the whole picture.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

import duckdb

from sqlml.engine.base import CATALOG
from sqlml.engine.duckdb import scratch
from sqlml.engine.duckdb.builtins import Installer, OnFirstNeed
from sqlml.engine.duckdb.lease_queue import READ, WRITE, LeaseQueue, Ticket
from sqlml.engine.duckdb.table_writes import TableWrites
from sqlml.errors import Cancelled, WarehouseError, WarehouseLockedError

#: The file inside the warehouse folder.
FILENAME = "warehouse.duckdb"
#: Seconds between two looks of a waiter at the file, and of an idle holder at the queue.
POLL = 0.02
#: Seconds the idle watcher sleeps while the file is in use or detached (a release wakes it), so
#: that it also notices an instance collected unclosed.
_UNWATCHED = 1.0


class Instance:
    """The DuckDB instance shared by a connection's sessions, and the leases on the file.

    Args:
        folder: the warehouse folder, or None for an in-memory warehouse.
        read_only: attach the file read-only (several processes may then read at once).
        lock_timeout: seconds to wait for other processes to release the file.
        idle_release: seconds of idleness after which the file is released.
        config: extra DuckDB settings (``threads``, ``memory_limit``…).
        functions: installers of the BigQuery functions DuckDB lacks, run when a statement first needs
            them (see :mod:`~sqlml.engine.duckdb.builtins`).
    """

    def __init__(
        self,
        folder: str | Path | None,
        *,
        read_only: bool,
        lock_timeout: float,
        idle_release: float,
        config: dict | None,
        functions: Sequence[Installer] = (),
    ) -> None:
        self.path = None if folder is None else Path(folder) / FILENAME
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.idle_release = idle_release
        #: Seconds spent so far waiting for other processes to yield the file.
        self.waited = 0.0
        # Replacement scans would let any Python variable in a caller's frame shadow a table.
        self.db = duckdb.connect(":memory:", config={"python_enable_replacements": False, **(config or {})})
        #: Guards the session state below (memos, registrations, views); leases have their own.
        self.lock = threading.RLock()
        self._changed = threading.Condition(threading.RLock())
        self._leases = self._pins = 0
        self._depth = threading.local()  # leases taken by this thread and not yet given back
        self._draining = False
        self._looked_at = 0.0  # when the queue was last looked at
        self._stop_waiting = threading.Event()
        self.generation = 0
        self._attached = False
        self._watcher: threading.Thread | None = None  # detaches the file when idle (see _watch_idle)
        self._watching = False  # the watcher looks every POLL seconds (else it sleeps until woken)
        self._idle_since = 0.0
        self.closed = False
        self.memos: dict = {}
        self.registered: dict[str, object] = {}
        self.forgotten: set[str] = set()
        self.registry_version = 0
        self.views: dict[str, str] = {}
        #: Which session writes each table (sessions of one instance take turns on a table).
        self.table_writes = TableWrites()
        #: The built-in functions, installed when a statement first needs them.
        self.builtins = OnFirstNeed(self.db, functions)
        scratch.provide(functions)  # SQL over values outside the warehouse may call them too
        self._queue = None if folder is None else LeaseQueue(Path(folder))
        self._cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()  # see cursor()
        if self.path is None:
            self.db.execute(f"ATTACH ':memory:' AS {CATALOG}")
            self._attached = True
            self.generation = 1
        elif not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new DuckDB cursor on the instance (a session's, or a side cursor of a statement)."""
        cursor = self.db.cursor()
        self._cursors.add(cursor)
        return cursor

    @property
    def is_attached(self) -> bool:
        """Whether this process currently holds the warehouse file."""
        return self._attached

    # -- leases ------------------------------------------------------------------------------

    def acquire(self, *, pinned: bool = False) -> None:
        """Take a lease, attaching the file (in turn with other processes) if none was held.

        ``pinned`` marks the lease an open transaction holds: the file is not yielded before it
        is given back, and it belongs to no thread.
        """
        with self._changed:
            if self.closed:
                raise WarehouseError("This connection is closed.", hint="Open a new one with sqlml.connect().")
            if not self._attached:
                self._attach()
            self._leases += 1
            if pinned:
                self._pins += 1
                self._changed.notify_all()  # statements waiting for a yield: none comes now
            else:
                self._depth.count = getattr(self._depth, "count", 0) + 1

    def release(self, *, pinned: bool = False) -> None:
        """Give a lease back; the last one detaches the file at once if another process waits."""
        with self._changed:
            self._leases -= 1
            if pinned:
                self._pins -= 1
            elif getattr(self._depth, "count", 0):
                # A result read on another thread is given back there; its taker keeps a count
                # too many and only passes the yield below without waiting.
                self._depth.count -= 1
            if self._leases > 0 or self.path is None or self.closed:
                return
            if self.idle_release <= 0 or self._draining or self._is_waited_for():
                self._detach()
                return
            self._idle_since = time.monotonic()
            if self._watcher is None:
                self._watcher = threading.Thread(target=_watch_idle, args=(weakref.ref(self), self._changed), daemon=True)
                self._watcher.start()
            elif not self._watching:
                self._changed.notify_all()  # wake the watcher from its long sleep

    def _is_waited_for(self) -> bool:
        """Whether a process this one excludes waits: anyone while we write, a writer while we read."""
        self._looked_at = time.monotonic()
        return self._queue.has_waiters(writers_only=self.read_only)

    def admit(self) -> None:
        """Before a call into the connection (a script, a load): yield the file first if another
        process waits for it.

        Idle, the file is detached at once. Busy with other threads' calls, this one waits until
        theirs end and the last lease detaches the file, so that a process whose calls overlap
        still yields. Never while a transaction is open, nor while this thread holds a lease (a
        result it has not read yet): it would wait for itself. Leases a call takes on its own
        helper threads are not calls and never wait.
        """
        with self._changed:
            self._yield_if_waited_for()

    def _yield_if_waited_for(self) -> None:
        if not self._attached or self.path is None or self._pins or getattr(self._depth, "count", 0):
            return
        if not self._draining:
            # Idle, a look taken less than POLL ago (as the last lease ended) will do: the idle
            # timer looks that often too. Busy, look: the leases may never all end.
            if not self._leases and time.monotonic() - self._looked_at < POLL:
                return
            if not self._is_waited_for():
                return
            if not self._leases:
                self._detach()
                return
            self._draining = True
        deadline = time.monotonic() + self.lock_timeout
        while self._draining and self._attached and not self.closed and not self._pins:
            remaining = deadline - time.monotonic()
            if remaining <= 0:  # a lease nobody gives back (a result never read) must not stall us
                self._draining = False
                break
            self._changed.wait(remaining)

    # -- attaching ---------------------------------------------------------------------------

    def _attach(self) -> None:
        started = time.monotonic()
        deadline = started + self.lock_timeout
        ticket: Ticket | None = None
        queued = False
        busy: duckdb.Error | None = None
        delay = 0.001
        self._stop_waiting.clear()
        try:
            while True:
                if ticket is not None:
                    ready = self._queue.is_turn(ticket)
                else:  # no waiter to go behind, or no place in the queue to be had
                    ready = queued or not self._is_waited_for()
                if ready:
                    busy = self._try_attach(collect=busy is None)
                    if busy is None:
                        break
                if not queued:
                    ticket, queued = self._queue.enqueue(READ if self.read_only else WRITE), True
                    continue
                if time.monotonic() >= deadline:
                    raise self._locked_error(busy, ticket) from None
                if self._stop_waiting.wait(delay):
                    raise Cancelled("Cancelled while waiting for the warehouse; nothing was changed.")
                delay = min(delay * 2, POLL)
        finally:
            if ticket is not None:
                self._queue.leave(ticket)
        self.waited += time.monotonic() - started
        self.generation += 1
        with self.lock:
            self.memos.clear()  # another process may have changed the file while it was released
        # Noted last: an interrupt (KeyboardInterrupt) landing anywhere since DuckDB's ATTACH
        # leaves the file attached but not noted, which the next attach finds and adopts.
        self._attached = True

    def _try_attach(self, collect: bool) -> duckdb.Error | None:
        """Attach the file; the error when it is busy (None once attached)."""
        error = self._attach_once()
        if error is not None and _is_in_this_process(error) and self._holds_catalog():
            return None  # attached by this instance already, but an interrupt came before it was noted
        if error is not None and collect and _is_in_this_process(error):
            # A finished query's result object still pins the detached file: one held (e.g., by
            # a traceback) until it is collected, or the pending result an interrupted statement
            # left on its cursor until the cursor runs another query. No cursor of this
            # instance is in use while it attaches (no lease is out), so each may run one.
            gc.collect()
            self._drop_results()
            error = self._attach_once()
        if error is not None and not _is_busy(error):
            from sqlml.engine.duckdb.file_faults import open_refused  # loaded on a failure only

            if not self.read_only and (refusal := open_refused(self.path, str(error))):
                raise refusal from None
            hint = None if isinstance(error, duckdb.IOException) else "Check that the file is a DuckDB 2 database written by sqlml."
            raise WarehouseError(f"Cannot open the warehouse {self.path}: {error}", hint=hint) from None
        return error

    def _attach_once(self) -> duckdb.Error | None:
        mode = " (READ_ONLY)" if self.read_only else ""
        try:
            self.db.execute(f"ATTACH '{_sql_string(str(self.path))}' AS {CATALOG}{mode}")
        except duckdb.Error as error:
            return error
        return None

    def _drop_results(self) -> None:
        for cursor in list(self._cursors):
            with contextlib.suppress(duckdb.Error):
                cursor.execute("SELECT 1")

    def _holds_catalog(self) -> bool:
        """Whether this instance's DuckDB has the warehouse attached (DuckDB's truth, which
        :attr:`is_attached` notes)."""
        query = "SELECT count(*) FROM duckdb_databases() WHERE database_name = $name"
        return self.db.execute(query, {"name": CATALOG}).fetchall()[0][0] > 0

    def stop_waiting(self) -> None:
        """Give up waiting for the file (Ctrl-C): the waiting statement fails with Cancelled."""
        self._stop_waiting.set()

    def _detach(self) -> None:
        self._draining = False
        self._changed.notify_all()
        if self.path is None:
            return
        # Noted first, and detached even when not noted: an interrupt landing after DuckDB's
        # DETACH must not leave the file noted attached (every later statement would fail on
        # the missing catalog); one landing before it leaves the file attached but not noted,
        # which the next attach adopts (see _try_attach) and close() still detaches.
        self._attached = False
        try:
            self.db.execute(f"DETACH DATABASE IF EXISTS {CATALOG}")
        except duckdb.IOException as error:
            from sqlml.engine.duckdb.file_faults import checkpoint_failed  # loaded on a failure only

            if not checkpoint_failed(self.path, str(error)):
                raise

    def _detach_if_idle(self) -> float:
        """Detach the file if it is idle and either someone waits for it or ``idle_release``
        seconds passed since the last release; the seconds until the next look."""
        self._watching = False
        if self._leases or not self._attached or self.closed:
            return _UNWATCHED
        remaining = self._idle_since + self.idle_release - time.monotonic()
        if remaining <= 0 or self._is_waited_for():
            self._detach()
            return _UNWATCHED
        self._watching = True
        return min(remaining, POLL)

    def _locked_error(self, busy: duckdb.Error | None, ticket: Ticket | None) -> WarehouseLockedError:
        # DuckDB names the holder: '... Conflicting lock is held in /usr/bin/python3 (PID 4242) ...'
        message = str(busy or "")
        pid = None
        if "PID " in message:
            digits = message.split("PID ", 1)[1].split(")")[0].strip()
            pid = int(digits) if digits.isdigit() else None
        if pid is None and ticket is not None:
            pid = next((pid for pid, _ in self._queue.ahead_of(ticket)), None)  # never our turn: the first ahead
        holder = f" (PID {pid})" if pid else ""
        return WarehouseLockedError(
            f"The warehouse {self.path} is in use by another process{holder}; waited {self.lock_timeout:g} s.",
            hint=(
                "Wait for it to finish and retry, raise the wait with "
                "sqlml.connect(..., lock_timeout=SECONDS) or --lock-timeout, or open it read-only "
                "with sqlml.connect(..., read_only=True) once the writer is done."
            ),
            pid=pid,
        )

    def close(self) -> None:
        """Release the file and close the DuckDB instance."""
        with self._changed:
            if self.closed:
                return
            self.closed = True
            self._changed.notify_all()  # the watcher ends
            with contextlib.suppress(duckdb.Error):
                self._detach()
            self.db.close()


def _watch_idle(ref: weakref.ref, changed: threading.Condition) -> None:
    """The one thread per instance that, while the file is attached and idle, looks at the queue
    every :data:`POLL` seconds (:meth:`Instance._detach_if_idle`), so that neither a statement
    nor an idle period starts a thread. Ends when the instance is closed or collected: it holds
    the instance only while it looks."""
    with changed:
        while (instance := ref()) is not None and not instance.closed:
            wait = instance._detach_if_idle()
            del instance
            changed.wait(wait)


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def _is_busy(error: duckdb.Error) -> bool:
    """Another process holds the file's lock, or another instance of this process has it attached.

    Either way the file frees up when that holder's lease ends, so the caller waits for it.
    """
    if isinstance(error, duckdb.IOException):
        return "lock" in str(error).lower()
    return _is_in_this_process(error)


def _is_in_this_process(error: duckdb.Error) -> bool:
    """The file is attached in this process already: by another instance, or by this one."""
    return "already attached" in str(error)

