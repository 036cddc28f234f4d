"""What a file-system or catalog failure of the model store means, said as a sqlml error.

A full disk, a read-only or foreign-owned folder, a catalog another process holds too long or a
damaged catalog file reach the store as ``OSError`` or ``sqlite3.Error``, whose own words
("disk I/O error", "file is not a database") name neither the file nor the fix. These functions
name both, and say that the store is as it was: every write of the store stages its files and
publishes them in one catalog transaction, so a failure before that commit changes nothing.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from sqlml.errors import CorruptModelError, Error, ModelError, WarehouseLockedError

#: Free bytes under which a failed write is blamed on a full disk.
NEARLY_FULL = 1 << 20
_UNCHANGED = "The model store is as it was before the statement."
_FULL = (errno.ENOSPC, errno.EDQUOT)
_DENIED = (errno.EACCES, errno.EPERM)


def cause_of(error: BaseException, path: Path) -> str:
    """Why ``error`` happened at ``path``, in words: a full disk, a read-only file system,
    missing permissions, or the system's own words for anything else."""
    code = getattr(error, "errno", None)
    if code == errno.EROFS:
        return "the file system is read-only"
    if code in _DENIED:
        return "permission denied (the folder is read-only or belongs to another user)"
    if code in _FULL or _free_bytes(path) < NEARLY_FULL:  # SQLite says "disk I/O error" for a full disk
        return "the disk is full (no space left on device)"
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR")) and not _is_writable(path):
        return "the folder is read-only"
    return getattr(error, "strerror", None) or str(error)


def write_failed(error: OSError, path: Path, what: str) -> ModelError:
    """The error for a model store file that could not be written (``what``: e.g. "the model's files")."""
    where = error.filename or path
    return ModelError(
        f"The model store could not write {what} at {where}: {cause_of(error, Path(where))}.",
        hint=f"{_UNCHANGED} Free disk space or make the folder writable, then run the statement again.",
    )


def folder_failed(error: OSError, folder: Path, what: str, kind: type[Error]) -> Error:
    """The ``kind`` of error for a ``what`` ("warehouse", "model store") folder that could not be created."""
    option = "warehouse" if what == "warehouse" else "models"
    return kind(
        f"Cannot create the {what} folder {error.filename or folder}: {cause_of(error, folder)}.",
        hint=f"Choose a folder this user can write: sqlml.connect({option}=…) or --{option} DIR.",
    )


def catalog_failed(error: sqlite3.Error, path: Path, busy_timeout: float) -> Error:
    """The error for a failure of the catalog file ``path`` (busy, damaged, or unwritable)."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
        return WarehouseLockedError(
            f"The model store's catalog {path} is busy: another process has held it for more than {busy_timeout:g} s.",
            hint="Wait for the other process's statement to finish, then run this one again. " + _UNCHANGED,
        )
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return CorruptModelError(
            f"The model store's catalog {path} is damaged ({error}); no model can be read or written through it.",
            hint=f"Restore {path.name} from a backup (the model files beside it are untouched), "
            "or move it aside to start an empty catalog and re-train the models with CREATE OR REPLACE MODEL.",
        )
    return ModelError(
        f"The model store could not use its catalog {path}: {cause_of(error, path.parent)}.",
        hint=f"{_UNCHANGED} Free disk space or make the folder writable, then run the statement again.",
    )


def _free_bytes(path: Path) -> int:
    for folder in (path, *path.parents):
        try:
            return shutil.disk_usage(folder).free
        except OSError:
            continue
    return NEARLY_FULL


def _is_writable(path: Path) -> bool:
    folder = path if path.is_dir() else path.parent
    return os.access(folder, os.W_OK)
