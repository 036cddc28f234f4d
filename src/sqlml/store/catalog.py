"""The model store's catalog: SQLite tables of models, versions, aliases and version counters,
and the queries the store runs on them.

The catalog is SQLite rather than DuckDB because several processes must write it at once (two
trainings of the same model, the scheduler and a shell); SQLite serialises writers with a file
lock and a busy timeout, where DuckDB refuses a second writing process outright.
"""

from __future__ import annotations

import contextlib
import datetime
import getpass
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlml.errors import CorruptModelError, ModelNotFoundError
from sqlml.store.faults import catalog_failed
from sqlml.store.records import ModelRecord, ModelRef, VersionRecord

FILE = "catalog.sqlite"
DEFAULT_ALIAS = "default"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    dataset TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, description TEXT, labels TEXT, max_versions INTEGER,
    PRIMARY KEY (dataset, name));
CREATE TABLE IF NOT EXISTS versions (
    dataset TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, version INTEGER NOT NULL,
    model_type TEXT NOT NULL, created_at TEXT NOT NULL, creator TEXT, folder TEXT NOT NULL,
    checksums TEXT NOT NULL, metadata TEXT NOT NULL, PRIMARY KEY (dataset, name, version));
CREATE TABLE IF NOT EXISTS aliases (
    dataset TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, alias TEXT NOT NULL COLLATE NOCASE,
    version INTEGER NOT NULL, PRIMARY KEY (dataset, name, alias));
CREATE TABLE IF NOT EXISTS counters (
    dataset TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL, last_version INTEGER NOT NULL,
    PRIMARY KEY (dataset, name));
"""


def now() -> str:
    """The current UTC time as ISO 8601 text (the catalog's timestamp format)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


class Catalog:
    """The catalog file of a store folder (its tables are created if missing).

    Args:
        root: the store folder.
        busy_timeout: seconds a writer waits for another process's write to finish.
    """

    def __init__(self, root: Path, busy_timeout: float):
        self.root, self.busy_timeout = root, busy_timeout
        with self.read() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        path = self.root / FILE
        if path.is_file() and not os.access(self.root, os.W_OK):
            # A read-only store (a read-only mount, another user's folder): SQLite cannot create the
            # WAL's shared-memory file beside it, so it is read as immutable; a write fails as read-only.
            return self._immutable()
        db = sqlite3.connect(path, timeout=self.busy_timeout, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _immutable(self) -> sqlite3.Connection:
        uri = f"{(self.root / FILE).resolve().as_uri()}?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _open(self, reading: bool) -> sqlite3.Connection:
        path = self.root / FILE
        try:
            return self._connect()
        except sqlite3.Error as error:
            wal = path.with_name(f"{FILE}-wal")
            if reading and path.is_file() and (not wal.exists() or wal.stat().st_size == 0):
                # A full disk refuses the WAL's shared-memory file even to readers; with no write in
                # the WAL (nobody is writing, and none can), the file alone is the whole catalog.
                with contextlib.suppress(sqlite3.Error):
                    return self._immutable()
            raise catalog_failed(error, path, self.busy_timeout) from error

    @contextlib.contextmanager
    def _session(self, reading: bool) -> Iterator[sqlite3.Connection]:
        db = self._open(reading)
        try:
            yield db
        except sqlite3.Error as error:
            raise catalog_failed(error, self.root / FILE, self.busy_timeout) from error
        finally:
            db.close()

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A connection for reading (each statement sees a consistent state); on a full disk, or
        in a read-only folder, the catalog file read as it is.

        Raises:
            sqlml.Error: the catalog is busy, damaged or cannot be read (:func:`~sqlml.store.faults.catalog_failed`).
        """
        return self._session(reading=True)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock (other writers wait). An exception that
        leaves no transaction open (Ctrl-C landing once SQLite's COMMIT took effect) is raised as
        it is, not as the ROLLBACK's "no transaction is active".

        Raises:
            sqlml.Error: the catalog is busy, damaged or cannot be written (:func:`~sqlml.store.faults.catalog_failed`).
        """
        with self._session(reading=False) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):  # a failed ROLLBACK rolls back when the file closes
                        db.execute("ROLLBACK")
                raise


# -- reading ---------------------------------------------------------------------------------


def selected_version(db: sqlite3.Connection, ref: ModelRef) -> int:
    """The version number ``ref`` names: its number, its alias, or the ``default`` alias.

    Raises:
        ModelNotFoundError: no such alias; the message lists the model's aliases.
    """
    selector = ref.selector or DEFAULT_ALIAS
    if selector.isdigit():
        return int(selector)
    row = db.execute(
        "SELECT version FROM aliases WHERE dataset = ? AND name = ? AND alias = ?", (ref.dataset, ref.name, selector)
    ).fetchone()
    if row is None:
        aliases = [r[0] for r in db.execute(
            "SELECT alias FROM aliases WHERE dataset = ? AND name = ? ORDER BY alias", (ref.dataset, ref.name)
        )]  # fmt: skip
        raise ModelNotFoundError(
            f"Model {ref.dataset}.{ref.name} has no alias '{selector}'.",
            model=str(ref),
            hint=f"Aliases: {', '.join(aliases) or 'none'}. Move one with "
            f"ALTER MODEL `{ref.dataset}.{ref.name}@<version>` SET OPTIONS(version_aliases=['{selector}']).",
        )
    return row[0]


def model_not_found(db: sqlite3.Connection, ref: ModelRef) -> ModelNotFoundError:
    """The error for a model that does not exist, naming the dataset's models and a close match."""
    import difflib

    names = [r[0] for r in db.execute("SELECT name FROM models WHERE dataset = ? ORDER BY name", (ref.dataset,))]
    guess = difflib.get_close_matches(ref.name, names, n=1, cutoff=0.6)
    known = f"Known models in '{ref.dataset}': {', '.join(names)}. " if names else ""
    did_you_mean = f"Did you mean {ref.dataset}.{guess[0]}? " if guess else ""
    return ModelNotFoundError(
        f"Model '{ref.dataset}.{ref.name}' was not found.",
        model=str(ref),
        hint=f"{did_you_mean}{known}Create it with CREATE MODEL {ref.dataset}.{ref.name} … first.",
    )


def version_numbers(db: sqlite3.Connection, ref: ModelRef) -> list[int]:
    """A model's version numbers, oldest first."""
    return [r[0] for r in db.execute(
        "SELECT version FROM versions WHERE dataset = ? AND name = ? ORDER BY version", (ref.dataset, ref.name)
    )]  # fmt: skip


def version_record(db: sqlite3.Connection, root: Path, row: sqlite3.Row, aliases: list[str] | None = None) -> VersionRecord:
    """A ``versions`` row as a record, with its folder under ``root`` and its aliases (read unless given)."""
    if aliases is None:
        aliases = [r[0] for r in db.execute(
            "SELECT alias FROM aliases WHERE dataset = ? AND name = ? AND version = ? ORDER BY alias",
            (row["dataset"], row["name"], row["version"]),
        )]  # fmt: skip
    label = f"{row['dataset']}.{row['name']}@{row['version']}"
    return VersionRecord(
        dataset=row["dataset"],
        name=row["name"],
        version=row["version"],
        model_type=row["model_type"],
        created_at=row["created_at"],
        creator=row["creator"],
        folder=root / row["folder"],
        checksums=_json_field(row, "checksums", label, dict),
        metadata=_json_field(row, "metadata", label, dict),
        aliases=aliases,
    )


def _json_field(row: sqlite3.Row, column: str, label: str, kind: type) -> object:
    """A JSON column of a catalog row; a damaged one is the model's error, not a JSONDecodeError."""
    try:
        value = json.loads(row[column])
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, kind):
        raise CorruptModelError(
            f"Model {label}: its catalog entry is damaged (the {column} recorded for it are not readable), "
            "so it will not be loaded.",
            model=label,
            version=row["version"] if "version" in row.keys() else None,
            hint=f"Restore {FILE} from a backup, or re-train the model with CREATE OR REPLACE MODEL.",
        )
    return value


def model_record(db: sqlite3.Connection, row: sqlite3.Row, versions: list[int] | None = None, aliases: dict[str, int] | None = None) -> ModelRecord:
    """A ``models`` row as a record, with its version numbers and aliases (read unless given)."""
    ref = ModelRef(row["dataset"], row["name"])
    if aliases is None:
        aliases = {r[0]: r[1] for r in db.execute(
            "SELECT alias, version FROM aliases WHERE dataset = ? AND name = ? ORDER BY alias", (ref.dataset, ref.name)
        )}  # fmt: skip
    return ModelRecord(
        dataset=row["dataset"],
        name=row["name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        description=row["description"],
        labels=_json_field(row, "labels", str(ref), dict) if row["labels"] else {},
        max_versions=row["max_versions"],
        versions=version_numbers(db, ref) if versions is None else versions,
        aliases=aliases,
    )


# -- writing (inside Catalog.write) ----------------------------------------------------------


def next_version(db: sqlite3.Connection, ref: ModelRef) -> int:
    """Take the model's next version number."""
    # A counter, not MAX(version): numbers are never reused after a version is dropped.
    row = db.execute("SELECT last_version FROM counters WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)).fetchone()
    version = (row[0] if row else 0) + 1
    db.execute(
        "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT(dataset, name) DO UPDATE SET last_version = excluded.last_version",
        (ref.dataset, ref.name, version),
    )
    return version


def insert_version(db: sqlite3.Connection, ref: ModelRef, version: int, folder: Path, checksums: dict, metadata: dict, is_new: bool, options: dict) -> None:
    """Record a new version (and, for a new model, the model) and move ``default`` to it."""
    stamp = now()
    labels = json.dumps(dict(options["labels"])) if options.get("labels") else None
    if is_new:
        db.execute(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref.dataset, ref.name, stamp, stamp, options.get("description"), labels, options.get("max_versions")),
        )
    else:
        db.execute("UPDATE models SET updated_at = ? WHERE dataset = ? AND name = ?", (stamp, ref.dataset, ref.name))
        for key in ("description", "max_versions"):
            if options.get(key) is not None:
                db.execute(f"UPDATE models SET {key} = ? WHERE dataset = ? AND name = ?", (options[key], ref.dataset, ref.name))
        if labels is not None:
            db.execute("UPDATE models SET labels = ? WHERE dataset = ? AND name = ?", (labels, ref.dataset, ref.name))
    db.execute(
        "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref.dataset, ref.name, version, metadata.get("model_type", ""), stamp, _creator(),
            folder.as_posix(), json.dumps(checksums), json.dumps(metadata, default=str),
        ),
    )  # fmt: skip
    move_alias(db, ref, DEFAULT_ALIAS, version)


def move_alias(db: sqlite3.Connection, ref: ModelRef, alias: str, version: int) -> None:
    """Point ``alias`` at ``version`` (an alias lives on one version at a time)."""
    db.execute(
        "INSERT INTO aliases VALUES (?, ?, ?, ?) ON CONFLICT(dataset, name, alias) DO UPDATE SET version = excluded.version",
        (ref.dataset, ref.name, alias, version),
    )


def _creator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return str(os.getuid())
