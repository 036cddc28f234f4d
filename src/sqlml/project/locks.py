"""File locks beside the warehouse that keep processes apart and die with their holder.

Both kinds are ``flock`` locks in ``<warehouse>/.locks/``. The kernel releases a process's locks
when it exits, however it exits (kill -9 included), so a lock of a dead process never blocks
anyone; the files themselves stay and mean nothing while unlocked.

* ``<node>.lock`` is held while a process builds the node: two processes never build the same
  node at once (the second one skips it).
* ``run-<run_id>.lock`` is held for a whole run: a run still recorded as running whose lock is
  free has lost its process. This also holds for a process in another container or on another
  host that shares the folder, where its PID says nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FOLDER = ".locks"


def lock_folder(warehouse_path: Path | None) -> Path | None:
    """The folder the locks of a warehouse live in; None for an in-memory warehouse."""
    return None if warehouse_path is None else Path(warehouse_path) / FOLDER


@contextlib.contextmanager
def node_lock(folder: Path | None, node: str) -> Iterator[bool]:
    """Try to take a node's lock for the ``with`` block; yields whether it was taken."""
    if folder is None:
        yield True
        return
    with _locked(folder / f"{node}.lock") as taken:
        yield taken


@contextlib.contextmanager
def run_lock(folder: Path | None, run_id: str) -> Iterator[None]:
    """Hold a run's lock for the ``with`` block; the file is removed when the run ends."""
    if folder is None:
        yield
        return
    path = _run_lock_path(folder, run_id)
    with _locked(path):  # run ids are random: nobody else holds this one
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def is_run_lock_free(folder: Path | None, run_id: str) -> bool | None:
    """Whether a run's lock file exists and nobody holds it (its process is gone).

    Returns:
        True if the file exists and is not locked, False if a live process holds it, None if
        there is no such file (an in-memory warehouse, or a run recorded by an older sqlml).
    """
    if folder is None:
        return None
    try:
        handle = open(_run_lock_path(folder, run_id))  # never created here: its owner may just have removed it
    except FileNotFoundError:
        return None
    with handle:
        taken = _try_lock(handle)
        if taken:
            fcntl.flock(handle, fcntl.LOCK_UN)
        return taken


def discard_run_lock(folder: Path | None, run_id: str) -> None:
    """Remove the lock file a dead run left behind."""
    if folder is not None:
        _run_lock_path(folder, run_id).unlink(missing_ok=True)


def _run_lock_path(folder: Path, run_id: str) -> Path:
    return folder / f"run-{run_id}.lock"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        if not _try_lock(handle):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(handle: IO) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
