"""The warehouse file refused by the file system (a full disk, a read-only file system, missing
permissions), said as a clear error that names the file, the cause and the fix.

DuckDB reports such a refusal as text only: ``IO Error: Could not write file ".../warehouse.duckdb":
No space left on device``, at a commit ``TransactionContext Error: Failed to commit: Could not write
file ".../warehouse.duckdb.wal": No space left on device``, and when attaching ``IO Error: Cannot
open file ".../warehouse.duckdb": Read-only file system``. A statement that fails so is rolled back
by DuckDB: its tables are as they were. A checkpoint that fails as the file is detached
(``Detached database 'warehouse', but CHECKPOINT during DETACH failed``) loses nothing: the
committed changes stay in the write-ahead log, which DuckDB applies when the file is next attached,
so it is logged (once) rather than failing a statement that succeeded. The causes are worded as the model store words them
(:func:`sqlml.store.faults.cause_of`, a layer above the engine seam, so not imported here).
"""

from __future__ import annotations

import errno
import logging
import os
import re

from sqlml.engine.base import EngineIOError
from sqlml.errors import WarehouseError

#: DuckDB's words for a file the system refused: the file (the warehouse's own: its database file
#: or write-ahead log) and the system's reason, which ends the line.
_REFUSED = re.compile(r'(?:Could not|Cannot) \w+ file "([^"]+\.duckdb(?:\.wal)?)": ([^\n"]+?)\s*$', re.MULTILINE)
_FULL = "the disk is full (no space left on device)"
_CAUSES = {
    errno.ENOSPC: _FULL,
    errno.EDQUOT: _FULL,
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (the folder is read-only or belongs to another user)",
    errno.EPERM: "permission denied (the folder is read-only or belongs to another user)",
}
_BY_REASON = {os.strerror(code): cause for code, cause in _CAUSES.items()}
#: The warehouses whose failed checkpoint was logged: once per process (a session detaches often).
_LOGGED: set[str] = set()


def refused(message: str) -> tuple[str, str] | None:
    """The warehouse file a DuckDB ``message`` says the system refused, and the cause in sqlml's
    words; None when the message is about anything else."""
    match = _REFUSED.search(message)
    if match is None or match.group(2) not in _BY_REASON:
        return None
    return match.group(1), _BY_REASON[match.group(2)]


def write_refused(message: str) -> EngineIOError | None:
    """The engine error (with its ``hint``) for a statement whose write of the warehouse file the
    system refused; None when ``message`` is about anything else."""
    found = refused(message)
    if found is None:
        return None
    path, cause = found
    error = EngineIOError(f"The warehouse could not write its file {path}: {cause}.")
    fix = "Free disk space" if cause == _FULL else "Make the warehouse's folder writable"
    error.hint = f"DuckDB rolled the statement back: the warehouse is as it was. {fix}, then run the statement again."
    return error


def open_refused(warehouse: object, message: str) -> WarehouseError | None:
    """The error for a ``warehouse`` the system would not open for writing; None when ``message``
    (DuckDB's, from the attach) is about anything else."""
    found = refused(message)
    if found is None:
        return None
    return WarehouseError(
        f"Cannot open the warehouse {warehouse} for writing: {found[1]}.",
        hint="Open it for reading with sqlml.connect(..., read_only=True), or copy it to a writable folder to change it.",
    )


def checkpoint_failed(warehouse: object, message: str) -> bool:
    """Whether DuckDB's ``message`` (from a DETACH) is a checkpoint the system refused after the
    file was detached; if so, log it: the statement succeeded and its changes are in the
    write-ahead log, but the disk needs space before the log can be folded into the file."""
    if "CHECKPOINT during DETACH failed" not in message:
        return False
    if str(warehouse) in _LOGGED:
        return True
    _LOGGED.add(str(warehouse))
    cause = found[1] if (found := refused(message)) else message.rsplit("Original error: ", 1)[-1]
    logging.getLogger(__name__).warning(
        "The warehouse %s could not be checkpointed: %s. Committed changes are kept in its write-ahead log "
        "and applied when it is next opened; free disk space, or the next write will fail.",
        warehouse,
        cause,
    )
    return True
