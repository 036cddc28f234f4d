"""A live progress line on the terminal for long work (training iterations, tuning trials).

Installed by the CLI for the statements it runs when standard error is a terminal (or when
``--progress`` forces it); library calls stay quiet. The line is redrawn at most ten times a
second and cleared when the task ends, so results printed afterwards are not interleaved.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from sqlml.progress import Reporter, Task

_REDRAW_SECONDS = 0.1


class ProgressBar(Reporter):
    """Draws ``description [#####.....] 12/50 iterations  3.1s elapsed, ETA 9.0s  detail``."""

    def __init__(self, stream: TextIO | None = None, width: int = 24):
        self.stream = stream or sys.stderr
        self.width = width
        self._last_draw = 0.0

    def started(self, task: Task) -> None:
        self._draw(task, force=True)

    def advanced(self, task: Task) -> None:
        self._draw(task)

    def finished(self, task: Task) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()

    def _draw(self, task: Task, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < _REDRAW_SECONDS and task.done != task.total:
            return
        self._last_draw = now
        self.stream.write("\r\033[K" + render_line(task, self.width))
        self.stream.flush()


def render_line(task: Task, width: int = 24) -> str:
    """One progress line for ``task`` (without the terminal control codes)."""
    parts = [task.description]
    if task.total:
        filled = int(width * min(task.done, task.total) / task.total)
        parts.append(f"[{'#' * filled}{'.' * (width - filled)}] {task.done}/{task.total} {task.unit}")
    else:
        parts.append(f"{task.done} {task.unit}")
    timing = f"{task.elapsed:.1f}s elapsed"
    if task.eta is not None:
        timing += f", ETA {task.eta:.1f}s"
    parts.append(timing)
    if task.detail:
        parts.append(task.detail)
    return "  ".join(parts)
