"""The model store: every version of every model, with aliases, checksums and atomic writes.

Layout of the store folder::

    catalog.sqlite                      the catalog (models, versions, aliases, checksums)
    <dataset>/<model>/<version>/        one folder per version: model files in open formats
    .staging/<pid>-<uuid>/              a version being written

The catalog is SQLite rather than DuckDB because several processes must write it at once (two
trainings of the same model, the scheduler and a shell); SQLite serialises writers with a file
lock and a busy timeout, where DuckDB refuses a second writing process outright.

A version becomes visible in one step: its files are written to a staging folder, checksummed,
then — inside one ``BEGIN IMMEDIATE`` transaction that also takes the next version number — the
folder is renamed into place and the catalog row inserted. A failure or a kill before the commit
leaves the previous state; debris (a staging folder of a dead process, a version folder no
catalog row names) is removed the next time the store is opened for writing.
"""

from __future__ import annotations

import contextlib
import datetime
import getpass
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlml.errors import AlreadyExistsError, CorruptModelError, InvalidOptionError, ModelError, ModelNotFoundError
from sqlml.store.layout import model_folder, remove_dead_staging
from sqlml.store.records import ALIAS_RULE, ModelRecord, ModelRef, VersionRecord, alias_problem, sha256_of

CATALOG = "catalog.sqlite"
STAGING = ".staging"
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


class ModelStore:
    """Versioned models under one folder.

    Args:
        root: the store folder (created if missing).
        busy_timeout: seconds a writer waits for another process's write to finish.
    """

    def __init__(self, root: str | os.PathLike, busy_timeout: float = 60.0):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.busy_timeout = busy_timeout
        with self._connect() as db:
            db.executescript(_SCHEMA)
        self._cleaned = False
        remove_dead_staging(self.root / STAGING)

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.root / CATALOG, timeout=self.busy_timeout, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock (other writers wait)."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    # -- reading -----------------------------------------------------------------------------

    def resolve(self, ref: ModelRef) -> VersionRecord:
        """The version a reference names: ``ds.m`` (the ``default`` alias), ``ds.m@3``, ``ds.m@production``.

        Raises:
            ModelNotFoundError: no such model, version or alias; the message lists what exists.
        """
        with self._read() as db:
            model = db.execute(
                "SELECT * FROM models WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)
            ).fetchone()
            if model is None:
                raise self._model_not_found(db, ref)
            version = self._selected_version(db, ref)
            row = db.execute(
                "SELECT * FROM versions WHERE dataset = ? AND name = ? AND version = ?",
                (ref.dataset, ref.name, version),
            ).fetchone()
            if row is None:
                raise ModelNotFoundError(
                    f"Model {ref.dataset}.{ref.name} has no version {version}.",
                    model=str(ref),
                    hint=f"Versions: {', '.join(map(str, self._version_numbers(db, ref)))}.",
                )
            return self._version_record(db, row)

    def _selected_version(self, db, ref: ModelRef) -> int:
        selector = ref.selector or DEFAULT_ALIAS
        if selector.isdigit():
            return int(selector)
        row = db.execute(
            "SELECT version FROM aliases WHERE dataset = ? AND name = ? AND alias = ?",
            (ref.dataset, ref.name, selector),
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

    def _model_not_found(self, db, ref: ModelRef) -> ModelNotFoundError:
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

    def _version_numbers(self, db, ref: ModelRef) -> list[int]:
        return [r[0] for r in db.execute(
            "SELECT version FROM versions WHERE dataset = ? AND name = ? ORDER BY version", (ref.dataset, ref.name)
        )]  # fmt: skip

    def _version_record(self, db, row) -> VersionRecord:
        aliases = [r[0] for r in db.execute(
            "SELECT alias FROM aliases WHERE dataset = ? AND name = ? AND version = ? ORDER BY alias",
            (row["dataset"], row["name"], row["version"]),
        )]  # fmt: skip
        return VersionRecord(
            dataset=row["dataset"],
            name=row["name"],
            version=row["version"],
            model_type=row["model_type"],
            created_at=row["created_at"],
            creator=row["creator"],
            folder=self.root / row["folder"],
            checksums=json.loads(row["checksums"]),
            metadata=json.loads(row["metadata"]),
            aliases=aliases,
        )

    def exists(self, dataset: str, name: str) -> bool:
        """Whether a model of that name has at least one version."""
        with self._read() as db:
            row = db.execute("SELECT 1 FROM models WHERE dataset = ? AND name = ?", (dataset, name)).fetchone()
            return row is not None

    def models(self, dataset: str | None = None) -> list[ModelRecord]:
        """Every model (of one dataset, if given), with its versions and aliases."""
        with self._read() as db:
            where, args = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
            rows = db.execute(f"SELECT * FROM models {where} ORDER BY dataset, name", args).fetchall()
            return [self._model_record(db, row) for row in rows]

    def _model_record(self, db, row) -> ModelRecord:
        ref = ModelRef(row["dataset"], row["name"])
        aliases = {r[0]: r[1] for r in db.execute(
            "SELECT alias, version FROM aliases WHERE dataset = ? AND name = ? ORDER BY alias", (ref.dataset, ref.name)
        )}  # fmt: skip
        return ModelRecord(
            dataset=row["dataset"],
            name=row["name"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            description=row["description"],
            labels=json.loads(row["labels"]) if row["labels"] else {},
            max_versions=row["max_versions"],
            versions=self._version_numbers(db, ref),
            aliases=aliases,
        )

    def versions(self, dataset: str, name: str) -> list[VersionRecord]:
        """Every version of a model, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT * FROM versions WHERE dataset = ? AND name = ? ORDER BY version", (dataset, name)
            ).fetchall()
            if not rows and not db.execute("SELECT 1 FROM models WHERE dataset = ? AND name = ?", (dataset, name)).fetchone():
                raise self._model_not_found(db, ModelRef(dataset, name))
            return [self._version_record(db, row) for row in rows]

    def verified_files(self, record: VersionRecord) -> dict[str, Path]:
        """The version's files after checking each against its recorded checksum.

        Raises:
            CorruptModelError: a file is missing or was changed since it was written.
        """
        files = {}
        for filename, digest in record.checksums.items():
            path = record.folder / filename
            if not path.is_file():
                raise CorruptModelError(
                    f"Model {record.label} is missing its file {filename}.",
                    model=record.label,
                    version=record.version,
                    hint="Re-train it with CREATE OR REPLACE MODEL, or drop this version.",
                )
            if sha256_of(path) != digest:
                raise CorruptModelError(
                    f"Model {record.label}: the file {filename} does not match its recorded checksum; "
                    "it was changed after training and will not be loaded.",
                    model=record.label,
                    version=record.version,
                    hint="Re-train it with CREATE OR REPLACE MODEL, or drop this version.",
                )
            files[filename] = path
        return files

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder to write a version's files in; removed unless committed."""
        self._clean_debris_once()
        folder = self.root / STAGING / f"{os.getpid()}-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(
        self,
        ref: ModelRef,
        staged: Path,
        metadata: dict,
        *,
        replace: bool,
        options: dict | None = None,
    ) -> VersionRecord:
        """Publish a staged folder as the next version of ``ref`` and move ``default`` to it.

        Args:
            ref: the model's dataset and name.
            staged: the folder from :meth:`staging`, with every file written.
            metadata: JSON-serialisable description of the model (type, options, schema…).
            replace: CREATE OR REPLACE; without it an existing model is an error.
            options: model-level settings from OPTIONS (description, labels, max_versions).

        Raises:
            AlreadyExistsError: the model exists and ``replace`` is false.
        """
        checksums = {p.name: sha256_of(p) for p in sorted(staged.iterdir()) if p.is_file()}
        options = options or {}
        with self._write() as db:
            existing = db.execute("SELECT 1 FROM models WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)).fetchone()
            if existing and not replace:
                raise AlreadyExistsError(
                    f"Model {ref.dataset}.{ref.name} already exists.",
                    hint="Use CREATE OR REPLACE MODEL to train a new version, or CREATE MODEL IF NOT EXISTS.",
                )
            version = self._next_version(db, ref)
            folder = model_folder(ref.dataset, ref.name) / str(version)
            target = self.root / folder
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)  # debris of a crashed commit
            os.rename(staged, target)
            try:
                self._insert_version(db, ref, version, folder, checksums, metadata, existing is None, options)
            except BaseException:
                os.rename(target, staged)
                raise
        self._apply_retention(ref)
        return self.resolve(ModelRef(ref.dataset, ref.name, str(version)))

    def _next_version(self, db, ref: ModelRef) -> int:
        # A counter, not MAX(version): numbers are never reused after a version is dropped.
        row = db.execute("SELECT last_version FROM counters WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)).fetchone()
        version = (row[0] if row else 0) + 1
        db.execute(
            "INSERT INTO counters VALUES (?, ?, ?) ON CONFLICT(dataset, name) DO UPDATE SET last_version = excluded.last_version",
            (ref.dataset, ref.name, version),
        )
        return version

    def _insert_version(self, db, ref, version, folder, checksums, metadata, is_new, options) -> None:
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
        self._move_alias(db, ref, DEFAULT_ALIAS, version)

    def _move_alias(self, db, ref: ModelRef, alias: str, version: int) -> None:
        db.execute(
            "INSERT INTO aliases VALUES (?, ?, ?, ?) ON CONFLICT(dataset, name, alias) DO UPDATE SET version = excluded.version",
            (ref.dataset, ref.name, alias, version),
        )

    def set_aliases(self, ref: ModelRef, aliases: list[str]) -> VersionRecord:
        """Move each alias to the version ``ref`` names (an alias lives on one version at a time).

        Raises:
            InvalidOptionError: an alias breaks :data:`~sqlml.store.records.ALIAS_RULE`.
        """
        for alias in aliases:
            if problem := alias_problem(alias):
                raise InvalidOptionError(
                    f"{alias!r} cannot be a version alias: {problem}.", option="version_aliases", hint=ALIAS_RULE
                )
        record = self.resolve(ref)
        with self._write() as db:
            for alias in aliases:
                self._move_alias(db, ref, alias, record.version)
            db.execute("UPDATE models SET updated_at = ? WHERE dataset = ? AND name = ?", (now(), ref.dataset, ref.name))
        return self.resolve(ModelRef(ref.dataset, ref.name, str(record.version)))

    def set_model_options(self, ref: ModelRef, **settings) -> None:
        """Change model-level settings: ``description``, ``labels`` (pairs) or ``max_versions``."""
        self.resolve(ModelRef(ref.dataset, ref.name))
        with self._write() as db:
            for key, value in settings.items():
                if key == "labels":
                    value = json.dumps(dict(value)) if value else None
                db.execute(f"UPDATE models SET {key} = ?, updated_at = ? WHERE dataset = ? AND name = ?",
                           (value, now(), ref.dataset, ref.name))  # fmt: skip
        if settings.get("max_versions"):
            self._apply_retention(ref)

    def drop(self, ref: ModelRef) -> None:
        """Drop a whole model (``ds.m``) or one version (``ds.m@2``, refused if it holds an alias)."""
        if ref.selector is None:
            self.resolve(ref)  # raises if missing
            with self._write() as db:
                for table in ("aliases", "versions", "models", "counters"):
                    db.execute(f"DELETE FROM {table} WHERE dataset = ? AND name = ?", (ref.dataset, ref.name))
            shutil.rmtree(self.root / model_folder(ref.dataset, ref.name), ignore_errors=True)
            return
        record = self.resolve(ref)
        self._drop_version(record)

    def _drop_version(self, record: VersionRecord) -> None:
        with self._write() as db:
            held = [r[0] for r in db.execute(
                "SELECT alias FROM aliases WHERE dataset = ? AND name = ? AND version = ?",
                (record.dataset, record.name, record.version),
            )]  # fmt: skip
            if held:
                raise ModelError(
                    f"Version {record.version} of {record.dataset}.{record.name} holds the alias(es) "
                    f"{', '.join(held)} and cannot be dropped.",
                    model=record.label,
                    version=record.version,
                    hint="Move the aliases to another version first with ALTER MODEL … SET OPTIONS(version_aliases=[…]).",
                )
            db.execute("DELETE FROM versions WHERE dataset = ? AND name = ? AND version = ?",
                       (record.dataset, record.name, record.version))  # fmt: skip
        shutil.rmtree(record.folder, ignore_errors=True)

    def _apply_retention(self, ref: ModelRef) -> None:
        with self._read() as db:
            row = db.execute("SELECT max_versions FROM models WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)).fetchone()
        cap = row[0] if row else None
        if not cap:
            return
        versions = self.versions(ref.dataset, ref.name)
        excess = len(versions) - cap
        for record in versions:
            if excess <= 0:
                break
            if not record.aliases:
                self._drop_version(record)
                excess -= 1

    # -- debris ------------------------------------------------------------------------------

    def _clean_debris_once(self) -> None:
        if self._cleaned:
            return
        self._cleaned = True
        remove_dead_staging(self.root / STAGING)
        with self._write() as db:
            known = {r[0] for r in db.execute("SELECT folder FROM versions")}
            for folder in self.root.glob("*/*/*"):
                relative = folder.relative_to(self.root).as_posix()
                if folder.is_dir() and not relative.startswith(STAGING) and relative not in known:
                    shutil.rmtree(folder, ignore_errors=True)


def _creator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return str(os.getuid())
