"""The per-user cache of compiled forests: object code on disk, outside the model store.

Model artifacts stay data (nothing executable in the store, exports or imports); compiled code
is trusted the way ``__pycache__`` is: it lives in the
user's own cache directory (``$XDG_CACHE_HOME/sqlml/compiled``, ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows), directories 0700 and files 0600, one file per model checksum and
compiler version. A file whose owner, permissions, header, key or digest is wrong is not used:
the caller compiles again and replaces it. ``SQLML_COMPILE_CACHE`` names another directory.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

MAGIC = b"sqlml-compiled-forest 1\n"


def cache_dir() -> Path | None:
    """The cache directory, created owner-only; None when it cannot be made or is not private
    to this user (another owner, or group/world permissions)."""
    override = os.environ.get("SQLML_COMPILE_CACHE")
    folder = Path(override) if override else _platform_cache() / "sqlml" / "compiled"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if hasattr(os, "getuid") and folder.stat().st_uid == os.getuid():
            folder.chmod(0o700)
        return folder if _private(folder, 0o077) else None
    except OSError:
        return None


def _platform_cache() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _private(path: Path, forbidden: int) -> bool:
    """``path`` belongs to this user and has none of the ``forbidden`` permission bits."""
    if not hasattr(os, "getuid"):  # Windows: the user's profile directory is private already
        return True
    status = path.stat()
    return status.st_uid == os.getuid() and not status.st_mode & forbidden


def entry_path(folder: Path, checksum: str, version: str) -> Path:
    """The cache file of a model checksum and compiler version."""
    return folder / (hashlib.sha256(f"{checksum}\n{version}".encode()).hexdigest() + ".o")


def read(checksum: str, version: str) -> bytes | None:
    """The cached object code for ``checksum`` and ``version``, or None when there is none or
    the file is not trustworthy (owner, permissions, header, key or digest wrong)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = entry_path(folder, checksum, version)
    try:
        if not _private(path, 0o077):
            return None
        content = path.read_bytes()
    except OSError:
        return None
    header = MAGIC + f"{checksum}\n{version}\n".encode()
    if not content.startswith(header):
        return None
    digest, _, objectcode = content[len(header) :].partition(b"\n")
    return objectcode if hashlib.sha256(objectcode).hexdigest().encode() == digest else None


def write(checksum: str, version: str, objectcode: bytes) -> None:
    """Store ``objectcode`` (owner-only, replacing any file atomically); a cache that cannot
    be written is skipped silently — the code is simply compiled again next time."""
    folder = cache_dir()
    if folder is None:
        return
    header = MAGIC + f"{checksum}\n{version}\n".encode() + hashlib.sha256(objectcode).hexdigest().encode() + b"\n"
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")  # mode 0600
        with os.fdopen(handle, "wb") as stream:
            stream.write(header + objectcode)
        os.replace(temporary, entry_path(folder, checksum, version))
    except OSError:
        return
