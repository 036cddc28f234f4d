"""Statements that fail or are stopped mid-run leave the warehouse and the model store as they were.

A statement failing inside a script's transaction rolls the transaction back (DuckDB cannot keep
one after a failure); the exception handler's ROLLBACK TRANSACTION, as BigQuery's documentation
writes it, then succeeds, and a COMMIT says why nothing is left to commit.

The stops are real: ``sqlml query`` runs in a child process and gets SIGINT (what Ctrl-C sends) or
SIGKILL while its statement runs — a CREATE TABLE AS or an INSERT whose cross join emits a row now
and then for minutes, a CREATE OR REPLACE MODEL whose training is slowed by a progress reporter, a
transaction's INSERT followed by a slow statement. Afterwards every table's rows, every model's
versions and weights and the model store's files are what they were before, and the next statement
runs at once (the warehouse lock was released, or taken over from the dead process).

The stops are slow: a child process per case (~2 s of CPU to import sqlml and start).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sqlml

#: The child: ``sqlml query`` where each statement that starts appends its kind to $SQLML_MARKER
#: and each training step appends "step", then waits 0.2 s (a model's fit lasts minutes).
INJECT = """
import os, time
import sqlml.progress
from sqlml.execution.executor import Executor

def _mark(text):
    with open(os.environ["SQLML_MARKER"], "a") as marker:
        marker.write(text + "\\n")

_execute_tree = Executor.execute_tree

def _marked(self, tree, *args, **kwargs):
    _mark(tree.key)
    return _execute_tree(self, tree, *args, **kwargs)

Executor.execute_tree = _marked

class _Slow(sqlml.progress.Reporter):
    def advanced(self, task):
        _mark("step")
        time.sleep(0.2)

_slow = _Slow()
sqlml.progress.current_reporter = lambda: _slow  # every thread's: the statement runs on a worker
import sys
from sqlml.cli.main import main
sys.argv = ["sqlml", *sys.argv[1:]]
main()
"""

#: A cross join of ds.t with itself three times (2.7e10 rows): it runs for minutes and emits a
#: row about every millionth, so a write is under way, and small, when the signal lands.
SLOW_ROWS = (
    "SELECT a.x * 1000000 + b.x AS x FROM ds.t AS a, ds.t AS b, ds.t AS c "
    "WHERE MOD(a.x * 7919 + b.x * 104729 + c.x, 1000003) = 0"
)
SLOW_MODEL = (
    "OPTIONS(model_type='linear_reg', input_label_cols=['y'], optimize_strategy='batch_gradient_descent', "
    "max_iterations=500, early_stop=FALSE) AS SELECT CAST(x AS FLOAT64) AS x, 5.0 * x AS y FROM ds.t"
)

#: (SQL, what the marker must show before the signal): each case's statement.
CASES = {
    "create_table_as": (f"CREATE TABLE ds.big AS {SLOW_ROWS}", "create"),
    "insert": (f"INSERT INTO ds.t {SLOW_ROWS}", "insert"),
    "transaction": (f"BEGIN TRANSACTION; INSERT INTO ds.t VALUES (-1); DELETE FROM ds.t WHERE x = 1; INSERT INTO ds.t {SLOW_ROWS}; COMMIT TRANSACTION", "insert\ndelete\ninsert"),
    "create_model": (f"CREATE OR REPLACE MODEL ds.m {SLOW_MODEL}", "step"),
    "create_new_model": (f"CREATE MODEL ds.m2 {SLOW_MODEL}", "step"),
}  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A warehouse with ds.t (x = 1…3000) and a model ds.m (y = 2x + 1), closed."""
    root = tmp_path_factory.mktemp("base")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x FROM UNNEST(GENERATE_ARRAY(1, 3000)) AS x;"
            "CREATE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS "
            "SELECT CAST(x AS FLOAT64) AS x, 2.0 * x + 1 AS y FROM ds.t"
        )
    return root


def state(root: Path) -> dict:
    """Everything a statement could change: tables and their rows, models, the store's files."""
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        tables = con.query("SELECT table_schema, table_name FROM INFORMATION_SCHEMA.TABLES ORDER BY 1, 2").fetchall()
        rows = {f"{s}.{t}": sorted(con.query(f"SELECT * FROM `{s}`.`{t}`").fetchall()) for s, t in tables}
        models = {
            name: ([v.version for v in con.models.versions("ds", name)], con.query(f"SELECT * FROM ML.WEIGHTS(MODEL ds.{name})").fetchall())
            for (name,) in con.query("SELECT model_name FROM ds.INFORMATION_SCHEMA.MODELS ORDER BY 1").fetchall()
        }
    store = root / "models"
    files = sorted(
        (str(path.relative_to(store)), path.stat().st_size)
        for path in store.rglob("*")
        if path.is_file() and not path.name.startswith("catalog.sqlite")
    )
    return {"tables": tables, "rows": rows, "models": models, "files": files}


def stop_during(root: Path, sql: str, expected: str, sig: int) -> subprocess.Popen:
    """``sqlml query sql`` in a child process, sent ``sig`` once its marker reads ``expected``
    (and half a second more, inside the statement); returns the child once it ended."""
    marker = root / "marker"
    command = [sys.executable, "-c", INJECT, "query", "--no-progress", "--warehouse", str(root / "warehouse"),
               "--models", str(root / "models"), sql]  # fmt: skip
    child = subprocess.Popen(command, env={**os.environ, "SQLML_MARKER": str(marker)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and expected in marker.read_text()) and child.poll() is None:
            assert time.monotonic() < deadline, "the child never reached the statement"
            time.sleep(0.05)
        assert child.poll() is None, f"the child ended before the signal: {child.communicate()}"
        time.sleep(0.5)
        child.send_signal(sig)
        child.out, child.err = child.communicate(timeout=60)
    finally:
        child.kill()
        child.wait()
    return child


#: (case, signal): both signals where the statement writes as it runs; one where the other case
#: already shows what the second would (a child process costs ~2 s of CPU).
STOPS = [
    ("create_table_as", signal.SIGINT), ("create_table_as", signal.SIGKILL), ("insert", signal.SIGINT),
    ("transaction", signal.SIGINT), ("transaction", signal.SIGKILL), ("create_model", signal.SIGINT),
    ("create_model", signal.SIGKILL), ("create_new_model", signal.SIGINT),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(("case", "sig"), STOPS, ids=[f"{case}-{signal.Signals(sig).name}" for case, sig in STOPS])
def test_a_stopped_statement_leaves_warehouse_and_model_store_as_they_were(base, tmp_path, case, sig):
    root = tmp_path / "copy"
    shutil.copytree(base, root)
    before = state(root)
    sql, expected = CASES[case]
    child = stop_during(root, sql, expected, sig)
    if sig == signal.SIGINT:
        assert (child.returncode, child.err) == (130, "Cancelled.\n")
    else:
        assert child.returncode == -signal.SIGKILL
    assert state(root) == before
    # the warehouse is free: the next statement (in this process) runs at once
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0, lock_timeout=5) as con:
        con.query("INSERT INTO ds.t VALUES (3001)")
        assert con.query("SELECT COUNT(*), MAX(x) FROM ds.t").fetchall() == [(3001, 3001)]


# -- a failure inside a script's transaction ---------------------------------------------------------

#: BigQuery's example of an exception handler rolling a transaction back, on a table and on a TEMP
#: table that already holds a row: https://cloud.google.com/bigquery/docs/transactions#transaction_scope
HANDLED = """
CREATE TEMP TABLE scratch AS SELECT 1 AS x;
BEGIN
  BEGIN TRANSACTION;
  INSERT INTO ds.arrivals VALUES ('top load washer', 100);
  INSERT INTO scratch VALUES (2);
  -- Trigger an error.
  SELECT 1/0;
  COMMIT TRANSACTION;
EXCEPTION WHEN ERROR THEN
  -- Roll back the transaction inside the exception handler.
  SELECT @@error.message;
  {end}
END;
SELECT (SELECT COUNT(*) FROM ds.arrivals), (SELECT COUNT(*) FROM scratch)
"""


@pytest.fixture
def con(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.arrivals (product STRING, quantity INT64)")
        yield con


def test_the_handlers_rollback_after_a_failed_statement_undoes_the_transaction(con):
    assert con.query(HANDLED.format(end="ROLLBACK TRANSACTION;")).fetchall() == [(0, 1)]


def test_a_handlers_commit_after_a_failed_statement_says_nothing_is_left_to_commit(con):
    with pytest.raises(sqlml.TransactionError) as raised:
        con.query(HANDLED.format(end="COMMIT TRANSACTION;"))
    assert str(raised.value) == (
        "COMMIT after a failed statement: its failure rolled the transaction back, so nothing is left to commit.\n"
        "  at statement 2, line 13, column 3\n"
        "    COMMIT TRANSACTION;\n"
        "    ^^^^^^\n"
        "ROLLBACK TRANSACTION in the exception handler, or run the statements again in a new transaction."
    )
    assert con.query("SELECT COUNT(*) FROM ds.arrivals").fetchall() == [(0,)]


def test_a_second_rollback_and_a_rollback_in_the_next_query_find_no_transaction(con):
    message = "ROLLBACK without an open transaction."
    with pytest.raises(sqlml.TransactionError, match=f"^{message}"):
        con.query(HANDLED.format(end="ROLLBACK TRANSACTION; ROLLBACK TRANSACTION;"))
    with pytest.raises(sqlml.ExecutionError, match="^division by zero: 1 / 0"):
        con.query("BEGIN TRANSACTION; INSERT INTO ds.arrivals VALUES ('dryer', 1); SELECT 1/0")
    with pytest.raises(sqlml.TransactionError, match=f"^{message}"):
        con.query("ROLLBACK TRANSACTION")
    assert con.query("SELECT COUNT(*) FROM ds.arrivals").fetchall() == [(0,)]
