"""Several processes on one project folder at once: every statement succeeds or fails with a
clear sqlml error, the tables hold exactly what the successful statements wrote, and no reader of
a model ever sees a half-written or vanished version.

The load test starts real processes (Python sessions, ``sqlml query`` commands and ``sqlml serve``)
and is marked slow; the version-dropped-while-read case is forced in one process.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

import sqlml
from sqlml.store.records import ModelRef
from sqlml.store.registry import READ_GRACE, ModelStore

SQLML = str(Path(sys.executable).with_name("sqlml"))
ROWS = 20
#: The mixed statements each worker cycles through: (kind, SQL), ``{w}`` its id, ``{i}`` the step.
STATEMENTS = [
    ("insert", "INSERT INTO ds.log VALUES ({w}, {i})"),
    ("predict", "SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)"),
    ("ctas", "CREATE OR REPLACE TABLE ds.c{w} AS SELECT * FROM ds.log WHERE w = {w}"),
    ("insert", "INSERT INTO ds.log VALUES ({w}, {i})"),
    ("model", "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, {a} * x AS y FROM ds.t"),
    ("select", "SELECT COUNT(*) FROM ds.log"),
]
#: A Python session running ``steps`` statements through sqlml.connect(); prints one JSON outcome a line.
SESSION = textwrap.dedent("""
    import json, sys, sqlml
    w, steps, statements = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    with sqlml.connect("warehouse", "models", lock_timeout=float(sys.argv[4])) as con:
        for i in range(steps):
            kind, sql = statements[i % len(statements)]
            try:
                rows = con.query(sql.format(w=w, i=i, a=2 + w % 2)).fetchall()
                print(json.dumps([kind, "ok", rows[0][0] if rows else None]), flush=True)
            except sqlml.Error as error:
                print(json.dumps([kind, type(error).__name__, str(error)]), flush=True)
""")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _predict(port: int) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/models/ds.m:predict", data=json.dumps({"instances": [{"x": 5.0}]}).encode(),
        headers={"content-type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except OSError:
        return 0, {}


def _wait_for_server(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        if _predict(port)[0] == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"sqlml serve did not answer within 30 s (exit status {server.poll()})")


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SQLML, "query", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_sessions_commands_and_a_server_at_once_lose_nothing_and_fail_only_as_busy(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.log (w INT64, i INT64);"
            f"CREATE TABLE ds.t AS SELECT CAST(x AS FLOAT64) AS x FROM UNNEST(GENERATE_ARRAY(1, {ROWS})) AS x;"
            + STATEMENTS[4][1].format(a=2)
        )
    port = _free_port()
    log = open(tmp_path / "serve.log", "w")  # a file: the server's access log would fill a pipe
    server = subprocess.Popen(
        [SQLML, "serve", "--port", str(port), "--model", "ds.m", "--refresh-seconds", "0.2"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        _wait_for_server(port, server)
        # two sessions waiting as long as they need, one giving up after 0.2 s (its failures must be clear)
        sessions = [
            subprocess.Popen([sys.executable, "-c", SESSION, str(w), "36", json.dumps(STATEMENTS), timeout],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for w, timeout in ((1, "30"), (2, "30"), (3, "0.2"))
        ]  # fmt: skip
        commands, served = [], []
        for i in range(6):  # the fourth process: `sqlml query` commands, one statement each
            kind, sql = STATEMENTS[i]
            commands.append((kind, _cli([sql.format(w=4, i=i, a=3), "--format", "json"], tmp_path)))
            served.append(_predict(port))
        while any(s.poll() is None for s in sessions):
            served.append(_predict(port))
        outcomes = {w: [json.loads(line) for line in s.stdout.read().splitlines()] for w, s in zip((1, 2, 3), sessions)}
        assert [s.stderr.read() for s in sessions] == ["", "", ""]
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
    outcomes[4] = [[kind, "ok" if done.returncode == 0 else "Error", done.stderr] for kind, done in commands]
    for w, steps in outcomes.items():
        for kind, status, detail in steps:
            if status != "ok":  # busy is the only acceptable failure, said as sqlml's error
                assert status in ("WarehouseLockedError", "Error"), (w, kind, detail)
                assert "Traceback" not in detail and "is in use by another process" in detail, detail
    assert sum(status == "ok" for w in (1, 2) for _, status, _ in outcomes[w]) == 72  # the patient sessions all succeed

    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        for w, steps in outcomes.items():  # each worker's rows: exactly its successful INSERTs
            inserted = sum(kind == "insert" and status == "ok" for kind, status, _ in steps)
            assert con.query(f"SELECT COUNT(*) FROM ds.log WHERE w = {w}").fetchall() == [(inserted,)]
            copied = [j for j, (kind, status, _) in enumerate(steps) if kind == "ctas" and status == "ok"]
            if copied:  # its last copy holds its INSERTs that succeeded before it
                before = sum(kind == "insert" and status == "ok" for kind, status, _ in steps[: copied[-1]])
                assert con.query(f"SELECT COUNT(*) FROM ds.c{w}").fetchall() == [(before,)]
        assert all(detail == ROWS for w in (1, 2, 3) for kind, status, detail in outcomes[w] if kind == "predict" and status == "ok")
        trained = sum(kind == "model" and status == "ok" for steps in outcomes.values() for kind, status, _ in steps)
        assert len(con.models.versions("ds", "m")) == 1 + trained
        assert con.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)").fetchall() == [(ROWS,)]
    assert os.listdir(tmp_path / "models" / ".staging") == []
    assert {status for status, _ in served} == {200}  # the server answered throughout, from the old model or the new
    assert {round(body["predictions"][0]["predicted_y"], 6) for _, body in served} <= {10.0, 15.0}


def test_a_version_dropped_while_a_statement_reads_it_says_so_not_corrupt(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(5)")
        train = "CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, {a} * x AS y FROM ds.t"
        con.query(train.format(a=2))
        read = con.models.resolve(ModelRef("ds", "m"))  # a reader resolved version 1 …
        con.query("DROP MODEL ds.m")  # … another statement dropped it, and a new model took the number
        con.query(train.format(a=3))
        with pytest.raises(sqlml.ModelNotFoundError) as caught:
            con.models.verified_files(read)
    assert str(caught.value) == (
        "Model ds.m@1 was dropped while this statement was reading it.\n"
        "Run the statement again: it reads the model's current version."
    )


def test_a_model_created_while_a_drop_of_its_name_finishes_keeps_its_files(tmp_path, monkeypatch):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con, con.cursor() as other:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(5)")
        train = "CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, {a} * x AS y FROM ds.t"
        con.query(train.format(a=2))
        remove = ModelStore._remove_dropped

        def land_a_create_first(store, ref):  # another process's CREATE lands once the DROP committed
            other.query(train.format(a=3))
            remove(store, ref)

        monkeypatch.setattr(ModelStore, "_remove_dropped", land_a_create_first)
        con.query("DROP MODEL ds.m")
        assert [r.version for r in con.models.versions("ds", "m")] == [1]
        assert con.query("SELECT SUM(predicted_y) FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)").fetchall() == [(pytest.approx(30.0),)]


def test_a_catalog_another_process_holds_too_long_is_a_busy_error_and_changes_nothing(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(5)")
        con.query("CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, 2 * x AS y FROM ds.t")
    store = ModelStore(tmp_path / "models", busy_timeout=0.2)
    holder = sqlite3.connect(tmp_path / "models" / "catalog.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        with pytest.raises(sqlml.WarehouseLockedError) as caught:
            store.set_model_options(ModelRef("ds", "m"), description="new")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value) == (
        f"The model store's catalog {tmp_path / 'models' / 'catalog.sqlite'} is busy: another process has held it for more than 0.2 s.\n"
        "Wait for the other process's statement to finish, then run this one again. The model store is as it was before the statement."
    )
    assert store.models("ds")[0].description is None


def test_a_version_retention_drops_stays_readable_for_a_statement_that_resolved_it(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(5)")
        train = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y'], max_versions=1) AS SELECT x, {a} * x AS y FROM ds.t"
        con.query(train.format(a=2))
        read = con.models.resolve(ModelRef("ds", "m"))  # another process's statement resolved version 1 …
        con.query(train.format(a=3))  # … and version 2 replaced it, the cap of one version dropping 1
        assert [r.version for r in con.models.versions("ds", "m")] == [2]
        assert sorted(con.models.verified_files(read)) == sorted(read.checksums)  # its files are still there
        past = time.time() - READ_GRACE - 1
        os.utime(read.folder, (past, past))  # the grace period has passed
        con.query(train.format(a=4))
        folders = sorted(p.name for p in (tmp_path / "models" / "ds" / "m").iterdir())
    assert folders == ["2", "3"]  # 1 is gone; 2, dropped just now, stays for its readers
