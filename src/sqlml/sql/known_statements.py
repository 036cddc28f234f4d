"""Statements whose DuckDB text their own text decides, remembered across runs and processes.

A query that reads no table, view, routine, parameter or script variable (``SELECT 1``,
``SELECT CURRENT_DATE()``, ``SELECT x FROM UNNEST([1, 2]) AS x``) turns into the same DuckDB SQL
whatever the warehouse holds. Once generated, that text is kept here — in memory, and on disk in
a per-user cache folder outside the warehouse (``statements`` under :mod:`sqlml.user_cache`'s
root, owner-only, used only while it passes that module's check) — so that running the
statement again, in this process or a new ``sqlml query`` process, needs neither sqlglot nor the statement table: the
trust of ``__pycache__``, keyed by the exact SQL text, the dialect, sqlml's sources and sqlglot's
version. ``SQLML_STATEMENT_CACHE=off`` keeps it in memory only; ``SQLML_CACHE_DIR`` moves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlml import user_cache

if TYPE_CHECKING:
    from sqlglot import exp

#: Longer texts are neither looked for nor kept (one statement is rarely that long).
MAX_LENGTH = 10_000
#: Entries kept per cache folder; past it the folder is emptied (a statement seen again is generated again).
MAX_ENTRIES = 1000
_MEMORY_SIZE = 512
_MEMORY: dict[tuple[str, str], Known | None] = {}  # None: not on disk either when last looked for
_FINGERPRINT: list[str] = []
_UNSEEN = object()


@dataclass(frozen=True)
class Known:
    """What a statement runs as.

    Attributes:
        duckdb_sql: the DuckDB SQL text the transpiler produced for it.
        verb: the statement's verb (``SELECT``), the :class:`~sqlml.result.Result`'s ``statement``.
    """

    duckdb_sql: str
    verb: str


def text_alone_decides(tree: exp.Expression, kinds: Collection[type] | None = None) -> bool:
    """Whether ``tree``'s DuckDB text depends on nothing but the tree: it names no table or view
    (they may be materialized views, ML views, partitioned or wildcard tables), no function that
    may be the warehouse's (an unknown or dotted name), no parameter, no RAND() (seeded anew at
    each generation) and none of sqlml's own nodes (ML functions and the like).

    ``kinds``: the types of ``tree``'s nodes, when the caller has them (one walk fewer).
    """
    from sqlglot import exp

    refused = (exp.Table, exp.Parameter, exp.Placeholder, exp.Anonymous, exp.Dot, exp.Rand, exp.Var, exp.UserDefinedFunction)
    kinds = {type(node) for node in tree.walk()} if kinds is None else kinds
    return not any(issubclass(kind, refused) or kind.__module__.startswith("sqlml.") for kind in kinds)


def lookup(sql: str, dialect: str) -> Known | None:
    """The remembered text of ``sql`` written in ``dialect``, from memory or the disk cache (each
    text is looked for on disk once per process: a statement that reads tables never is there)."""
    if len(sql) > MAX_LENGTH:
        return None
    known = _MEMORY.get((sql, dialect), _UNSEEN)
    if known is not _UNSEEN:
        return known
    known = _read(sql, dialect)
    _keep(sql, dialect, known)
    return known


def remember(sql: str, dialect: str, known: Known) -> None:
    """Keep what ``sql`` runs as, in memory and (unless turned off) in the disk cache."""
    if len(sql) > MAX_LENGTH or _MEMORY.get((sql, dialect)) == known:
        return
    _keep(sql, dialect, known)
    _write(sql, dialect, known)


def cache_folder() -> Path | None:
    """This sqlml's and sqlglot's folder of remembered statements, or None when turned off."""
    if os.environ.get("SQLML_STATEMENT_CACHE", "").lower() in ("off", "0", "false", "no"):
        return None
    return user_cache.root() / "statements" / fingerprint()


def fingerprint() -> str:
    """A digest of what generation depends on: every sqlml source file's name, size and modification
    time (as ``__pycache__`` checks them) and sqlglot's version file."""
    if not _FINGERPRINT:
        digest = hashlib.sha256()
        package = os.path.dirname(os.path.dirname(__file__))
        for folder, folders, files in sorted(os.walk(package)):
            folders[:] = [name for name in folders if name != "__pycache__"]
            for name in sorted(name for name in files if name.endswith(".py")):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{folder[len(package):]}/{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        digest.update((_sqlglot_folder() / "_version.py").read_bytes())
        _FINGERPRINT.append(digest.hexdigest()[:32])
    return _FINGERPRINT[0]


def forget_all() -> None:
    """Forget what this process remembered in memory (the disk cache stays)."""
    _MEMORY.clear()


def _sqlglot_folder() -> Path:
    # found as the import system finds it, not imported: reading a remembered statement must not load sqlglot
    return next(Path(entry or ".") / "sqlglot" for entry in sys.path if os.path.isdir(os.path.join(entry or ".", "sqlglot")))


def _keep(sql: str, dialect: str, known: Known | None) -> None:
    if len(_MEMORY) >= _MEMORY_SIZE:
        _MEMORY.clear()  # bounded; clear() is atomic where threads share it
    _MEMORY[(sql, dialect)] = known


def _entry(folder: Path, sql: str, dialect: str) -> Path:
    return folder / (hashlib.sha256(f"{dialect}\0{sql}".encode("utf-8", "surrogatepass")).hexdigest() + ".json")


def _read(sql: str, dialect: str) -> Known | None:
    folder = cache_folder()
    if folder is None:
        return None
    path = _entry(folder, sql, dialect)
    if not user_cache.trusted(path) or not user_cache.trusted(folder, user_cache.root()):
        return None
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    # the file names a digest: the text itself decides (and a malformed entry is ignored)
    if not isinstance(entry, dict) or entry.get("sql") != sql or entry.get("dialect") != dialect:
        return None
    duckdb_sql, verb = entry.get("duckdb"), entry.get("verb")
    return Known(duckdb_sql, verb) if isinstance(duckdb_sql, str) and isinstance(verb, str) else None


def _write(sql: str, dialect: str, known: Known) -> None:
    folder = cache_folder()
    if folder is None:
        return
    with contextlib.suppress(OSError):  # a cache that cannot be written is no cache, not an error
        if not _make_private(folder):
            return
        if sum(1 for _ in os.scandir(folder)) >= MAX_ENTRIES:
            for old in folder.glob("*.json"):
                old.unlink(missing_ok=True)
        entry = _entry(folder, sql, dialect)
        temporary = entry.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump({"sql": sql, "dialect": dialect, "duckdb": known.duckdb_sql, "verb": known.verb}, file)
        os.replace(temporary, entry)


def _make_private(folder: Path) -> bool:
    """Create ``folder`` owner-only (dropping other versions' folders beside it the first time);
    whether it is trusted (:func:`sqlml.user_cache.trusted`)."""
    top = user_cache.root()
    if not folder.is_dir() and user_cache.private_folder(folder.parent, top) is not None:
        for other in folder.parent.iterdir():
            if other.is_dir() and len(other.name) == len(folder.name) and user_cache.trusted(other):
                shutil.rmtree(other, ignore_errors=True)
    return user_cache.private_folder(folder, top) is not None
