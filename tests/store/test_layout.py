"""Model and dataset names up to BigQuery's 1,024 characters fit the file system; longer ones are
refused. Staging folders of writers that are gone are removed, those of live writers kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import uuid

import pytest

import sqlml
from sqlml.process import ProcessIdentity
from sqlml.store.layout import MAX_FOLDER_NAME, STAGING, folder_name, model_folder
from sqlml.store.registry import ModelStore


def test_long_names_map_to_distinct_short_folders():
    assert folder_name("churn_model") == "churn_model"
    long_a, long_b = "m" * 300 + "_a", "m" * 300 + "_b"
    assert folder_name(long_a) != folder_name(long_b)
    assert all(len(folder_name(name).encode()) <= MAX_FOLDER_NAME for name in (long_a, long_b, "x" * 1024))
    assert folder_name(long_a) == folder_name(long_a)  # stable: the same model always lands in one folder
    assert "-" in folder_name(long_a) and "-" not in long_a  # cannot collide with a name as written
    assert str(model_folder("d" * 500, "m")).startswith(folder_name("d" * 500) + "/")


def test_a_model_with_a_name_longer_than_a_file_name_trains_predicts_and_drops(tmp_path):
    dataset, name = "d" * 300, "m" * 1024
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query(f"CREATE SCHEMA {dataset}; CREATE TABLE {dataset}.t AS SELECT CAST(range AS DOUBLE) AS x, 2.0 * range AS y FROM range(30)")
        for _ in range(2):
            con.query(f"CREATE OR REPLACE MODEL {dataset}.{name} OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM {dataset}.t")
        rows = con.query(f"SELECT predicted_y FROM ML.PREDICT(MODEL `{dataset}.{name}@1`, (SELECT 3.0 AS x))").fetchall()
        assert rows[0][0] == pytest.approx(6.0)
        folders = [p for p in (tmp_path / "models").rglob("*") if p.is_dir() and ".staging" not in p.parts]
        assert folders and all(len(p.name.encode()) <= MAX_FOLDER_NAME for p in folders)
        con.query(f"DROP MODEL {dataset}.{name}")
        assert not (tmp_path / "models" / model_folder(dataset, name)).exists()


@pytest.mark.parametrize("long", ["model", "dataset"])
def test_a_name_over_bigquerys_limit_is_refused_before_anything_is_written(tmp_path, long):
    too_long = "n" * 1025
    dataset, name = (too_long, "m") if long == "dataset" else ("ds", too_long)
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query(f"CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x, 2.0 * range AS y FROM range(30)")
        with pytest.raises(sqlml.ModelError, match=r"^The dataset or model name 'nnnnnnnnnnnnnnnnnnnn…' has 1025 characters; BigQuery allows at most 1024\.") as info:
            con.query(f"CREATE MODEL {dataset}.{name} OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
        assert (info.value.location.line, info.value.location.col) == (1, 14)
        assert con.models.models() == []
        assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] in ([], [".staging"])


def _staging_name(pid: int, started_at: dt.datetime, host: str) -> str:
    micros = round((started_at - dt.datetime(1970, 1, 1)).total_seconds() * 1e6)
    return f"{pid}-{micros}-{hashlib.sha256(host.encode()).hexdigest()[:12]}-{uuid.uuid4().hex}"


def test_a_staging_folder_is_judged_by_its_writers_pid_start_time_and_host(tmp_path):
    me = ProcessIdentity.current()
    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(exited.stdout)
    folders = {
        "live writer": _staging_name(me.pid, me.started_at, me.host),
        # this process's PID, but a writer that started an hour earlier: the PID was handed out again
        "reused pid": _staging_name(me.pid, me.started_at - dt.timedelta(hours=1), me.host),
        "dead writer": _staging_name(dead_pid, me.started_at, me.host),
        # a writer on another machine sharing the folder: its PID means nothing here
        "other host": _staging_name(dead_pid, me.started_at, "another-host"),
        "older sqlml, dead": f"{dead_pid}-{uuid.uuid4().hex}",
        "older sqlml, live": f"{me.pid}-{uuid.uuid4().hex}",
    }
    for name in folders.values():
        (tmp_path / STAGING / name).mkdir(parents=True)
        (tmp_path / STAGING / name / "model.json").write_text("{}")
    ModelStore(tmp_path)
    kept = {label for label, name in folders.items() if (tmp_path / STAGING / name).exists()}
    assert kept == {"live writer", "other host", "older sqlml, live"}


def test_a_new_staging_folder_names_this_process_and_survives_a_clean_up(tmp_path):
    store = ModelStore(tmp_path)
    with store.staging() as folder:
        pid, micros, host, _ = folder.name.split("-")
        me = ProcessIdentity.current()
        assert int(pid) == me.pid and host == hashlib.sha256(me.host.encode()).hexdigest()[:12]
        assert abs(dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(micros)) - me.started_at) < dt.timedelta(seconds=1)
        ModelStore(tmp_path)  # another store opening the folder meanwhile
        assert folder.is_dir()
    assert not folder.exists()
