"""Project commands against a warehouse another process holds."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from click.testing import CliRunner

import sqlml.cli.project  # noqa: F401 - registers the project commands
from sqlml.cli.main import cli

HOLDER = textwrap.dedent("""
    import sys, time, sqlml
    con = sqlml.connect(sys.argv[1] + "/warehouse", sys.argv[1] + "/models", idle_release=0)
    con.query("BEGIN TRANSACTION")  # an open transaction keeps the file
    con.query("CREATE SCHEMA held")
    print("holding", flush=True)
    time.sleep(120)
""")


def test_run_with_lock_timeout_gives_up_on_a_held_warehouse_with_one_clear_error(tmp_path):
    (tmp_path / "sqlml_project.yml").write_text("name: shop\n")
    (tmp_path / "a.sql").write_text("SELECT 1 AS x")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        command = [sys.executable, "-m", "sqlml", "run", "--project", str(tmp_path), "--lock-timeout", "0.5"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=25)  # the default would wait 30 s
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    assert done.stderr.startswith(f"Error: The warehouse {warehouse} is in use by another process (PID {holder.pid}); waited 0.5 s.")
    assert "--lock-timeout" in done.stderr and "Traceback" not in done.stderr


def test_ls_dag_and_compile_create_no_warehouse_or_model_store(tmp_path):
    (tmp_path / "sqlml_project.yml").write_text("name: shop\n")
    (tmp_path / "a.sql").write_text("SELECT 1 AS x")
    (tmp_path / "b.sql").write_text("SELECT x FROM {{ ref('a') }}")
    args = ["--project", str(tmp_path)]
    outputs = [CliRunner().invoke(cli, [command, *args]) for command in ("ls", "dag", "compile")]
    assert [result.exit_code for result in outputs] == [0, 0, 0], [result.output for result in outputs]
    assert outputs[0].output.splitlines() == ["a\tdata\tview\tshop.a", "b\tdata\tview\tshop.b"]
    assert "b (data, view) <- a" in outputs[1].output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.sql", "b.sql", "sqlml_project.yml"]
