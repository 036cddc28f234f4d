"""One shell session: runs typed SQL and dot-commands on a connection and prints what they return.

Statements run on one worker thread while the calling thread waits, draws progress and catches
Ctrl-C: the first Ctrl-C interrupts the statement (DuckDB's interrupt; training stops between
iterations; a wait for a warehouse file another process holds ends), which then fails and leaves
the warehouse and the model store as they were — unless it had already completed (its COMMIT
took effect): then its result is shown, saying the Ctrl-C came too late.
Errors print as sqlml's one message with its caret excerpt, never a traceback.
"""

from __future__ import annotations

import concurrent.futures
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pyarrow as pa

import sqlml
from sqlml.cli.progress_bar import ProgressBar, render_line
from sqlml.progress import Task, reporting
from sqlml.render import render, render_table, render_vertical
from sqlml.shell.dot_commands import is_dot_command, run_dot_command
from sqlml.sql.dialect import DIALECTS

#: Seconds a plain query runs before the shell shows that it is still running.
BUSY_AFTER = 1.0


@dataclass
class Settings:
    """What dot-commands change: output format, timing, where results go, how many rows print."""

    mode: str = "table"
    timer: bool = False
    output: Path | None = None
    max_rows: int = 40


class Session:
    """Runs shell input against ``connection``; prints results to ``out`` and messages to ``err``.

    Args:
        connection: the open connection.
        out: where results go (standard output by default).
        err: where errors, progress and row counts go (standard error by default).
        interactive: draw progress bars and the still-running line.
    """

    def __init__(self, connection: sqlml.Connection, out: TextIO | None = None, err: TextIO | None = None, interactive: bool = True):
        self.connection = connection
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.interactive = interactive
        self.settings = Settings()
        self.worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sqlml-shell")
        if interactive:
            connection.track_progress()
        #: Set after a statement that may change the catalog (for completion to refresh).
        self.catalog_changed = True

    # -- entry points ------------------------------------------------------------------------

    def run(self, text: str) -> bool:
        """Run one input (a script or a dot-command); False when it failed or was cancelled."""
        if is_dot_command(text):
            return run_dot_command(self, text.strip())
        return self.run_sql(text)

    def run_sql(self, sql: str, path: str | None = None) -> bool:
        """Run a script and print its last statement's result."""
        started = time.monotonic()
        try:
            result = self.call(lambda: self._query(sql, path))
        except sqlml.Error as error:
            self.error(str(error))
            return False
        except KeyboardInterrupt as interrupt:
            self.error(_cancelled(interrupt.__cause__))
            return False
        finally:
            self.catalog_changed = True
        self.show(result)
        if self.settings.timer:
            self.message(f"Run time: {time.monotonic() - started:.3f} s")
        return True

    def call(self, work):
        """``work()`` on the session's worker thread; Ctrl-C interrupts it and, once it stopped,
        raises KeyboardInterrupt (caused by the error it failed with) — or returns what it
        returned, when it completed all the same."""
        future = self.worker.submit(work)
        started = time.monotonic()
        busy_shown = False
        try:
            while True:
                try:
                    return future.result(timeout=0.1)
                except concurrent.futures.TimeoutError:
                    if self.interactive and time.monotonic() - started > BUSY_AFTER and not _training_shown():
                        self.err.write("\r\033[K" + self._busy_line(started))
                        self.err.flush()
                        busy_shown = True
        except KeyboardInterrupt:
            self.connection.interrupt()
            try:
                result = future.result()
            except (sqlml.Error, KeyboardInterrupt) as error:
                raise KeyboardInterrupt from error
            self.message("Ctrl-C came too late: the statement had already completed.")
            return result
        finally:
            if busy_shown:
                self.err.write("\r\033[K")
                self.err.flush()

    def _busy_line(self, started: float) -> str:
        """``Running query [####....] 45/100 %  3.1s elapsed, ETA 3.8s`` from DuckDB's progress."""
        percent = self.connection.query_progress()
        running = Task("Running query (Ctrl-C cancels)", total=100 if percent >= 0 else None, unit="%", started=started)
        running.done = int(percent) if percent >= 0 else 0
        return render_line(running) if percent > 0 else f"Running… {running.elapsed:.1f}s elapsed (Ctrl-C cancels)"

    # -- output --------------------------------------------------------------------------------

    def show(self, result: sqlml.Result) -> None:
        """Print a statement's result in the current mode."""
        if not result.columns:
            if result.rowcount >= 0:
                self.message(f"{result.rowcount} row{'s' if result.rowcount != 1 else ''} affected.")
            return
        self.show_table(result.arrow())

    def show_table(self, table: pa.Table) -> None:
        """Print rows: at most ``max_rows`` of them, as a table that fits the terminal or vertically."""
        total = table.num_rows
        shown = table.slice(0, self.settings.max_rows) if self.settings.mode in ("table", "vertical") else table
        mode = self.settings.mode
        if mode == "table":
            text = render_table(shown, max_width=sys.maxsize)
            if _widest_line(text) > self.width:  # too wide for the terminal: one record per block
                text = render_vertical(shown)
        else:
            text = render(shown, mode)
        self.write(text)
        if mode in ("table", "vertical"):
            more = f", first {shown.num_rows} shown (.maxrows N to change)" if shown.num_rows < total else ""
            self.message(f"({total} row{'s' if total != 1 else ''}{more})")

    @property
    def dialect_class(self):
        """The sqlglot dialect class of what is typed (follows ``.dialect``)."""
        return DIALECTS[self.connection.dialect]

    @property
    def width(self) -> int:
        return shutil.get_terminal_size((120, 24)).columns

    def write(self, text: str) -> None:
        """Results: to ``.output``'s file when set, else to ``out``."""
        if self.settings.output is not None:
            with open(self.settings.output, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
            return
        self.out.write(text + "\n")
        self.out.flush()

    def message(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def error(self, text: str) -> None:
        self.err.write(f"Error: {text}\n")
        self.err.flush()

    def close(self) -> None:
        self.worker.shutdown(wait=True)

    # -- internals -----------------------------------------------------------------------------

    def _query(self, sql: str, path: str | None) -> sqlml.Result:
        """Runs on the worker: the query with a progress bar for training and tuning."""
        import contextlib

        bar = reporting(_TrackedBar(self.err)) if self.interactive else contextlib.nullcontext()
        with bar:
            result = self.connection.query(sql, path=path)
            if result.columns:
                result.arrow()  # read the rows here, where Ctrl-C can interrupt them
            return result


class _TrackedBar(ProgressBar):
    """The CLI's progress bar, noting while it is on screen (so the busy line stays away)."""

    def started(self, task) -> None:
        _ACTIVE.add(id(task))
        super().started(task)

    def finished(self, task) -> None:
        _ACTIVE.discard(id(task))
        super().finished(task)


_ACTIVE: set[int] = set()


def _cancelled(error: BaseException | None) -> str:
    """The message for input a Ctrl-C stopped with ``error``: nothing changed when its first
    statement was stopped; a later one is named, as the statements before it had run."""
    location = error.location if isinstance(error, sqlml.Error) else None
    if location is not None and location.statement is not None and location.statement > 1:
        return f"Cancelled at statement {location.statement}; nothing it started was kept."
    return "Cancelled; nothing was changed."


def _training_shown() -> bool:
    return bool(_ACTIVE)


def _widest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)
