"""Where the model store keeps files: folder names that fit any file system, and staging debris.

Dataset and model names may be up to 1,024 characters (BigQuery's limit), but a file name may
have only 255 bytes on common file systems. A name that is short enough is its own folder; a
longer one is cut and suffixed with a digest of the whole name. Names hold only letters, digits
and underscores, so the ``-`` of a suffix can never make two names share a folder. The catalog
records each version's folder, so readers never need to recompute it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

#: Longest dataset or model name used as a folder name as it is.
MAX_FOLDER_NAME = 100
_KEPT_PREFIX = 64


def folder_name(name: str) -> str:
    """A file-system-safe folder name for a dataset or model name."""
    if len(name.encode()) <= MAX_FOLDER_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:_KEPT_PREFIX]}-{digest}"


def model_folder(dataset: str, name: str) -> Path:
    """The folder of a model's versions, relative to the store root."""
    return Path(folder_name(dataset)) / folder_name(name)


def remove_dead_staging(staging: Path) -> None:
    """Remove the staging folders (``<pid>-<uuid>``) of processes that died while writing."""
    if not staging.is_dir():
        return
    for folder in staging.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
