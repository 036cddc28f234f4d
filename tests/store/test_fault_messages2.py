"""A full disk or a read-only file system met by EXPORT MODEL, by a warehouse write, or by a writable
connect: a clear error naming the folder or file and the cause, and nothing changed.

As in test_disk_faults, the system's refusals are simulated (the tests run as any user): the writer
raises the OSError the system would, or DuckDB's own exception with the words DuckDB uses (seen on a
full and on a read-only tmpfs).
"""

from __future__ import annotations

import errno
import os
import shutil

import duckdb
import pytest

import sqlml
from sqlml.engine.duckdb.cursor import DuckDBCursor
from sqlml.engine.duckdb.file_faults import refused
from sqlml.engine.duckdb.instance import Instance
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.faults import cause_of

TRAIN = "CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, 2 * x AS y FROM ds.t"
FULL = "the disk is full (no space left on device)"
DENIED = "permission denied (the folder is read-only or belongs to another user)"
EXPORT_HINT = (
    "Nothing was exported: the folder is as it was. Free disk space or export to a folder this user can write "
    "(OPTIONS(uri=…)), then run it again."
)


@pytest.fixture
def con(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(10)")
        yield con
    CACHE._models.clear()


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _refuse(code: int, name_of):
    def call(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(name_of(*args, **kwargs)))

    return call


# -- EXPORT MODEL ---------------------------------------------------------------------------


def _refuse_second_rename(code: int):
    """os.rename that renames the previous export aside, then refuses to put the new one in place."""
    rename, calls = os.rename, []

    def call(source, destination):
        calls.append(source)
        if len(calls) == 2:
            raise OSError(code, os.strerror(code), str(source))
        rename(source, destination)

    return call


@pytest.mark.parametrize(
    ("target", "code", "cause"),
    [("shutil.copyfile", errno.ENOSPC, FULL),  # names the model store's arrays.npz, as the real one does
     ("tempfile.mkdtemp", errno.EROFS, "the file system is read-only"),  # names the target's parent folder
     ("os.rename", errno.EACCES, DENIED)],  # the new folder cannot be renamed into place
)  # fmt: skip
def test_export_model_to_a_refusing_folder_names_the_folder_and_cause_and_keeps_the_previous_export(con, tmp_path, monkeypatch, target, code, cause):
    con.query(TRAIN)
    out = tmp_path / "exports" / "m"
    con.query(f"EXPORT MODEL ds.m OPTIONS(uri='{out}')")
    before = _files(out)
    assert {"manifest.json", "model.json", "arrays.npz"} <= set(before)
    refusal = _refuse_second_rename(code) if target == "os.rename" else _refuse(code, lambda *a, **k: a[0] if a else k["dir"])
    monkeypatch.setattr(target, refusal)
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(f"EXPORT MODEL ds.m OPTIONS(uri='{out}')")
    monkeypatch.undo()
    lines = str(caught.value).splitlines()
    assert lines[0] == f"EXPORT MODEL could not write the folder {out}: {cause}."
    assert lines[-1] == EXPORT_HINT
    assert _files(out) == before
    assert os.listdir(out.parent) == ["m"]  # no hidden staging or previous-export folder left


def test_export_model_that_fails_before_any_export_leaves_no_folder(con, tmp_path, monkeypatch):
    con.query(TRAIN)
    out = tmp_path / "exports" / "new" / "m"
    monkeypatch.setattr(shutil, "copyfile", _refuse(errno.ENOSPC, lambda source, destination: source))
    with pytest.raises(sqlml.ExecutionError, match=f"^EXPORT MODEL could not write the folder {out}: {FULL[:12]}"):
        con.query(f"EXPORT MODEL ds.m OPTIONS(uri='{out}')")
    assert sorted(os.listdir(tmp_path)) == ["models", "warehouse"]  # not even the exports/new/ folders it made


# -- a warehouse write on a full disk ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "words", "suffix"),
    [(duckdb.TransactionException, "TransactionContext Error: Failed to commit: Could not write file", ".wal"),
     (duckdb.IOException, "IO Error: Could not write file", "")],
)  # fmt: skip
@pytest.mark.parametrize("statement", ["INSERT INTO ds.t SELECT 99.0", "CREATE OR REPLACE TABLE ds.t AS SELECT 1.0 AS x"])
def test_a_full_disk_under_a_warehouse_write_names_the_file_and_cause_and_the_table_is_as_it_was(con, monkeypatch, kind, words, suffix, statement):
    file = f"{con.warehouse_path / 'warehouse.duckdb'}{suffix}"
    call = DuckDBCursor._call

    def refuse(sql, parameters):  # DuckDB rolls the statement back
        raise kind(f'{words} "{file}": No space left on device')

    def full(self, method, sql, parameters):
        return call(self, refuse if sql.lstrip().upper().startswith(("INSERT", "CREATE")) else method, sql, parameters)

    monkeypatch.setattr(DuckDBCursor, "_call", full)
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(statement)
    monkeypatch.undo()
    assert str(caught.value) == (
        f"The warehouse could not write its file {file}: {FULL}.\n"
        f"  at statement 1, line 1, column 1\n  {statement}\n  ^^^^^^\n"
        "DuckDB rolled the statement back: the warehouse is as it was. Free disk space, then run the statement again."
    )
    assert con.query("SELECT COUNT(*), SUM(x) FROM ds.t").fetchall() == [(10, 45.0)]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM])
def test_the_warehouse_words_each_cause_as_the_model_store_does(tmp_path, code):
    message = f'IO Error: Could not write file "{tmp_path}/warehouse.duckdb": {os.strerror(code)}'
    assert refused(message) == (f"{tmp_path}/warehouse.duckdb", cause_of(OSError(code, os.strerror(code)), tmp_path))


def test_a_refused_file_other_than_the_warehouses_keeps_duckdbs_words(tmp_path):
    # EXPORT DATA words its own files' refusals (sqlml.warehouse.export_data)
    assert refused(f'IO Error: Could not write file "{tmp_path}/part-0.csv": No space left on device') is None
    assert refused(f'IO Error: Could not write file "{tmp_path}/warehouse.duckdb": Input/output error') is None


# -- a writable connect on a read-only file system ------------------------------------------


def test_connecting_for_writing_on_a_read_only_file_system_suggests_read_only(tmp_path, monkeypatch):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
        file = con.warehouse_path / "warehouse.duckdb"
    attach = Instance._attach_once

    def read_only_file_system(self):
        if self.read_only:
            return attach(self)
        return duckdb.IOException(f'IO Error: Cannot open file "{file}": Read-only file system')

    monkeypatch.setattr(Instance, "_attach_once", read_only_file_system)
    with pytest.raises(sqlml.WarehouseError) as caught:
        with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
            con.query("SELECT * FROM ds.t")
    assert str(caught.value) == (
        f"Cannot open the warehouse {file} for writing: the file system is read-only.\n"
        "Open it for reading with sqlml.connect(..., read_only=True), or copy it to a writable folder to change it."
    )
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", read_only=True) as con:
        assert con.query("SELECT * FROM ds.t").fetchall() == [(1,)]


# -- a checkpoint refused as the warehouse is detached ---------------------------------------


class _CheckpointRefused:
    """A DuckDB connection whose DETACH detaches, then reports the failed checkpoint as DuckDB does."""

    def __init__(self, db, file):
        self.db, self.file = db, file

    def execute(self, sql, *args):
        result = self.db.execute(sql, *args)
        if sql.startswith("DETACH"):
            raise duckdb.IOException(
                "IO Error: Detached database 'warehouse', but CHECKPOINT during DETACH failed. \n"
                'Checkpoint failed for database "warehouse". The database has been invalidated. '
                f'Original error: Could not write file "{self.file}": No space left on device'
            )
        return result

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_a_checkpoint_the_full_disk_refuses_is_logged_once_and_the_committed_statements_stand(tmp_path, caplog):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        instance = con._warehouse.instance
        file = con.warehouse_path / "warehouse.duckdb"
        instance.db = _CheckpointRefused(instance.db, file)
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
        con.query("INSERT INTO ds.t VALUES (2)")
        assert con.query("SELECT x FROM ds.t ORDER BY x").fetchall() == [(1,), (2,)]
        instance.db = instance.db.db
    assert [r.getMessage() for r in caplog.records] == [
        f"The warehouse {file} could not be checkpointed: {FULL}. Committed changes are kept in its write-ahead log "
        "and applied when it is next opened; free disk space, or the next write will fail."
    ]
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        assert con.query("SELECT x FROM ds.t ORDER BY x").fetchall() == [(1,), (2,)]
