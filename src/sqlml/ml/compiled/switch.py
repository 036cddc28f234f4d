"""Whether trees may score through compiled code: ``SQLML_COMPILE=off`` for the process, and a
connection's ``compile=False`` for the statements it runs.

The connection's choice is a context variable set while its statements run (and carried into
DuckDB's threads with the readers those statements register: ``execution/sources.py``), so a
model shared by connections in one process follows each statement's own connection. This module
imports nothing heavy: the connection uses it before any model code is loaded.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

VARIABLE = "SQLML_COMPILE"
_ALLOWED: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlml_compile_trees", default=True)


def enabled() -> bool:
    """Whether compiled prediction is on here: not turned off by ``SQLML_COMPILE=off`` (or 0,
    false, no) nor by the connection running the current statement."""
    return _ALLOWED.get() and os.environ.get(VARIABLE, "on").strip().lower() not in ("off", "0", "false", "no")


@contextlib.contextmanager
def compiling(allowed: bool) -> Iterator[None]:
    """Statements run inside the block score trees compiled only if ``allowed``."""
    token = _ALLOWED.set(allowed)
    try:
        yield
    finally:
        _ALLOWED.reset(token)
