"""Progress of long work (training iterations, tuning trials, rows scored), for front doors to show.

Library calls stay quiet: the default reporter does nothing. The CLI and the shell install a
reporter that draws a live bar; tests install one that records events.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Task:
    """One piece of long work.

    Attributes:
        description: what is running, e.g. ``Training ds.churn (boosted_tree_classifier)``.
        total: how many steps it has, when known.
        unit: what a step is (``iterations``, ``trials``, ``rows``).
        done: steps finished so far.
        started: ``time.monotonic()`` at the start.
        detail: a short status such as ``eval_loss 0.31``.
    """

    description: str
    total: int | None = None
    unit: str = "steps"
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    detail: str = ""

    @property
    def elapsed(self) -> float:
        """Seconds since the task started."""
        return time.monotonic() - self.started

    @property
    def eta(self) -> float | None:
        """Estimated seconds left, when the total is known and some steps are done."""
        if not self.total or not self.done:
            return None
        return self.elapsed / self.done * (self.total - self.done)


class Reporter:
    """Receives progress events; the base class ignores them (library calls stay quiet)."""

    def started(self, task: Task) -> None:
        """A task began."""

    def advanced(self, task: Task) -> None:
        """A task finished one or more steps."""

    def finished(self, task: Task) -> None:
        """A task ended (successfully or not)."""


_local = threading.local()


def current_reporter() -> Reporter:
    """The reporter installed for this thread, or a silent one."""
    return getattr(_local, "reporter", None) or _SILENT


@contextlib.contextmanager
def reporting(reporter: Reporter):
    """Install ``reporter`` for this thread during a ``with`` block."""
    previous = getattr(_local, "reporter", None)
    _local.reporter = reporter
    try:
        yield reporter
    finally:
        _local.reporter = previous


@contextlib.contextmanager
def task(description: str, total: int | None = None, unit: str = "steps"):
    """Report a task to the current reporter; yields the :class:`Task` to advance."""
    reporter = current_reporter()
    running = Task(description, total, unit)
    reporter.started(running)
    try:
        yield _Handle(running, reporter)
    finally:
        reporter.finished(running)


class _Handle:
    """What a running task's code calls to report progress."""

    def __init__(self, running: Task, reporter: Reporter):
        self.task = running
        self._reporter = reporter

    def advance(self, steps: int = 1, detail: str = "") -> None:
        """Mark ``steps`` more steps done, with an optional status text."""
        self.task.done += steps
        if detail:
            self.task.detail = detail
        self._reporter.advanced(self.task)


_SILENT = Reporter()
