"""How deeply a statement may nest, and running sqlglot's recursive work on deep statements.

sqlglot's parser and generator recurse: each level of ``( … )``, ``[ … ]``, ``CASE … END`` or a
subquery costs some 20 to 30 Python frames, so under Python's default limit of 1,000 frames a
statement nested about 40 levels deep raised ``RecursionError``. sqlml accepts
:data:`MAX_NESTING` levels, counted on a statement's tokens before it is parsed (so the limit is
exact and the error points at the token one level too deep). Work on a statement within that
limit that still runs out of frames on the caller's thread is run again by :func:`call` on a
helper thread with a larger stack and frame limit; past the limit, :func:`nested_too_deeply`
is the error.

Why this number: DuckDB refuses expressions nested more than 1,000 levels (its
``max_expression_depth``, which guards its own C++ stack); the common constructs cost it up to
six levels each once translated, so 100 levels run end to end. A few cost more (a scalar
subquery around a division, ten) and meet DuckDB's limit first, which has its own message
(:func:`sqlml.engine.errors.translate`). Measured on Python 3.11: 100 levels need at most
~3,000 frames and ~128 KiB of C stack, far inside :data:`_FRAMES` and :data:`_STACK_BYTES`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from sqlml.errors import Location, SqlSyntaxError

#: Levels of parentheses, brackets, CASE … END and subqueries a statement may nest, and levels of
#: procedural blocks (BEGIN, IF, CASE, loops) a script may nest.
MAX_NESTING = 100
#: Python frames allowed while a deep statement is parsed or generated on the helper thread.
_FRAMES = 8_000
#: The helper thread's stack: room for :data:`_FRAMES` frames that go through C code.
_STACK_BYTES = 64 * 1024 * 1024

_T = TypeVar("_T")
_deep = threading.Lock()  # one deep run at a time: the frame limit is process-wide


def nested_too_deeply(location: Location | None = None) -> SqlSyntaxError:
    """The error for a statement nested past what sqlml (or DuckDB) can run."""
    return SqlSyntaxError(
        f"The statement is nested too deeply (more than {MAX_NESTING} levels of parentheses, "
        "brackets, CASE, subqueries or blocks).",
        hint="Simplify it: move inner parts into WITH clauses, views or script variables.",
        location=location,
    )


def call(function: Callable[..., _T], *args) -> _T:
    """``function(*args)``, run again on a deep stack if the caller's thread runs out of frames.

    ``function`` must be free of side effects (parsing, generating SQL): it may run twice.

    Raises:
        RecursionError: even the deep stack was not enough.
    """
    try:
        return function(*args)
    except RecursionError:
        pass
    return _on_deep_stack(function, *args)


def _on_deep_stack(function: Callable[..., _T], *args) -> _T:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, function(*args)))
        except BaseException as error:  # noqa: BLE001 - handed back to the calling thread
            outcome.append((False, error))

    helper = threading.Thread(target=run, name="sqlml-deep-stack", daemon=True)
    with _deep:
        previous_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(previous_limit, _FRAMES))
        try:
            previous_size = threading.stack_size(_STACK_BYTES)  # for threads started from now on
            try:
                helper.start()
            finally:
                threading.stack_size(previous_size)
            helper.join()
        finally:
            sys.setrecursionlimit(previous_limit)
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value
