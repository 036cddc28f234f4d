"""The per-user cache of compiled forests: object code on disk, outside the model store.

Model artifacts stay data (nothing executable in the store, exports or imports); compiled code
is trusted the way ``__pycache__`` is: it lives in the user's own cache folder
(:mod:`sqlml.user_cache`: ``compiled`` under sqlml's cache root, or ``$SQLML_COMPILE_CACHE``),
folders 0700 and files 0600, one file per model checksum and compiler version, named by both
(hashed apart, so :func:`has` tells whether a model has any entry without loading LLVM to learn the
compiler's version). A file whose owner, permissions, header, key or digest is wrong is not
used: the caller compiles again and replaces it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlml import user_cache

MAGIC = b"sqlml-compiled-forest 1\n"


def cache_dir() -> Path | None:
    """The cache folder, created owner-only; None when it cannot be made or is not private to
    this user (:func:`sqlml.user_cache.trusted`)."""
    override = os.environ.get("SQLML_COMPILE_CACHE")
    if override:
        return user_cache.private_folder(Path(override), Path(override))
    top = user_cache.root()
    return user_cache.private_folder(top / "compiled", top)


def entry_path(folder: Path, checksum: str, version: str) -> Path:
    """The cache file of a model checksum and compiler version."""
    return folder / f"{_digest(checksum)}-{_digest(version)}.o"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def has(checksum: str) -> bool:
    """Whether the cache holds a file for ``checksum``, for any compiler version (whether it
    can be used is :func:`read`'s to tell)."""
    folder = cache_dir()
    return folder is not None and any(folder.glob(f"{_digest(checksum)}-*.o"))


def read(checksum: str, version: str) -> bytes | None:
    """The cached object code for ``checksum`` and ``version``, or None when there is none or
    the file is not trustworthy (owner, permissions, header, key or digest wrong)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = entry_path(folder, checksum, version)
    try:
        if not user_cache.trusted(path):
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
