"""Whose turn it is to run a statement in a session's open transaction (see
:meth:`~sqlml.engine.duckdb.engine.DuckDBEngine.statement`): one thread at a time, since a DuckDB
cursor runs one call at a time, first come, first served."""

from __future__ import annotations

import collections
import threading


class Turns:
    """Whose turn it is to run a statement in the session's transaction: first come, first served,
    and a thread whose turn it is may take it again (a statement inside a statement)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._owner: int | None = None
        self._waiting: collections.deque[int] = collections.deque()

    def is_mine(self) -> bool:
        """Whether this thread has the turn."""
        return self._owner == threading.get_ident()

    def take(self) -> None:
        """Wait for this thread's turn (at once if it has it already)."""
        me = threading.get_ident()
        with self._changed:
            if self._owner == me:
                return
            self._waiting.append(me)
            try:
                while self._owner is not None or self._waiting[0] != me:
                    self._changed.wait()
            except BaseException:  # interrupted while waiting: let the next one in line go
                self._waiting.remove(me)
                self._changed.notify_all()
                raise
            self._waiting.popleft()
            self._owner = me

    def give_back(self) -> None:
        """End this thread's turn, if it has one."""
        if self._owner != threading.get_ident():  # only this thread makes itself the owner
            return
        with self._changed:
            self._owner = None
            self._changed.notify_all()
