"""A first ``sqlml query`` (the statement not remembered yet) pays only for parsing it: the model
store opens when a statement first names a model, and the process frees nothing one by one on the
way out (issue 19, cheap starts; ``bench/bench_startup.py`` measures the times).

Each check runs ``sqlml`` in a fresh interpreter with the per-user statement cache turned off, so
every run is a first run and modules other tests imported hide nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: Runs the ``sqlml`` command's entry point on the arguments given after ``--``, then prints its
#: exit status, the gc generation frozen at exit and the modules loaded, as one JSON line.
RUNNER = """
import gc, json, sys
from sqlml.cli.main import main
sys.argv = ['sqlml', *sys.argv[sys.argv.index('--') + 1:]]
try:
    main()
except SystemExit as exit:
    status = exit.code or 0
print(json.dumps({"status": status, "frozen": gc.get_freeze_count(), "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_sqlml(tmp_path, *args: str) -> tuple[dict, str, str]:
    """``sqlml *args`` as a first run: (what :data:`RUNNER` reports, stdout, the rest of stderr)."""
    env = {**os.environ, "SQLML_STATEMENT_CACHE": "off", "SQLML_CACHE_DIR": str(tmp_path / "cache")}
    completed = subprocess.run([sys.executable, "-c", RUNNER, "--", *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    *messages, report = completed.stderr.rstrip("\n").split("\n")
    return json.loads(report), completed.stdout, "\n".join(messages)


def test_a_first_query_that_names_no_model_leaves_the_model_store_unopened(tmp_path):
    # a CAST: not a statement DuckDB's parser decides (sqlml.engine.duckdb.bigquery_alike), so it is parsed
    sql = "SELECT CAST(1 AS INT64) AS x"
    report, out, _ = run_sqlml(tmp_path, "query", sql, "--warehouse", ":memory:", "--models", str(tmp_path / "models"), "--format", "csv")
    assert (report["status"], out) == (0, "x\n1\n")
    assert {"sqlglot", "sqlml.execution.executor"} <= set(report["modules"])  # parsed: a first run
    assert {"sqlml.store", "sqlml.store.catalog", "sqlite3", "psutil"} & set(report["modules"]) == set()
    assert (tmp_path / "models").is_dir() and not (tmp_path / "models" / "catalog.sqlite").exists()
    # nor sqlglot's optimizer passes, which only typing a query that may hold a GEOGRAPHY uses
    assert {"sqlglot.optimizer.qualify", "sqlglot.optimizer.simplify"} & set(report["modules"]) == set()


def test_tables_written_and_read_leave_the_model_store_unopened(tmp_path):
    warehouse, models = str(tmp_path / "warehouse"), str(tmp_path / "models")
    sql = "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 2 AS x; SELECT x * 3 AS y FROM ds.t"
    report, out, _ = run_sqlml(tmp_path, "query", sql, "--warehouse", warehouse, "--models", models, "--format", "csv")
    assert (report["status"], out) == (0, "y\n6\n")
    assert "sqlml.store" not in report["modules"]
    assert not (tmp_path / "models" / "catalog.sqlite").exists()


def test_a_statement_that_names_a_model_opens_the_store_when_it_runs(tmp_path):
    models = tmp_path / "models"
    sql = "SELECT * FROM ML.PREDICT(MODEL ds.missing, (SELECT 1 AS x))"
    report, out, err = run_sqlml(tmp_path, "query", sql, "--warehouse", ":memory:", "--models", str(models))
    assert (report["status"], out) == (1, "")
    assert err.splitlines()[0] == "Error: Model 'ds.missing' was not found."
    assert err.splitlines()[-1] == "Create it with CREATE MODEL ds.missing … first."
    assert "sqlml.store" in report["modules"] and (models / "catalog.sqlite").is_file()


def test_the_command_freezes_what_is_alive_when_it_is_done(tmp_path):
    """Interpreter teardown then skips sqlglot's classes and templates in its cycle collections
    (about a sixth of a first run's CPU time, bench_startup.py); a failed command too."""
    done, _, _ = run_sqlml(tmp_path, "query", "SELECT 1", "--warehouse", ":memory:", "--models", str(tmp_path / "m"))
    failed, _, err = run_sqlml(tmp_path, "query", "SELECT nope", "--warehouse", ":memory:", "--models", str(tmp_path / "m"))
    assert (done["status"], failed["status"]) == (0, 1) and "nope" in err
    assert done["frozen"] > 0 and failed["frozen"] > 0
    # the command's doing: importing it freezes nothing
    imported = subprocess.run([sys.executable, "-c", "import gc, sqlml.cli.main; print(gc.get_freeze_count())"], capture_output=True, text=True, check=True)
    assert imported.stdout == "0\n"
