"""A full disk, a refused folder or a damaged file: a clear error naming the path and the cause,
and the model store, the warehouse and exported files as they were.

The tests run as any user (root ignores chmod), so the file system's refusals are simulated by
making the writer raise the OSError the system would.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

import sqlml
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

TRAIN = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, {a} * x AS y FROM ds.t"
PREDICT = "SELECT SUM(predicted_y) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)"
UNCHANGED = "The model store is as it was before the statement."


@pytest.fixture
def con(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(10)")
        con.query(TRAIN.format(a=2))
        yield con
    CACHE._models.clear()


def _state(con) -> tuple:
    """What a failed statement must not change: the versions, the prediction, the staging folder."""
    versions = [r.version for r in con.models.versions("ds", "m")]
    staged = sorted(os.listdir(con.models_path / ".staging"))
    return versions, round(con.query(PREDICT).fetchall()[0][0], 6), staged


def _refuse(code: int):
    def write(*args, **kwargs):  # Path.write_text(self, …) or tempfile.mkstemp(…, dir=folder)
        raise OSError(code, os.strerror(code), str(args[0] if args else kwargs["dir"]))

    return write


@pytest.mark.parametrize(
    ("code", "cause"),
    [(errno.ENOSPC, "the disk is full (no space left on device)"),
     (errno.EACCES, "permission denied (the folder is read-only or belongs to another user)"),
     (errno.EROFS, "the file system is read-only")],
)  # fmt: skip
def test_create_model_whose_files_cannot_be_written_names_the_file_and_cause_and_keeps_the_old_model(con, monkeypatch, code, cause):
    before = _state(con)
    assert before[1] == pytest.approx(90.0)  # 2 * (0 + … + 9)
    monkeypatch.setattr(Path, "write_text", _refuse(code))
    with pytest.raises(sqlml.ModelError) as caught:
        con.query(TRAIN.format(a=3))
    monkeypatch.undo()
    message = str(caught.value)
    assert message.startswith("The model store could not write the model's files at ")
    assert f"/model.json: {cause}.\n  at statement 1, line 1, column 1" in message
    assert message.endswith(f"{UNCHANGED} Free disk space or make the folder writable, then run the statement again.")
    assert _state(con) == before


def test_a_store_folder_that_refuses_a_new_version_is_a_clear_error(con, monkeypatch):
    before = _state(con)

    def refuse(root):
        raise PermissionError(errno.EACCES, "Permission denied", str(root / ".staging" / "x"))

    monkeypatch.setattr("sqlml.store.registry.new_staging_folder", refuse)
    with pytest.raises(sqlml.ModelError, match=r"^The model store could not write a new model version at .*/\.staging/x: permission denied"):
        con.query(TRAIN.format(a=3))
    monkeypatch.undo()
    assert _state(con) == before


def test_a_truncated_model_file_names_the_model_and_the_fixes_and_runs_nothing(con):
    con.query("CREATE TABLE ds.out (n INT64)")
    record = con.models.resolve(ModelRef("ds", "m"))
    arrays = record.folder / "arrays.npz"
    os.truncate(arrays, 100)
    CACHE._models.clear()
    with pytest.raises(sqlml.CorruptModelError) as caught:
        con.query("INSERT INTO ds.out SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)")
    assert caught.value.model == "ds.m@1"
    assert str(caught.value).splitlines()[0] == (
        "Model ds.m@1: the file arrays.npz does not match its recorded checksum; it was changed after training, "
        "so the model will not be loaded."
    )
    assert str(caught.value).splitlines()[-1] == (
        f"Re-train it with CREATE OR REPLACE MODEL, restore {arrays} from a backup, or drop this version with DROP MODEL `ds.m@1`."
    )
    assert con.query("SELECT COUNT(*) FROM ds.out").fetchall() == [(0,)]


@pytest.mark.parametrize("column", ["checksums", "metadata"])
def test_a_damaged_catalog_row_is_the_models_error_not_a_json_traceback(con, column):
    with sqlite3.connect(con.models_path / "catalog.sqlite") as db:
        db.execute(f"UPDATE versions SET {column} = '{{not json'")
    CACHE._models.clear()
    with pytest.raises(sqlml.CorruptModelError) as caught:
        con.query(PREDICT)
    assert str(caught.value).splitlines()[0] == (
        f"Model ds.m@1: its catalog entry is damaged (the {column} recorded for it are not readable), so it will not be loaded."
    )
    assert str(caught.value).splitlines()[-1] == "Restore catalog.sqlite from a backup, or re-train the model with CREATE OR REPLACE MODEL."


def test_a_catalog_file_that_is_not_a_database_says_so_and_how_to_recover(con):
    catalog = con.models_path / "catalog.sqlite"
    for leftover in catalog.parent.glob("catalog.sqlite-*"):
        leftover.unlink()
    catalog.write_bytes(b"\x00garbage" * 512)
    CACHE._models.clear()
    with pytest.raises(sqlml.CorruptModelError) as caught:
        con.query(PREDICT)
    assert str(caught.value).splitlines()[0] == (
        f"The model store's catalog {catalog} is damaged (file is not a database); no model can be read or written through it."
    )
    assert "Restore catalog.sqlite from a backup (the model files beside it are untouched)" in str(caught.value)


def test_export_data_onto_a_full_disk_names_the_uri_file_and_keeps_the_previous_export(con, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    con.query(f"EXPORT DATA OPTIONS(uri='{out}/part-*.csv', format='CSV') AS SELECT 1 AS x")
    before = {p.name: p.read_text() for p in out.iterdir()}
    monkeypatch.setattr("sqlml.warehouse.export_data.tempfile.mkstemp", _refuse(errno.ENOSPC))
    with pytest.raises(sqlml.ExecutionError) as caught:
        con.query(f"EXPORT DATA OPTIONS(uri='{out}/part-*.csv', format='CSV', overwrite=true) AS SELECT 2 AS x")
    assert str(caught.value).splitlines()[0] == (
        f"EXPORT DATA could not write '{out}/part-000000000000.csv': the disk is full (no space left on device)."
    )
    assert {p.name: p.read_text() for p in out.iterdir()} == before == {"part-000000000000.csv": "x\n1\n"}


@pytest.mark.parametrize(("folder", "kind", "what"), [("models", sqlml.ModelError, "model store"), ("warehouse", sqlml.WarehouseError, "warehouse")])
def test_connecting_to_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path, monkeypatch, folder, kind, what):
    refused = tmp_path / "read-only" / folder
    make = Path.mkdir
    monkeypatch.setattr(Path, "mkdir", lambda path, *a, **k: _refuse(errno.EROFS)(path) if "read-only" in str(path) else make(path, *a, **k))
    paths = {"warehouse": tmp_path / "warehouse", "models": tmp_path / "models", folder: refused}
    with pytest.raises(kind) as caught:
        sqlml.connect(paths["warehouse"], paths["models"])
    assert str(caught.value) == (
        f"Cannot create the {what} folder {refused}: the file system is read-only.\n"
        f"Choose a folder this user can write: sqlml.connect({folder}=…) or --{folder} DIR."
    )


def test_on_a_disk_too_full_for_sqlites_shared_memory_models_still_predict_and_writes_fail_clearly(con, monkeypatch):
    from sqlml.store.catalog import Catalog

    def full(self):
        raise sqlite3.OperationalError("disk I/O error")  # SQLite cannot create catalog.sqlite-shm

    before = _state(con)
    CACHE._models.clear()
    monkeypatch.setattr(Catalog, "_connect", full)
    assert con.query(PREDICT).fetchall() == [(pytest.approx(90.0),)]  # read from the catalog file as it is
    with pytest.raises(sqlml.ModelError) as caught:
        con.query(TRAIN.format(a=3))
    assert str(caught.value).splitlines()[0] == f"The model store could not use its catalog {con.models_path / 'catalog.sqlite'}: disk I/O error."
    monkeypatch.undo()
    assert _state(con) == before
