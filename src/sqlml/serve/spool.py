"""The prediction log's spool: served requests on disk before they are answered.

Each server process appends one JSON line per request to its own *segment* file in the spool
folder, and a request is answered only once its line is in the file and synced to the disk, so
a busy warehouse, a crash or ``kill -9`` loses nothing that was served. The process holds an
exclusive ``flock`` on the segment it writes; the flusher *seals* it (starts a new one) and then
writes every unlocked segment to the warehouse — its own sealed ones and those a dead process
left — oldest first (names start with the creation time), taking the lock so that two processes
never flush the same segment at once. A line that does not end in a newline (a write torn by a
crash) or does not parse is skipped, never the lines around it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from sqlml.errors import WarehouseError

SUFFIX = ".jsonl"


class SpoolWriter:
    """This process's current segment: :meth:`append` returns once the line is on disk.

    Args:
        folder: the spool folder (created if missing).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()  # one writer at a time, so lines never interleave
        self._sync_lock = threading.Lock()  # one fdatasync at a time covers every line written before it
        self._written = self._synced = 0  # lines written / known synced, over all segments
        self._torn = False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _sync_folder(self.folder.parent)
        except OSError as error:
            raise self._failure(error, self.folder) from None
        self._open_segment()

    @property
    def path(self) -> Path:
        """The segment being written now."""
        return self._path

    def append(self, record: dict, default: Callable[[object], object] | None = None) -> None:
        """Write ``record`` (plus its ``seq`` in the segment) as one line and sync it.

        Raises:
            WarehouseError: the line could not be written or synced (disk full, I/O error).
        """
        with self._lock:
            self._sequence += 1
            line = orjson.dumps({"seq": self._sequence, **record}, default=default, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n"
            if self._torn:
                line = b"\n" + line  # the torn bytes before it stay a line of their own
            try:
                _write_all(self._fd, line)
            except OSError as error:
                self._sequence -= 1
                self._undo_partial_write()
                raise self._failure(error, self._path) from None
            self._torn = False
            self._size += len(line)
            self._written += 1
            ticket = self._written
        self._sync(ticket)

    def seal(self) -> Path | None:
        """Start a new segment if the current one has lines, and return the sealed one (which
        any process may now claim and flush); None if there was nothing to seal."""
        with self._sync_lock, self._lock:
            if self._sequence == 0:
                return None
            old, sealed = self._fd, self._path
            os.fdatasync(old)
            self._synced = self._written
            self._open_segment()
            os.close(old)  # releases its lock: from now on whoever claims it flushes it
            return sealed

    def close(self) -> None:
        """Stop writing; an empty current segment is removed, one with lines is left to be flushed."""
        with self._sync_lock, self._lock:
            if self._sequence == 0:
                self._path.unlink(missing_ok=True)
            else:
                os.fdatasync(self._fd)
            os.close(self._fd)

    def _open_segment(self) -> None:
        path = self.folder / f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _sync_folder(self.folder)
        except OSError as error:
            raise self._failure(error, path) from None
        self._path, self._fd = path, fd
        self._sequence = self._size = 0

    def _sync(self, ticket: int) -> None:
        """Group commit: one fdatasync makes every line written so far durable."""
        with self._sync_lock:
            if self._synced >= ticket:
                return
            target = self._written
            try:
                os.fdatasync(self._fd)
            except OSError as error:
                raise self._failure(error, self._path) from None
            self._synced = target

    def _undo_partial_write(self) -> None:
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:  # the torn bytes stay: the next line starts on a fresh line
            self._torn = True
            with contextlib.suppress(OSError):
                self._size = os.fstat(self._fd).st_size

    def _failure(self, error: OSError, path: Path) -> WarehouseError:
        return WarehouseError(
            f"Cannot write the prediction log spool {path}: {error.strerror or error}.",
            hint=f"Free space in {self.folder} or fix its permissions; predictions are not served until it can be written.",
        )


class Segment:
    """A segment this process has claimed (locked) for flushing; others skip it meanwhile."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.id = path.stem
        self._fd = fd
        self.skipped = 0

    @classmethod
    def claim(cls, path: Path) -> "Segment | None":
        """Lock ``path``; None if a live process holds it or it is gone (flushed by someone else)."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.stat(path).st_ino != os.fstat(fd).st_ino:  # removed and replaced meanwhile
                raise FileNotFoundError(path)
        except OSError:  # BlockingIOError: being written or flushed by another process
            os.close(fd)
            return None
        return cls(path, fd)

    def chunks(self, max_bytes: int) -> Iterator[list[dict]]:
        """The segment's records in order, whole lines of about ``max_bytes`` at a time; torn or
        damaged lines are counted in :attr:`skipped` and left out."""
        chunk: list[dict] = []
        size = 0
        with open(self._fd, "rb", closefd=False) as file:
            file.seek(0)
            for line in file:
                record = _parse(line)
                if record is None:
                    self.skipped += line.strip() != b""
                    continue
                chunk.append(record)
                size += len(line)
                if size >= max_bytes:
                    yield chunk
                    chunk, size = [], 0
        if chunk:
            yield chunk

    def remove(self) -> None:
        """Delete the segment (everything in it is in the warehouse) and let go of it."""
        self.path.unlink(missing_ok=True)
        _sync_folder(self.path.parent)
        self.release()

    def release(self) -> None:
        """Let go of the segment without deleting it (it is flushed later)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def segments(folder: Path) -> list[Path]:
    """Every segment in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.name.endswith(SUFFIX))


def _parse(line: bytes) -> dict | None:
    if not line.endswith(b"\n"):
        return None  # the last write of a killed process
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("seq"), int):
        return None
    return record


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_folder(folder: Path) -> None:
    """Make a created or removed file name durable (the folder's entry, not only the file)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
