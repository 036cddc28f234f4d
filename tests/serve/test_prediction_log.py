"""The prediction log: every served prediction reaches the table, in order, exactly once — through a
busy warehouse, a crash between INSERT and spool deletion, and a spool that cannot be written."""

from __future__ import annotations

import errno
import logging
import subprocess
import sys
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

import sqlml
from sqlml.errors import InvalidOptionError
from sqlml.serve import spool
from sqlml.serve.app import create_app
from sqlml.serve.models import ModelSet
from sqlml.serve.prediction_log import LOCK_TIMEOUT, PredictionLog, parse_table
from sqlml.serve.spool import segments

SERVED = SimpleNamespace(name="ds.m", version=1)


def logged(con, table: str = "ds.served") -> list[tuple]:
    """(request_id, income) of the log's rows in the order they were served; [] before the table exists."""
    try:
        return con.query(f"SELECT request_id, CAST(JSON_VALUE(inputs, '$.income') AS INT64) FROM {table} ORDER BY served_at").fetchall()
    except sqlml.Error:
        return []


def test_predictions_served_while_another_process_holds_the_warehouse_all_reach_the_log_in_order(store, warehouse_held, wait_for, caplog):
    con, folder = store
    con.close()  # the server's own connection: one attempt waits LOCK_TIMEOUT, as `sqlml serve` opens it
    with sqlml.connect(folder / "wh", folder / "models", lock_timeout=LOCK_TIMEOUT) as server_con:
        models = ModelSet(server_con.models, ["ds.m"], refresh_seconds=60)
        with warehouse_held(folder), caplog.at_level(logging.WARNING, logger="sqlml.serve"):
            log = PredictionLog(server_con, "ds.served", flush_seconds=0.1)
            client = TestClient(create_app(models, server_con.models, prediction_log=log))
            answers = [client.post("/v1/models/ds.m:predict", json={"instances": [{"income": i, "sex": "male"}]}) for i in range(40)]
            assert [a.status_code for a in answers] == [200] * 40  # the busy warehouse holds up no request
            wait_for(lambda: caplog.text.count("prediction_log_busy") >= 3)  # the log tried, and will try again
            assert logged(server_con) == []
            assert len(segments(log.folder)) == 2  # the sealed backlog and the current file, however many attempts
        served = [(a.json()["request_id"], i) for i, a in enumerate(answers)]
        assert wait_for(lambda: logged(server_con) if len(logged(server_con)) >= 40 else None) == served  # by the background retry
        log.close()
        models.close()
        assert "prediction_log_failed" not in caplog.text and segments(log.folder) == []


_CRASH = """
import os, sys, sqlml
from types import SimpleNamespace
from sqlml.serve import prediction_log, spool
spool.Segment.remove = lambda self: os._exit(9)  # killed after the INSERT committed, before the spool is deleted
con = sqlml.connect(sys.argv[1], sys.argv[2], lock_timeout=5)
log = prediction_log.PredictionLog(con, "ds.served", flush_seconds=3600)
for i in range(5):
    log.add(f"r{i}", SimpleNamespace(name="ds.m", version=1), [{"income": i}], [{"predicted": i}], 1.0)
log.flush()
"""


@pytest.mark.slow
def test_a_crash_between_insert_and_spool_deletion_duplicates_nothing(store, wait_for):
    con, folder = store
    crashed = subprocess.run([sys.executable, "-c", _CRASH, str(folder / "wh"), str(folder / "models")], capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 9, crashed.stderr
    assert logged(con) == [(f"r{i}", i) for i in range(5)]
    folder_of_log = folder / "wh" / "spool" / "ds.served"
    sealed, current = segments(folder_of_log)  # the segment whose rows landed is still there, and the next one
    assert len(sealed.read_bytes().splitlines()) == 5 and current.read_bytes() == b""
    marks = "SELECT segment, log_table, sequence FROM sqlml_meta.prediction_log_spools"
    assert con.query(marks).fetchall() == [(sealed.stem, "ds.served", 5)]  # committed with the rows
    log = PredictionLog(con, "ds.served", flush_seconds=0.1)  # the next server start picks them up
    wait_for(lambda: not {sealed, current} & set(segments(folder_of_log)))
    log.close()
    assert logged(con) == [(f"r{i}", i) for i in range(5)] and segments(folder_of_log) == []
    assert con.query(marks).fetchall() == []  # the marks of deleted segments are dropped


def test_a_prediction_that_cannot_be_spooled_is_not_served(store, monkeypatch):
    con, _ = store
    log = PredictionLog(con, "ds.served", flush_seconds=3600)
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    client = TestClient(create_app(models, con.models, prediction_log=log))

    def disk_full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool.os, "write", disk_full)
    refused = client.post("/v1/models/ds.m:predict", json={"instances": [{"income": 1, "sex": "male"}]})
    assert refused.status_code == 503
    assert refused.json()["error"].startswith("Cannot write the prediction log spool ") and refused.json()["error"].endswith(": No space left on device.")
    monkeypatch.undo()
    assert client.post("/v1/models/ds.m:predict", json={"instances": [{"income": 2, "sex": "male"}]}).status_code == 200
    log.close()
    models.close()
    assert [income for _, income in logged(con)] == [2]


def test_rows_of_a_request_keep_their_order_and_values(store):
    con, _ = store
    log = PredictionLog(con, "ds.served", flush_seconds=3600)
    log.add("r1", SERVED, [{"income": 3}, {"income": 1}, {"income": 2}], [{"p": 0.5}, {"p": float("nan")}, {"p": None}], 2.5)
    log.flush()
    rows = con.query("SELECT request_id, model, model_version, latency_ms, inputs, outputs FROM ds.served").fetchall()
    assert rows == [
        ("r1", "ds.m", 1, 2.5, '{"income":3}', '{"p":0.5}'),
        ("r1", "ds.m", 1, 2.5, '{"income":1}', '{"p":null}'),
        ("r1", "ds.m", 1, 2.5, '{"income":2}', '{"p":null}'),
    ]
    log.close()


_DEAD_WORKER = """
import os, sys, sqlml
from types import SimpleNamespace
from sqlml.serve import prediction_log
prediction_log.PredictionLog._run = lambda self: None  # dies before its flusher ever runs
log = prediction_log.PredictionLog(sqlml.connect(sys.argv[1], sys.argv[2]), "ds.served")
for i in range(3):
    log.add(f"dead{i}", SimpleNamespace(name="ds.m", version=1), [{"income": i}], [{"predicted": i}], 1.0)
os._exit(9)
"""


@pytest.mark.slow
def test_each_worker_writes_its_own_spool_and_a_dead_worker_s(store, caplog):
    con, folder = store
    first, second = PredictionLog(con, "ds.served", flush_seconds=3600), PredictionLog(con, "ds.served", flush_seconds=3600)
    first.add("first", SERVED, [{"income": 1}], [{"p": 1}], 1.0)
    second.add("second", SERVED, [{"income": 2}], [{"p": 2}], 1.0)
    first.flush()
    assert logged(con) == [("first", 1)]  # the other worker's live segment is its own to write
    dead = subprocess.run([sys.executable, "-c", _DEAD_WORKER, str(folder / "wh"), str(folder / "models")], capture_output=True, text=True, timeout=120)
    assert dead.returncode == 9, dead.stderr
    with caplog.at_level(logging.WARNING, logger="sqlml.serve"):
        first.flush()
        assert logged(con) == [("first", 1), ("dead0", 0), ("dead1", 1), ("dead2", 2)]
        second.close()
        first.close()
    assert logged(con) == [("first", 1), ("second", 2), ("dead0", 0), ("dead1", 1), ("dead2", 2)]  # in the order served
    assert segments(first.folder) == [] and caplog.text == ""


@pytest.mark.parametrize("table", ["served", "a.b.c.d", "ds.", "1 + 1"])
def test_a_log_table_that_is_not_dataset_table_is_refused(table):
    with pytest.raises(InvalidOptionError, match=r"(?s)The prediction log table .* is not a dataset\.table name\..*Write --log-table dataset\.table"):
        parse_table(table)


def test_a_project_prefix_is_ignored_and_names_are_quoted():
    assert parse_table("proj.ds.served") == ("ds", "served")
    assert parse_table("`ds.my table`") == ("ds", "my table")
