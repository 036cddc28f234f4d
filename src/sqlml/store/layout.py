"""Where the model store keeps files: folder names that fit any file system, staging folders
named after their writer, and the debris of writers that died.

Dataset and model names may be up to 1,024 characters (BigQuery's limit), but a file name may
have only 255 bytes on common file systems. A name that is short enough is its own folder; a
longer one is cut and suffixed with a digest of the whole name. Names hold only letters, digits
and underscores, so the ``-`` of a suffix can never make two names share a folder. The catalog
records each version's folder, so readers never need to recompute it.

A version is written in ``.staging/<pid>-<start>-<host>-<random>/`` first: the writing process's
PID, its start time (microseconds since the epoch) and a digest of its host name, which is the
:class:`~sqlml.process.ProcessIdentity` of the writer. A PID alone cannot tell a dead
writer: the operating system hands PIDs out again, and a folder left by a killed writer would
look alive for as long as an unrelated process had its PID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import socket
import time
import uuid
from pathlib import Path

import psutil

from sqlml.process import ProcessIdentity

#: Longest dataset or model name used as a folder name as it is.
MAX_FOLDER_NAME = 100
#: The folder of versions being written, in the store folder.
STAGING = ".staging"
_KEPT_PREFIX = 64
_EPOCH = dt.datetime(1970, 1, 1)


def folder_name(name: str) -> str:
    """A file-system-safe folder name for a dataset or model name."""
    if len(name.encode()) <= MAX_FOLDER_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:_KEPT_PREFIX]}-{digest}"


def model_folder(dataset: str, name: str) -> Path:
    """The folder of a model's versions, relative to the store root."""
    return Path(folder_name(dataset)) / folder_name(name)


def new_staging_folder(root: Path) -> Path:
    """Create an empty staging folder named after this process (see the module docstring)."""
    me = ProcessIdentity.current()
    started = round((me.started_at - _EPOCH).total_seconds() * 1e6)
    folder = root / STAGING / f"{me.pid}-{started}-{_host_tag(me.host)}-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    return folder


def remove_dead_staging(root: Path) -> None:
    """Remove the staging folders of writers that are gone (died while writing a version)."""
    staging = root / STAGING
    folders = list(staging.iterdir()) if staging.is_dir() else []
    for folder in folders:
        if _writer_is_gone(folder.name):
            shutil.rmtree(folder, ignore_errors=True)


def remove_orphan_versions(root: Path, known: set[str], pattern: str = "*/*/*", min_age: float = 0.0) -> None:
    """Remove version folders (``<dataset>/<model>/<version>``, those ``pattern`` matches) that no
    catalog row names and that were last changed ``min_age`` seconds ago or more: the debris of a
    commit that crashed after moving the folder into place, and dropped versions."""
    for folder in root.glob(pattern):
        relative = folder.relative_to(root).as_posix()
        if folder.is_dir() and not relative.startswith(STAGING) and relative not in known and _age(folder) >= min_age:
            shutil.rmtree(folder, ignore_errors=True)


def _age(folder: Path) -> float:
    try:
        return time.time() - folder.stat().st_mtime
    except OSError:  # removed meanwhile
        return 0.0


def _writer_is_gone(name: str) -> bool:
    parts = name.split("-")
    if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit():
        return _writer(*parts[:3]).is_gone()
    if len(parts) == 2 and parts[0].isdigit():  # <pid>-<random>, written by sqlml before 2026-12: a PID is all it has
        return not psutil.pid_exists(int(parts[0]))
    return False  # not a staging folder


def _writer(pid: str, started: str, host: str):
    """The ProcessIdentity a staging folder's name records (a writer on another host sharing the
    folder keeps a host name that is not this one, and is never judged gone from here)."""
    local = socket.gethostname()
    started_at = _EPOCH + dt.timedelta(microseconds=int(started))
    return ProcessIdentity(local if host == _host_tag(local) else f"host {host}", int(pid), started_at)


def _host_tag(host: str) -> str:
    """A short digest of a host name, safe in a folder name."""
    return hashlib.sha256(host.encode()).hexdigest()[:12]
