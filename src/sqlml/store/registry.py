"""The model store: every version of every model, with aliases, checksums and atomic writes.

Layout of the store folder::

    catalog.sqlite                      the catalog (models, versions, aliases, checksums): store/catalog.py
    <dataset>/<model>/<version>/        one folder per version: model files in open formats
    .staging/<pid>-<start>-<host>-<id>/ a version being written: store/layout.py

A version becomes visible in one step: its files are written to a staging folder, checksummed,
then — inside one ``BEGIN IMMEDIATE`` transaction that also takes the next version number — the
folder is renamed into place and the catalog row inserted. A failure or a kill before the commit
leaves the previous state; debris (a staging folder of a dead process, a version folder no
catalog row names) is removed the next time the store is opened for writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlml.errors import AlreadyExistsError, CorruptModelError, Error, InvalidOptionError, ModelError, ModelNotFoundError
from sqlml.store import catalog
from sqlml.store.catalog import Catalog, now
from sqlml.store.faults import write_failed
from sqlml.store.layout import STAGING, model_folder, new_staging_folder, remove_dead_staging, remove_orphan_versions
from sqlml.store.records import ALIAS_RULE, ModelRecord, ModelRef, VersionRecord, alias_problem, sha256_of


#: Seconds the files of a dropped version stay (DROP MODEL `ds.m@2`, ``max_versions``): a statement
#: that resolved the version just before the drop still reads it, the old model rather than an error.
READ_GRACE = 60.0


class ModelStore:
    """Versioned models under one folder.

    Args:
        root: the store folder (created if missing).
        busy_timeout: seconds a writer waits for another process's write to finish.
    """

    def __init__(self, root: str | os.PathLike, busy_timeout: float = 60.0):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise write_failed(error, self.root, "its folder") from error
        self._catalog = Catalog(self.root, busy_timeout)
        self._cleaned = False
        remove_dead_staging(self.root)

    # -- reading -----------------------------------------------------------------------------

    def resolve(self, ref: ModelRef) -> VersionRecord:
        """The version a reference names: ``ds.m`` (the ``default`` alias), ``ds.m@3``, ``ds.m@production``.

        Raises:
            ModelNotFoundError: no such model, version or alias; the message lists what exists.
        """
        with self._catalog.read() as db:
            model = db.execute(
                "SELECT * FROM models WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)
            ).fetchone()
            if model is None:
                raise catalog.model_not_found(db, ref)
            version = catalog.selected_version(db, ref)
            row = db.execute(
                "SELECT * FROM versions WHERE dataset = ? AND name = ? AND version = ?",
                (ref.dataset, ref.name, version),
            ).fetchone()
            if row is None:
                raise ModelNotFoundError(
                    f"Model {ref.dataset}.{ref.name} has no version {version}.",
                    model=str(ref),
                    hint=f"Versions: {', '.join(map(str, catalog.version_numbers(db, ref)))}.",
                )
            return catalog.version_record(db, self.root, row)

    def exists(self, dataset: str, name: str) -> bool:
        """Whether a model of that name has at least one version."""
        with self._catalog.read() as db:
            row = db.execute("SELECT 1 FROM models WHERE dataset = ? AND name = ?", (dataset, name)).fetchone()
            return row is not None

    def models(self, dataset: str | None = None) -> list[ModelRecord]:
        """Every model (of one dataset, if given), with its versions and aliases."""
        with self._catalog.read() as db:
            where, args = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
            rows = db.execute(f"SELECT * FROM models {where} ORDER BY dataset, name", args).fetchall()
            return [catalog.model_record(db, row) for row in rows]

    def current_versions(self) -> list[tuple[ModelRecord, VersionRecord]]:
        """Every model with the version its ``default`` alias names, by dataset and name, read with
        four queries however many models there are (a listing of 500 models took 500 reads)."""
        with self._catalog.read() as db:
            aliases: dict[tuple[str, str], dict[str, int]] = {}
            for dataset, name, alias, version in db.execute("SELECT dataset, name, alias, version FROM aliases ORDER BY alias"):
                aliases.setdefault((dataset.lower(), name), {})[alias] = version
            numbers: dict[tuple[str, str], list[int]] = {}
            for dataset, name, listed in db.execute("SELECT dataset, name, GROUP_CONCAT(version) FROM versions GROUP BY dataset, name"):
                numbers[(dataset.lower(), name)] = sorted(map(int, listed.split(",")))
            current = {(row["dataset"].lower(), row["name"]): row for row in db.execute(
                "SELECT v.* FROM versions AS v JOIN aliases AS a ON a.dataset = v.dataset AND a.name = v.name "
                "AND a.version = v.version WHERE a.alias = ?", (catalog.DEFAULT_ALIAS,),
            )}  # fmt: skip
            listing = []
            for row in db.execute("SELECT * FROM models ORDER BY dataset, name"):
                key = (row["dataset"].lower(), row["name"])
                if key in current:
                    model = catalog.model_record(db, row, numbers.get(key, []), aliases.get(key, {}))
                    version = current[key]["version"]
                    held = sorted(alias for alias, number in model.aliases.items() if number == version)
                    listing.append((model, catalog.version_record(db, self.root, current[key], held)))
            return listing

    def versions(self, dataset: str, name: str) -> list[VersionRecord]:
        """Every version of a model, oldest first."""
        with self._catalog.read() as db:
            rows = db.execute(
                "SELECT * FROM versions WHERE dataset = ? AND name = ? ORDER BY version", (dataset, name)
            ).fetchall()
            if not rows and not db.execute("SELECT 1 FROM models WHERE dataset = ? AND name = ?", (dataset, name)).fetchone():
                raise catalog.model_not_found(db, ModelRef(dataset, name))
            return [catalog.version_record(db, self.root, row) for row in rows]

    def verified_files(self, record: VersionRecord) -> dict[str, Path]:
        """The version's files after checking each against its recorded checksum.

        Raises:
            ModelNotFoundError: the version was dropped (DROP MODEL, ``max_versions``) after
                ``record`` was read: its files are gone or belong to a newer version now.
            CorruptModelError: a file is missing, unreadable or was changed since it was written.
        """
        files = {}
        for filename, digest in record.checksums.items():
            path = record.folder / filename
            try:
                problem = None if sha256_of(path) == digest else "does not match its recorded checksum; it was changed after training"
            except FileNotFoundError:
                problem = "is missing"
            except OSError as error:
                problem = f"cannot be read ({error.strerror or error})"
            if problem is not None:
                if not self._is_current(record):
                    raise ModelNotFoundError(
                        f"Model {record.label} was dropped while this statement was reading it.",
                        model=record.label,
                        version=record.version,
                        hint="Run the statement again: it reads the model's current version.",
                    )
                raise CorruptModelError(
                    f"Model {record.label}: the file {filename} {problem}, so the model will not be loaded.",
                    model=record.label,
                    version=record.version,
                    hint=f"Re-train it with CREATE OR REPLACE MODEL, restore {path} from a backup, "
                    f"or drop this version with DROP MODEL `{record.label}`.",
                )
            files[filename] = path
        return files

    def _is_current(self, record: VersionRecord) -> bool:
        """Whether the catalog still holds ``record``'s version with the same files."""
        with self._catalog.read() as db:
            row = db.execute(
                "SELECT checksums FROM versions WHERE dataset = ? AND name = ? AND version = ?",
                (record.dataset, record.name, record.version),
            ).fetchone()
        with contextlib.suppress(ValueError):
            return row is not None and json.loads(row[0]) == record.checksums
        return True  # a damaged row: the version is there, and its files are what is wrong

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder to write a version's files in; removed unless committed."""
        self._clean_debris_once()
        try:
            folder = new_staging_folder(self.root)
        except OSError as error:
            raise write_failed(error, self.root / STAGING, "a new model version") from error
        try:
            yield folder
        except OSError as error:
            if isinstance(error, Error):  # CorruptModelError, WarehouseLockedError: already said
                raise
            raise write_failed(error, folder, "the model's files") from error
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
        cancel: threading.Event | None = None,
    ) -> VersionRecord:
        """Publish a staged folder as the next version of ``ref`` and move ``default`` to it.

        An exception before the catalog's commit took effect leaves the store as it was (the folder
        goes back to ``staged``); a Ctrl-C (KeyboardInterrupt) landing once it took effect comes too
        late: the version is published, the call returns it, and ``cancel`` is set, so that the
        caller stops what it runs next.

        Args:
            ref: the model's dataset and name.
            staged: the folder from :meth:`staging`, with every file written.
            metadata: JSON-serialisable description of the model (type, options, schema…).
            replace: CREATE OR REPLACE; without it an existing model is an error.
            options: model-level settings from OPTIONS (description, labels, max_versions).
            cancel: set when an interrupt landed after the version was published.

        Raises:
            AlreadyExistsError: the model exists and ``replace`` is false.
        """
        checksums = {p.name: sha256_of(p) for p in sorted(staged.iterdir()) if p.is_file()}
        options = options or {}
        version = target = None
        try:
            with self._catalog.write() as db:
                existing = db.execute("SELECT 1 FROM models WHERE dataset = ? AND name = ?", (ref.dataset, ref.name)).fetchone()
                if existing and not replace:
                    raise AlreadyExistsError(
                        f"Model {ref.dataset}.{ref.name} already exists.",
                        hint="Use CREATE OR REPLACE MODEL to train a new version, or CREATE MODEL IF NOT EXISTS.",
                    )
                version = catalog.next_version(db, ref)
                folder = model_folder(ref.dataset, ref.name) / str(version)
                target = self.root / folder
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(target, ignore_errors=True)  # debris of a crashed commit
                os.rename(staged, target)
                catalog.insert_version(db, ref, version, folder, checksums, metadata, existing is None, options)
        except BaseException as error:
            if version is None or not self._has_version(ref, version):
                if target is not None and target.is_dir() and not staged.exists():
                    os.rename(target, staged)  # not published: the folder goes back, and is removed with the staging
                raise
            if cancel is not None and isinstance(error, KeyboardInterrupt):
                cancel.set()  # published before the interrupt landed: too late to cancel this statement
        self._apply_retention(ref)
        return self.resolve(ModelRef(ref.dataset, ref.name, str(version)))

    def _has_version(self, ref: ModelRef, version: int) -> bool:
        with self._catalog.read() as db:
            found = db.execute(
                "SELECT 1 FROM versions WHERE dataset = ? AND name = ? AND version = ?", (ref.dataset, ref.name, version)
            ).fetchone()
            return found is not None

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
        with self._catalog.write() as db:
            for alias in aliases:
                catalog.move_alias(db, ref, alias, record.version)
            db.execute("UPDATE models SET updated_at = ? WHERE dataset = ? AND name = ?", (now(), ref.dataset, ref.name))
        return self.resolve(ModelRef(ref.dataset, ref.name, str(record.version)))

    def set_model_options(self, ref: ModelRef, **settings: object) -> None:
        """Change model-level settings: ``description``, ``labels`` (pairs) or ``max_versions``."""
        self.resolve(ModelRef(ref.dataset, ref.name))
        with self._catalog.write() as db:
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
            self._drop_model(ref)
            return
        record = self.resolve(ref)
        self._drop_version(record)

    def _drop_model(self, ref: ModelRef) -> None:
        with self._catalog.write() as db:
            for table in ("aliases", "versions", "models", "counters"):
                db.execute(f"DELETE FROM {table} WHERE dataset = ? AND name = ?", (ref.dataset, ref.name))
        self._remove_dropped(ref)

    def _remove_dropped(self, ref: ModelRef, min_age: float = 0.0) -> None:
        # Under the catalog's write lock, the folders no version names: a model of the same name
        # that another process created once the drop was committed starts again at version 1, in
        # the same folder, and keeps its files. A kill before this leaves orphans for the next clean-up.
        folder = model_folder(ref.dataset, ref.name)
        with self._catalog.write() as db:
            named = db.execute("SELECT folder FROM versions WHERE dataset = ? AND name = ?", (ref.dataset, ref.name))
            remove_orphan_versions(self.root, {row[0] for row in named}, f"{folder.as_posix()}/*", min_age)
            with contextlib.suppress(OSError):  # not empty: the new model's
                (self.root / folder).rmdir()

    def _drop_version(self, record: VersionRecord) -> None:
        with self._catalog.write() as db:
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
        # The files stay READ_GRACE seconds more (from now: the folder's time is the drop's), for
        # statements of other processes that resolved this version just before and read it now.
        with contextlib.suppress(OSError):
            os.utime(record.folder)
        self._remove_dropped(record.ref.base, READ_GRACE)

    def _apply_retention(self, ref: ModelRef) -> None:
        with self._catalog.read() as db:
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
        remove_dead_staging(self.root)
        with self._catalog.write() as db:  # no commit moves a folder into place meanwhile
            remove_orphan_versions(self.root, {r[0] for r in db.execute("SELECT folder FROM versions")}, min_age=READ_GRACE)
