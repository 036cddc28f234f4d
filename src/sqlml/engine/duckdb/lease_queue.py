"""A first-come, first-served queue of the processes waiting for a warehouse file.

DuckDB refuses a busy file at once and queues nobody (duckdb.org/docs/2.0/connect/concurrency:
one process may read and write, or several may read; a refused process just fails), so a
process whose statements come faster than its idle release would keep the file for ever and its
rivals would retry blindly until they time out. This queue orders them instead.

A waiter holds a *ticket*: a file in ``<warehouse folder>/.waiters`` named
``<arrival ns>-<pid>-<n>-<mode>`` (mode ``r`` for a read-only attach, ``w`` for read-write),
``flock``-ed by its owner for as long as it waits. The kernel drops the lock when the owner dies,
so a ticket nobody holds is a dead waiter's and is removed by whoever scans it. The rules:

* a waiter tries to attach only when no live ticket is ahead of it, or when it reads and every
  ticket ahead of it reads too (DuckDB lets several processes attach read-only at once);
* a newcomer that finds no ticket it must wait behind tries at once, without a ticket;
* the holder of the file looks (:meth:`LeaseQueue.has_waiters`: one ``listdir`` of a usually
  empty folder) whenever its last lease ends, and detaches at once if someone it excludes waits.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

#: The folder of tickets, inside the warehouse folder.
FOLDER = ".waiters"
READ, WRITE = "r", "w"
#: A ticket still being created (named with a leading dot) is ignored; one left this long by a
#: process that died while creating it is removed.
_STALE_DRAFT_SECONDS = 10.0
_numbers = itertools.count()


@dataclass(frozen=True)
class Ticket:
    """One waiter's place in the queue: its file, held open (and locked) while it waits."""

    path: Path
    fd: int
    mode: str

    @property
    def key(self) -> tuple[int, int, int]:
        return _key(self.path.name)


class LeaseQueue:
    """The waiters for the warehouse file in ``folder``.

    Args:
        folder: the warehouse folder (the tickets go in its ``.waiters`` sub-folder).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / FOLDER

    def has_waiters(self, *, writers_only: bool) -> bool:
        """Whether a ticket is waiting (only ``w`` tickets when ``writers_only``): the cheap test
        a holder makes as its last lease ends (one ``listdir`` of a usually empty folder). Dead
        tickets count too, until a waiter removes them.
        """
        try:
            names = os.listdir(self.folder)  # a little cheaper than scandir on an empty folder
        except OSError:  # no folder: nobody has waited yet
            return False
        modes = {_mode(name) for name in names}
        return WRITE in modes or (READ in modes and not writers_only)

    def enqueue(self, mode: str) -> Ticket | None:
        """Take a ticket at the back of the queue; None where no ticket can be written (a
        read-only folder), in which case the caller waits without a place in the queue."""
        try:
            self.folder.mkdir(exist_ok=True)
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(_numbers)}-{mode}"
            draft = self.folder / f".{name}"
            fd = os.open(draft, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o666)
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Renamed only once locked, so nobody sees the ticket unlocked and takes it for dead.
        os.rename(draft, self.folder / name)
        return Ticket(self.folder / name, fd, mode)

    def is_turn(self, ticket: Ticket) -> bool:
        """Whether ``ticket`` may try to attach now; removes dead waiters' tickets on the way."""
        return not any(mode == WRITE or ticket.mode == WRITE for _, mode in self.ahead_of(ticket))

    def ahead_of(self, ticket: Ticket | None) -> list[tuple[int, str]]:
        """``(pid, mode)`` of the live waiters ahead of ``ticket`` (of every live waiter for
        None), first come first."""
        ahead = []
        for name in sorted(self._names(), key=_key):
            if ticket is not None and name == ticket.path.name:
                continue
            if not _is_live(self.folder / name):
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / name).unlink()
            elif ticket is None or _key(name) < ticket.key:
                ahead.append((_key(name)[1], name[-1]))
        return ahead

    def leave(self, ticket: Ticket) -> None:
        """Give the place up (attached, timed out or interrupted)."""
        with contextlib.suppress(FileNotFoundError):
            ticket.path.unlink()
        os.close(ticket.fd)

    def _names(self) -> list[str]:
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        for draft in [name for name in names if name[0] == "."]:
            _remove_stale_draft(self.folder / draft)
        return [name for name in names if _mode(name)]


def _mode(name: str) -> str | None:
    """A ticket's mode, None for any other file (a draft, or something someone put there)."""
    if name[0] == "." or name[-2:] not in ("-" + READ, "-" + WRITE):
        return None
    try:
        _key(name)
    except ValueError:
        return None
    return name[-1]


def _key(name: str) -> tuple[int, int, int]:
    """Arrival order: nanoseconds, then pid and number for arrivals in the same nanosecond."""
    arrived, pid, number, _ = name.split("-")
    return int(arrived), int(pid), int(number)


def _is_live(path: Path) -> bool:
    """Whether the ticket's owner still holds its lock (it is alive and still waiting)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _remove_stale_draft(path: Path) -> None:
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > _STALE_DRAFT_SECONDS and not _is_live(path):
            path.unlink()
