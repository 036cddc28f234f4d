"""sqlml's per-user cache folders, outside every warehouse and model store, and the one check that
decides whether one may be trusted.

Remembered statements (:mod:`sqlml.sql.known_statements`) and compiled forests
(:mod:`sqlml.ml.compiled.cache`) are read back and run, so they get the trust of ``__pycache__``:
nobody but this user may have been able to write them. The root is ``$SQLML_CACHE_DIR``, else
the platform's cache folder + ``sqlml`` (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows); each use has a folder under it.

A cache folder is trusted when it is a directory — not a symbolic link — owned by this user with
no permission for group or others (0700), a file in it likewise (0600), and every folder above it
up to its top (the root, or a folder a variable of its own names) is a directory owned by this
user that group and others cannot write (so none of them can be swapped for another; they may be
readable, as ``mkdir -p`` made earlier versions' roots). Folders are created 0700 and files 0600;
an existing folder's permissions are never changed — one that fails the check is simply not used
(the cache is then skipped, never an error). On Windows, whose user profile is private, owners
and permission bits are not checked.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

#: Permission bits no cache folder or file may have: any access by group or others.
FORBIDDEN = 0o077
#: Permission bits no folder above a cache folder may have: writing by group or others.
FORBIDDEN_ABOVE = 0o022


def root() -> Path:
    """The root of sqlml's cache folders (not created here)."""
    override = os.environ.get("SQLML_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "sqlml"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "sqlml"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sqlml"


def private_folder(path: Path, top: Path) -> Path | None:
    """``path`` (``top`` or a folder below it), created owner-only with any missing folders from
    ``top`` down; None when it cannot be made or is not trusted (:func:`trusted`)."""
    try:
        names = path.relative_to(top).parts
        top.parent.mkdir(parents=True, exist_ok=True)  # above the top: the platform's folders
        folder = top
        for name in ("", *names):
            folder = folder / name
            folder.mkdir(mode=0o700, exist_ok=True)  # each level 0700 (mkdir -p would not be)
    except (OSError, ValueError):
        return None
    return path if trusted(path, top) else None


def trusted(path: Path, top: Path | None = None) -> bool:
    """Whether ``path`` — a directory or a regular file, not a symbolic link — is this user's own
    with none of the :data:`FORBIDDEN` permission bits, and each folder above it up to ``top``,
    if given, is a directory of this user's with none of :data:`FORBIDDEN_ABOVE`."""
    chain = [path]
    if top is not None:
        try:
            names = path.relative_to(top).parts
        except ValueError:
            return False
        chain += [top.joinpath(*names[:end]) for end in range(len(names) - 1, -1, -1)]
    for entry in chain:
        try:
            info = entry.lstat()
        except OSError:
            return False
        if not (stat.S_ISDIR(info.st_mode) or (entry is path and stat.S_ISREG(info.st_mode))):
            return False
        forbidden = FORBIDDEN if entry is path else FORBIDDEN_ABOVE
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & forbidden):
            return False
    return True
