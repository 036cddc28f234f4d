"""Ctrl-C on ``dbt run`` over the sqlml adapter stops the running model at once and keeps nothing of it.

dbt cancels an adapter's open connections at Ctrl-C only when the adapter says it can
(``is_cancelable``); before, dbt waited for the running statement — here a table model over a
three-way cross join that runs for minutes — before it exited. The table the model replaces keeps
its rows, and the warehouse is free for the next process. Slow: one dbt process (~6 s of CPU).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("dbt.adapters.sqlml", reason="the dbt extra is not installed: pip install -e '.[dbt]'")

import sqlml  # noqa: E402

pytestmark = pytest.mark.slow

SLOW_MODEL = """
{{ config(materialized='table') }}
select count(*) as n from {{ ref('numbers') }} as a, {{ ref('numbers') }} as b, {{ ref('numbers') }} as c
where mod(a.x * 7919 + b.x * 104729 + c.x, 1000003) = 0
"""


def test_ctrl_c_cancels_the_running_model_and_keeps_the_table_it_replaces(tmp_path):
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: cancel\nversion: '1.0'\nconfig-version: 2\nprofile: cancel\n")
    (root / "models" / "numbers.sql").write_text("select x from unnest(generate_array(1, 3000)) as x")
    (root / "models" / "counted.sql").write_text(SLOW_MODEL)
    (root / "profiles.yml").write_text(
        "cancel:\n  target: dev\n  outputs:\n"
        f"    dev: {{type: sqlml, warehouse: '{root / 'warehouse'}', models: '{root / 'models_store'}', schema: main, threads: 2}}\n"
    )
    with sqlml.connect(root / "warehouse", root / "models_store", idle_release=0) as con:
        con.query("CREATE TABLE main.counted AS SELECT 42 AS n")  # what an earlier run built
    command = [shutil.which("dbt") or "dbt", "run", "--project-dir", str(root), "--profiles-dir", str(root)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in child.stdout:
            if "START sql table model main.counted" in line:
                break
        time.sleep(1)
        child.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        child.communicate(timeout=60)
        assert time.monotonic() - stopped < 30, "dbt waited for the model to finish"
    finally:
        child.kill()
        child.wait()
    assert child.returncode != 0
    with sqlml.connect(root / "warehouse", root / "models_store", idle_release=0, lock_timeout=5) as con:
        assert con.query("SELECT n FROM main.counted").fetchall() == [(42,)]
        assert con.query("SELECT table_name FROM main.INFORMATION_SCHEMA.TABLES ORDER BY 1").fetchall() == [("counted",), ("numbers",)]
