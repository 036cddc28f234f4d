"""The model store: versions, namespaces, checksums, and nothing lost when training dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import sqlml
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

TRAIN = "CREATE {verb} MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, 2 * x + {b} AS y FROM ds.t"


@pytest.fixture
def store_con(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(50)")
        yield con


def _intercept(con, name="ds.m"):
    return con.query(f"SELECT weight FROM ML.WEIGHTS(MODEL {name}) WHERE processed_input = '__INTERCEPT__'").fetchall()[0][0]


def test_create_replace_and_if_not_exists(store_con):
    store_con.query(TRAIN.format(verb="", b=1))
    with pytest.raises(sqlml.AlreadyExistsError, match=r"(?s)Model ds.m already exists\..*Use CREATE OR REPLACE MODEL"):
        store_con.query(TRAIN.format(verb="", b=2))
    store_con.query(TRAIN.format(verb="", b=3).replace("CREATE  MODEL", "CREATE MODEL IF NOT EXISTS"))
    assert _intercept(store_con) == pytest.approx(1)
    store_con.query(TRAIN.format(verb="OR REPLACE", b=5))
    assert _intercept(store_con) == pytest.approx(5)
    assert [v.version for v in store_con.models.versions("ds", "m")] == [1, 2]
    with pytest.raises(sqlml.SqlSyntaxError, match=r"cannot be combined with IF NOT EXISTS"):
        store_con.query(TRAIN.format(verb="OR REPLACE", b=5).replace("MODEL ds.m", "MODEL IF NOT EXISTS ds.m"))


def test_drop_model_and_if_exists(store_con):
    store_con.query(TRAIN.format(verb="", b=1))
    store_con.query("DROP MODEL ds.m")
    assert not store_con.models.exists("ds", "m")
    assert not (store_con.models_path / "ds" / "m").exists()
    with pytest.raises(sqlml.ModelNotFoundError, match=r"Model 'ds.m' was not found"):
        store_con.query("DROP MODEL ds.m")
    store_con.query("DROP MODEL IF EXISTS ds.m")


def test_models_and_tables_share_a_namespace_and_datasets_must_exist(store_con):
    with pytest.raises(sqlml.AlreadyExistsError, match=r"A table named ds.t already exists; models and tables share one namespace"):
        store_con.query("CREATE MODEL ds.t OPTIONS(model_type='linear_reg', input_label_cols=['x']) AS SELECT x, x AS z FROM ds.t")
    with pytest.raises(sqlml.NotFoundError, match=r"(?s)Dataset nope was not found\..*CREATE SCHEMA nope"):
        store_con.query("CREATE MODEL nope.m OPTIONS(model_type='linear_reg', input_label_cols=['x']) AS SELECT x, x AS z FROM ds.t")


def test_model_files_are_open_formats_with_checksums_and_tampering_is_refused(store_con):
    store_con.query("CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['y']) AS SELECT x, 2 * x AS y FROM ds.t")
    record = store_con.models.resolve(ModelRef("ds", "bt"))
    assert sorted(record.checksums) == ["arrays.npz", "booster.txt", "model.json"]
    booster = record.folder / "booster.txt"
    assert booster.read_text().startswith("tree")
    booster.write_text(booster.read_text().replace("tree", "tree ", 1))
    CACHE._models.clear()
    with pytest.raises(sqlml.CorruptModelError, match=r"(?s)the file booster.txt does not match its recorded checksum.*Re-train it"):
        store_con.query("SELECT * FROM ML.PREDICT(MODEL ds.bt, TABLE ds.t)")


def test_arrays_load_without_pickle(store_con):
    store_con.query(TRAIN.format(verb="", b=1))
    record = store_con.models.resolve(ModelRef("ds", "m"))
    import numpy as np

    with np.load(record.folder / "arrays.npz", allow_pickle=False) as arrays:
        assert "estimator.coef" in arrays.files


_CHILD = textwrap.dedent("""
    import sys, time, sqlml
    from sqlml.store.registry import ModelStore
    mode, root, marker = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "commit":
        original = ModelStore.commit
        def slow_commit(self, *args, **kwargs):
            open(marker, "w").write("staged")
            time.sleep(60)
            return original(self, *args, **kwargs)
        ModelStore.commit = slow_commit
    else:
        from sqlml.progress import Reporter, reporting
        class Marker(Reporter):
            def advanced(self, task):
                open(marker, "w").write("training")
                time.sleep(0.2)
        installed = reporting(Marker())
        installed.__enter__()
    # Gradient descent: 500 iterations outlast the kill, and the child need not import LightGBM first.
    con = sqlml.connect(root + "/warehouse", root + "/models", idle_release=0)
    iterations = 500 if mode == "training" else 5
    con.query("CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y'], optimize_strategy='BATCH_GRADIENT_DESCENT', "
              f"max_iterations={iterations}, early_stop=FALSE) AS SELECT x, 3 * x AS y FROM ds.t")
""")


@pytest.mark.parametrize("mode", ["training", "commit"])
def test_killed_training_leaves_the_previous_model_and_no_debris(store_con, tmp_path, mode):
    store_con.query(TRAIN.format(verb="", b=1))
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, mode, str(tmp_path), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the child never reached the point to kill it at"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as after:
        assert [v.version for v in after.models.versions("ds", "m")] == [1]
        assert _intercept(after) == pytest.approx(1)
        staging = Path(after.models_path) / ".staging"
        assert not staging.exists() or not any(staging.iterdir())
        assert sorted(p.name for p in (Path(after.models_path) / "ds" / "m").iterdir()) == ["1"]


class _CommitInterrupted:
    """The catalog's SQLite connection, with Ctrl-C landing at the publishing COMMIT: after SQLite
    ran it (``after=True``) or before (``after=False``); armed by the version's insert."""

    armed = False

    def __init__(self, db, after: bool):
        self._db, self._after = db, after

    def __getattr__(self, name):
        return getattr(self._db, name)

    def execute(self, sql, *args):
        if sql != "COMMIT" or not _CommitInterrupted.armed:
            return self._db.execute(sql, *args)
        _CommitInterrupted.armed = False
        if self._after:
            self._db.execute(sql, *args)
        raise KeyboardInterrupt


@pytest.fixture
def interrupt_commit(monkeypatch):
    from sqlml.store import catalog

    def arm(after: bool) -> None:
        connect, insert = catalog.Catalog._connect, catalog.insert_version

        def armed_insert(*args, **kwargs):
            insert(*args, **kwargs)
            _CommitInterrupted.armed = True

        monkeypatch.setattr(catalog.Catalog, "_connect", lambda self: _CommitInterrupted(connect(self), after))
        monkeypatch.setattr(catalog, "insert_version", armed_insert)

    yield arm
    _CommitInterrupted.armed = False


def _version_folders(tmp_path):
    return sorted(p.name for p in (tmp_path / "models" / "ds" / "m").iterdir()) if (tmp_path / "models" / "ds" / "m").exists() else []


def test_create_model_interrupted_before_the_catalog_commit_leaves_the_store_unchanged(store_con, tmp_path, interrupt_commit):
    store_con.query(TRAIN.format(verb="", b=1))
    interrupt_commit(after=False)
    with pytest.raises(KeyboardInterrupt):
        store_con.query(TRAIN.format(verb="OR REPLACE", b=5))
    assert [v.version for v in store_con.models.versions("ds", "m")] == [1]
    assert _intercept(store_con) == pytest.approx(1)
    assert _version_folders(tmp_path) == ["1"]  # the staged version 2 did not stay in place
    assert not list((tmp_path / "models" / ".staging").iterdir())


def test_create_model_interrupted_after_the_catalog_commit_took_effect_completes(store_con, tmp_path, interrupt_commit):
    """Too late to cancel: the version is published, the statement succeeds and the interrupt
    stops the script's next statement (it reported an internal error: SQLite's "cannot rollback -
    no transaction is active")."""
    store_con.query(TRAIN.format(verb="", b=1))
    interrupt_commit(after=True)
    with pytest.raises(sqlml.Cancelled, match=r"The statement was cancelled; nothing it started was kept\.") as cancelled:
        store_con.query(TRAIN.format(verb="OR REPLACE", b=5) + "; SELECT 1 AS x")
    assert cancelled.value.location.statement == 2
    assert [v.version for v in store_con.models.versions("ds", "m")] == [1, 2]
    assert _intercept(store_con) == pytest.approx(5)
    assert _version_folders(tmp_path) == ["1", "2"]
