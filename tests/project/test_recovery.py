"""Runs whose process died: marked interrupted, retried, and nothing they left half-done kept.

The kills are real: ``sqlml run`` in a child process, killed with SIGKILL (or SIGINT) while a node
runs, then a look at the warehouse and a second run.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import sqlml
import sqlml.cli.project  # noqa: F401  (registers the project commands on the group)
from sqlml.cli.main import cli
from sqlml.project import RunOptions, Runner, load_project
from sqlml.project.history import SCHEMA, History, naive_utc, new_run_id
from sqlml.project.locks import lock_folder, run_lock
from sqlml.process import ProcessIdentity
from sqlml.store.records import ModelRef
from test_project_features import GATED  # a linear model with a gate on var('gate')

# `slow` counts a cross join of n³ rows: with the default n it runs for hours, with n=2 at once.
N = "{{ var('n', 100000) }}"
SLOW_PROJECT = {
    "seeds/a.csv": "x\n1\n",
    "slow.sql": "{{ config(materialized='table') }}\nSELECT COUNT(*) AS n FROM {{ ref('a') }}, "
    + ", ".join(f"UNNEST(GENERATE_ARRAY(1, {N})) AS {c}" for c in "pqr"),
    "after.sql": "{{ config(materialized='table') }}\nSELECT n FROM {{ ref('slow') }}",
}


def start(tmp_path: Path, *args: str, inject: str = "") -> subprocess.Popen:
    """``sqlml run --project tmp_path *args`` in a child process; ``inject`` runs first (fault injection)."""
    code = inject + "\nimport sys\nfrom sqlml.cli.main import main\nsys.argv = ['sqlml', *sys.argv[1:]]\nmain()\n"
    command = [sys.executable, "-c", code, "run", "--project", str(tmp_path), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(child: subprocess.Popen, text: str) -> None:
    """Read the child's output until a line contains ``text``."""
    lines = []
    for line in child.stdout:
        lines.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} was never printed:\n{''.join(lines)}")


def kill_during(tmp_path: Path, text: str, sig: int = signal.SIGKILL, inject: str = "") -> subprocess.Popen:
    """Start ``sqlml run``, send ``sig`` once it prints ``text``, wait for it to end."""
    child = start(tmp_path, inject=inject)
    try:
        wait_for(child, text)
        child.send_signal(sig)
        child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    return child


def node_statuses(con: sqlml.Connection, run_id: str) -> dict[str, str]:
    rows = con.query(f"SELECT node, status FROM {SCHEMA}.node_runs WHERE run_id = @id", {"id": run_id}).fetchall()
    return dict(rows)


def only_run(con: sqlml.Connection) -> tuple:
    return con.query(f"SELECT run_id, status, pid, host FROM {SCHEMA}.runs").fetchall()[0]


@pytest.fixture(scope="module")
def killed_project(tmp_path_factory) -> tuple[Path, int]:
    """(folder, PID): SLOW_PROJECT after ``sqlml run`` was killed (SIGKILL) while `slow` ran; one
    child process for the tests below, each of which works on its own copy of the folder."""
    folder = tmp_path_factory.mktemp("killed")
    for relative, text in {"sqlml_project.yml": "name: shop\n", **SLOW_PROJECT}.items():  # project_files is per test
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    child = kill_during(folder, "START data slow")
    assert child.returncode == -signal.SIGKILL
    return folder, child.pid


def copy_of(killed_project, tmp_path: Path) -> Path:
    """A copy of the killed project's folder (project, warehouse, locks and model store)."""
    target = tmp_path / "project"
    shutil.copytree(killed_project[0], target)
    return target


def test_a_killed_run_shows_as_interrupted_in_sqlml_runs(tmp_path, killed_project):
    tmp_path, pid = copy_of(killed_project, tmp_path), killed_project[1]
    runs = CliRunner().invoke(cli, ["runs", "--project", str(tmp_path), "--format", "json"])
    assert runs.exit_code == 0, runs.output
    [row] = json.loads(runs.stdout)  # stdout holds the table alone
    assert (row["status"], row["pid"], row["host"], row["nodes"], row["failures"]) == (
        "interrupted", pid, socket.gethostname(), 1, 0)  # fmt: skip
    assert f"Run {row['run_id']} (started " in runs.stderr
    assert f"was interrupted: its process (PID {pid} on {socket.gethostname()}) died." in runs.stderr
    nodes = CliRunner().invoke(cli, ["runs", "--project", str(tmp_path), "--run", row["run_id"], "--format", "json"])
    details = {r["node"]: (r["status"], r["detail"]) for r in json.loads(nodes.stdout)}
    assert details == {
        "a": ("success", None),
        "slow": ("interrupted", f"its process (PID {pid} on {socket.gethostname()}) died while this node ran"),
        "after": ("not_started", f"its process (PID {pid} on {socket.gethostname()}) died before this node started"),
    }
    assert not list(lock_folder(tmp_path / "warehouse").glob("run-*.lock"))  # the dead run's lock file is gone


def test_the_next_run_marks_the_killed_one_and_retry_failed_runs_what_did_not_succeed(tmp_path, killed_project):
    tmp_path = copy_of(killed_project, tmp_path)
    lines = []
    with Runner(load_project(tmp_path, vars={"n": 2}), echo=lines.append) as runner:
        # the dead process's lock on `slow` does not make this run skip it
        outcomes = runner.run(RunOptions(retry_failed=True))
        assert {o.node: o.status for o in outcomes} == {"slow": "success", "after": "success"}
        assert any(line.endswith("died.") and "was interrupted" in line for line in lines)
        assert runner.connection.query("SELECT n FROM shop.after").fetchall() == [(8,)]
        statuses = runner.connection.query(f"SELECT status FROM {SCHEMA}.runs ORDER BY started_at").fetchall()
        assert statuses == [("interrupted",), ("success",)]


def test_ctrl_c_cancels_the_running_statement_and_records_the_run(tmp_path, project_files):
    project_files(tmp_path, SLOW_PROJECT)
    child = kill_during(tmp_path, "START data slow", signal.SIGINT)  # fails on its timeout if `slow` runs on
    assert child.returncode == 130
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        run_id, status, _, _ = only_run(con)
        assert status == "cancelled"
        assert node_statuses(con, run_id) == {"a": "success", "slow": "interrupted", "after": "not_started"}
        assert con.relation_kind("shop.slow") is None  # nothing half-written


# The child trains the model, then hangs where the gate is checked, and is killed there.
STUCK_GATE = """
import time
from sqlml.project import gates
def check_gates(*args):
    print("checking the gate", flush=True)
    time.sleep(600)
gates.check_gates = check_gates
"""


@pytest.mark.parametrize("trained_before", [True, False])
def test_a_model_killed_before_its_gate_was_checked_does_not_stay_current(tmp_path, project_files, trained_before):
    project_files(tmp_path, {**GATED, "sqlml_project.yml": "name: shop\nvars:\n  gate: r2_score >= 0.5\n"})
    if trained_before:
        with Runner(tmp_path) as runner:
            assert {o.node: o.status for o in runner.run()}["fit"] == "success"
        (tmp_path / "sqlml_project.yml").write_text("name: shop\nvars:\n  gate: r2_score >= 0.6\n")  # retrains
    kill_during(tmp_path, "checking the gate", inject=STUCK_GATE)
    lines = []
    with Runner(tmp_path, echo=lines.append) as runner:
        store = runner.connection.models
        unchecked = 2 if trained_before else 1
        assert store.resolve(ModelRef("shop", "fit")).version == unchecked  # what the kill left current
        assert len(runner.recover()) == 1
        prefix = f"shop.fit: version {unchecked} was trained by an interrupted run and its gate was never checked; "
        if trained_before:
            assert lines[1:] == [prefix + "version 1 is current again."]
            assert store.resolve(ModelRef("shop", "fit")).version == 1
        else:
            assert lines[1:] == [prefix + "the model did not exist before, so it was dropped."]
            assert not store.exists("shop", "fit")
        assert runner.recover() == [] and len(lines) == 2  # done once


def test_runs_recorded_before_process_identities_are_interrupted_and_their_tables_migrated(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        con.query(f"""CREATE SCHEMA {SCHEMA};
            CREATE TABLE {SCHEMA}.runs (run_id STRING, project STRING, command STRING, started_at TIMESTAMP,
              ended_at TIMESTAMP, status STRING, nodes INT64, failures INT64);
            CREATE TABLE {SCHEMA}.node_runs (run_id STRING, node STRING, kind STRING, relation STRING,
              started_at TIMESTAMP, ended_at TIMESTAMP, status STRING, rows_written INT64, error STRING,
              sql_hash STRING, fingerprint STRING, message STRING);
            INSERT INTO {SCHEMA}.runs VALUES ('old', 'shop', 'run', TIMESTAMP '2026-01-02 03:04:05', NULL, 'running', 0, 0);
            INSERT INTO {SCHEMA}.node_runs VALUES ('old', 'x', 'data', 'shop.x', TIMESTAMP '2026-01-02 03:04:05',
              TIMESTAMP '2026-01-02 03:04:06', 'error', NULL, 'boom', NULL, NULL, NULL)""")  # as older versions wrote them
    lines = []
    with Runner(_project(tmp_path), echo=lines.append) as runner:
        assert runner.recover() == ["old"]
        assert lines == ["Run old (started 2026-01-02 03:04:05 UTC) was interrupted: its process (not recorded) died."]
        assert runner.connection.query(f"SELECT status, nodes, failures FROM {SCHEMA}.runs").fetchall() == [("interrupted", 1, 1)]
        assert {o.node: o.status for o in runner.run(RunOptions(retry_failed=True))} == {"x": "success"}


def _project(root: Path):
    (root / "sqlml_project.yml").write_text("name: shop\n")
    (root / "x.sql").write_text("SELECT 1 AS v")
    return root


def test_a_run_is_interrupted_when_its_pid_now_belongs_to_another_process(tmp_path):
    me = ProcessIdentity.current()
    reused = ProcessIdentity(me.host, me.pid, me.started_at - dt.timedelta(hours=1))
    with Runner(_project(tmp_path)) as runner:
        history = History(runner.connection)
        history.start_run("reused", "shop", "run", [], reused)  # without its run lock: the identity decides
        history.start_run("alive", "shop", "run", [], me)
        assert runner.recover(history) == ["reused"]
        assert dict(runner.connection.query(f"SELECT run_id, status FROM {SCHEMA}.runs").fetchall()) == {
            "reused": "interrupted", "alive": "running"}  # fmt: skip


def test_a_run_of_another_host_is_judged_by_its_run_lock(tmp_path):
    elsewhere = ProcessIdentity("another-host", 1, dt.datetime(2026, 1, 1))
    folder = lock_folder(tmp_path / "warehouse")
    with Runner(_project(tmp_path)) as runner:
        history = History(runner.connection)
        for run_id in ("unknown", "held", "free"):
            history.start_run(run_id, "shop", "run", [], elsewhere)
        folder.mkdir(parents=True)
        (folder / "run-free.lock").touch()  # its holder is gone
        with run_lock(folder, "held"):  # its holder is alive (this process)
            assert runner.recover(history) == ["free"]
        statuses = dict(runner.connection.query(f"SELECT run_id, status FROM {SCHEMA}.runs").fetchall())
        assert statuses == {"unknown": "running", "held": "running", "free": "interrupted"}  # a PID elsewhere says nothing
        assert not (folder / "run-free.lock").exists()


def test_a_live_run_holds_its_lock_and_records_its_process(tmp_path):
    seen = {}

    def echo(line):
        if "START" in line:
            run_id = runner.connection.query(f"SELECT run_id FROM {SCHEMA}.runs WHERE status = 'running'").scalar()
            seen["lock"] = (lock_folder(tmp_path / "warehouse") / f"run-{run_id}.lock").exists()
            seen["others"] = runner.recover()  # another look while it runs finds it alive

    with Runner(_project(tmp_path), echo=echo) as runner:
        runner.run()
        me = ProcessIdentity.current()
        row = runner.connection.query(f"SELECT status, host, pid, process_started_at FROM {SCHEMA}.runs").fetchall()[0]
    assert seen == {"lock": True, "others": []}
    assert row[:3] == ("success", me.host, me.pid)
    assert abs(naive_utc(row[3]) - me.started_at) < dt.timedelta(seconds=1)
    assert not list(lock_folder(tmp_path / "warehouse").glob("run-*.lock"))


def test_an_interrupted_node_is_due_again_for_the_scheduler(tmp_path):
    from sqlml.project import scheduler

    (tmp_path / "sqlml_project.yml").write_text("name: shop\nschedule: '0 3 * * *'\n")
    (tmp_path / "x.sql").write_text("SELECT 1 AS v")
    with Runner(tmp_path) as runner:
        history = History(runner.connection)
        run_id = new_run_id()
        history.start_run(run_id, "shop", "run", [runner.nodes["x"]], ProcessIdentity("h", 1, dt.datetime(2026, 1, 1)))
        history.node_started(run_id, "x")
        history.mark_interrupted(run_id, "killed")
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert scheduler.due_nodes(runner, history, now) == ["x"]
