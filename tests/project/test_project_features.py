"""sqlml run: incremental models, data tests and build, model gates, the scheduler, the CLI and the example project."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import sqlml
import sqlml.cli.project  # noqa: F401  (registers the project commands on the group)
from sqlml.cli.main import cli
from sqlml.project import RunOptions, Runner
from sqlml.project import scheduler
from sqlml.project.history import History

REPO = Path(__file__).resolve().parents[2]


def run(runner: Runner, **options) -> dict[str, str]:
    """Run with RunOptions(**options); return node → status."""
    return {o.node: o.status for o in runner.run(RunOptions(**options))}


def test_incremental_unique_key_merges_new_rows(make_project, tmp_path):
    runner = make_project({
        "events.sql": """
            {{ config(materialized='incremental', unique_key='id') }}
            SELECT id, v FROM landing.events
            {% if is_incremental() %} WHERE id >= (SELECT MAX(id) FROM {{ this }}) {% endif %}
        """,
    })  # fmt: skip
    con = runner.connection
    con.query("CREATE SCHEMA landing; CREATE TABLE landing.events AS SELECT 1 AS id, 'a' AS v UNION ALL SELECT 2, 'b'")
    assert run(runner) == {"events": "success"}
    con.query("UPDATE landing.events SET v = 'B' WHERE id = 2; INSERT INTO landing.events VALUES (3, 'c')")
    outcome = runner.run()[0]
    assert outcome.rows_written == 2 and "merged on id" in outcome.message  # only id >= 2 was processed
    assert con.query("SELECT id, v FROM shop.events ORDER BY id").fetchall() == [(1, "a"), (2, "B"), (3, "c")]
    con.query("DELETE FROM landing.events WHERE id = 1")
    run(runner, full_refresh=True)
    assert con.query("SELECT COUNT(*) FROM shop.events").scalar() == 2


def test_incremental_partitions_replace_only_new_and_late_ones(make_project):
    runner = make_project({
        "daily.sql": """
            {{ config(materialized='incremental', partition_by='day', lookback=1) }}
            SELECT day, COUNT(*) AS n FROM landing.clicks GROUP BY day
        """,
    })  # fmt: skip
    con = runner.connection
    con.query("CREATE SCHEMA landing; CREATE TABLE landing.clicks (day DATE, who STRING)")
    con.query("INSERT INTO landing.clicks VALUES ('2026-01-01', 'a'), ('2026-01-02', 'b')")
    run(runner)
    # a late click for the latest day (within the lookback), a new day, and one for an old day (outside it)
    con.query("INSERT INTO landing.clicks VALUES ('2026-01-02', 'c'), ('2026-01-03', 'd'), ('2026-01-01', 'e')")
    outcome = runner.run()[0]
    assert outcome.rows_written == 2 and "replaced partitions of day" in outcome.message
    assert con.query("SELECT CAST(day AS STRING), n FROM shop.daily ORDER BY day").fetchall() == [
        ("2026-01-01", 1), ("2026-01-02", 2), ("2026-01-03", 1)
    ]  # fmt: skip


GENERIC = {
    "seeds/customers.csv": "customer_id,tier\n1,gold\n2,silver\n3,gold\n",
    "seeds/orders.csv": "order_id,customer_id\n10,1\n11,2\n12,9\n12,3\n",
    "schema.yml": """
        models:
          - name: customers
            columns:
              - name: customer_id
                tests: [not_null, unique]
              - name: tier
                tests:
                  - accepted_values: {values: [gold, silver]}
          - name: orders
            columns:
              - name: order_id
                tests: [unique]
              - name: customer_id
                tests:
                  - relationships: {to: "ref('customers')", field: customer_id}
    """,
    "order_report.sql": "SELECT COUNT(*) AS n FROM {{ ref('orders') }}",
    "tests/no_bronze.sql": "SELECT * FROM {{ ref('customers') }} WHERE tier = 'bronze'",
}


def test_generic_and_singular_tests_count_failing_rows(make_project):
    runner = make_project(GENERIC)
    run(runner, command="seed")
    outcomes = {o.node: (o.status, o.rows_written) for o in runner.run(RunOptions(command="test"))}
    assert outcomes == {
        "not_null_customers_customer_id": ("pass", 0), "unique_customers_customer_id": ("pass", 0),
        "accepted_values_customers_tier": ("pass", 0), "unique_orders_order_id": ("fail", 1),
        "relationships_orders_customer_id": ("fail", 1), "no_bronze": ("pass", 0),
    }  # fmt: skip
    runner.connection.query("INSERT INTO shop.customers VALUES (4, 'bronze'), (NULL, 'gold')")
    failing = {o.node for o in runner.run(RunOptions(command="test", select=["customers"])) if o.status == "fail"}
    # tests of customers, including the relationships test that refers to it
    assert failing == {"not_null_customers_customer_id", "accepted_values_customers_tier", "no_bronze",
                       "relationships_orders_customer_id"}


def test_build_skips_what_is_downstream_of_a_failing_test(make_project):
    runner = make_project(GENERIC)
    result = run(runner, command="build")
    assert result["unique_orders_order_id"] == "fail"
    assert result["order_report"] == "skipped"
    assert result["unique_customers_customer_id"] == "pass"
    assert runner.connection.relation_kind("shop.order_report") is None


GATED = {
    "seeds/points.csv": "x,y\n" + "".join(f"{i},{2 * i + (i % 3)}\n" for i in range(40)),
    "fit.sql": """
        {{ config(gate=var('gate')) }}
        CREATE MODEL {{ this }} OPTIONS(model_type='linear_reg', input_label_cols=['y'], data_split_method='NO_SPLIT')
        AS SELECT x, y FROM {{ ref('points') }}
    """,
    "scored.sql": "SELECT x, predicted_y FROM ML.PREDICT(MODEL {{ ref('fit') }}, TABLE {{ ref('points') }})",
}


def test_model_gate_keeps_the_previous_version_current(make_project, tmp_path):
    runner = make_project({**GATED, "sqlml_project.yml": "name: shop\nvars:\n  gate: r2_score >= 0.9\n"})
    result = run(runner)
    assert result["fit"] == "success" and result["scored"] == "success"
    store = runner.connection.models
    assert [v.version for v in store.versions("shop", "fit")] == [1]
    # a retrain (forced) that fails its gate: version 2 is kept as a candidate, version 1 stays current
    (tmp_path / "sqlml_project.yml").write_text("name: shop\nvars:\n  gate: r2_score >= 1.5\n")
    runner.close()
    gated = Runner(tmp_path)
    outcomes = {o.node: o for o in gated.run()}
    assert outcomes["fit"].status == "gate_failed"
    assert "r2_score >= 1.5" in outcomes["fit"].message and "version 1 stays current" in outcomes["fit"].message
    assert outcomes["scored"].status == "success"  # downstream still runs, on the current model
    from sqlml.store.records import ModelRef

    assert gated.connection.models.resolve(ModelRef("shop", "fit")).version == 1
    assert [v.version for v in gated.connection.models.versions("shop", "fit")] == [1, 2]
    gated.close()


def test_a_passing_gate_moves_default_and_never_production(make_project, tmp_path):
    from sqlml.store.records import ModelRef

    runner = make_project({**GATED, "sqlml_project.yml": "name: shop\nvars:\n  gate: r2_score >= 0.9\n"})
    run(runner)
    runner.connection.query("ALTER MODEL `shop.fit@1` SET OPTIONS(version_aliases=['production'])")
    runner.close()
    (tmp_path / "sqlml_project.yml").write_text("name: shop\nvars:\n  gate: r2_score >= 0.8\n")  # forces a retrain
    again = Runner(tmp_path)
    assert {o.node: o.status for o in again.run()}["fit"] == "success"
    store = again.connection.models
    assert store.resolve(ModelRef("shop", "fit")).version == 2
    assert store.resolve(ModelRef("shop", "fit", "production")).version == 1
    again.close()


def test_a_first_model_failing_its_gate_is_dropped_and_dependents_skip(make_project):
    runner = make_project({**GATED, "sqlml_project.yml": "name: shop\nvars:\n  gate: r2_score >= 1.5\n"})
    result = run(runner)
    assert result["fit"] == "error" and result["scored"] == "skipped"
    assert not runner.connection.models.exists("shop", "fit")


def test_unchanged_model_is_not_retrained(make_project):
    runner = make_project({**GATED, "sqlml_project.yml": "name: shop\nvars:\n  gate: r2_score >= 0.5\n"})
    run(runner)
    assert run(runner)["fit"] == "unchanged"
    assert run(runner, full_refresh=True)["fit"] == "success"
    assert len(runner.connection.models.versions("shop", "fit")) == 2


def test_due_nodes_follow_cron_and_catch_up_once(make_project):
    runner = make_project({
        "sqlml_project.yml": "name: shop\nschedule: '0 3 * * *'\n",
        "a.sql": "SELECT 1 AS x",
        "hourly.sql": "{{ config(schedule='0 * * * *') }}\nSELECT 2 AS x",
    })  # fmt: skip
    history = History(runner.connection)
    now = dt.datetime(2026, 12, 1, 10, 30)
    assert scheduler.due_nodes(runner, history, now) == ["a", "hourly"]  # never ran: both due
    runner.run(RunOptions(select=["a", "hourly"]))  # both ran just now
    ran = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert scheduler.due_nodes(runner, history, ran + dt.timedelta(seconds=1)) in ([], ["hourly"], ["a", "hourly"])
    assert scheduler.due_nodes(runner, history, ran + dt.timedelta(hours=1, minutes=1)) in (["hourly"], ["a", "hourly"])
    # after three days of downtime each node is due once, not once per missed fire time
    assert scheduler.due_nodes(runner, history, ran + dt.timedelta(days=3)) == ["a", "hourly"]
    # a missed fire time older than the catch-up window is not caught up
    assert scheduler.due_nodes(runner, history, ran + dt.timedelta(days=3), catchup_hours=0) == []


def test_run_due_retries_with_backoff(make_project, tmp_path):
    runner = make_project({"flaky.sql": "{{ config(materialized='table') }}\nSELECT * FROM landing.maybe"})
    delays = []

    def sleep(seconds):
        delays.append(seconds)
        if len(delays) == 2:  # the source appears before the third attempt
            runner.connection.query("CREATE SCHEMA landing; CREATE TABLE landing.maybe AS SELECT 1 AS x")

    outcomes = scheduler.run_due(runner, ["flaky"], scheduler.SchedulePolicy(retries=3, backoff_seconds=5), sleep=sleep)
    assert delays == [5, 10]
    assert [o.status for o in outcomes] == ["success"]


def test_invalid_cron_names_the_node(make_project):
    runner = make_project({"a.sql": "{{ config(schedule='every day') }}\nSELECT 1 AS x"})
    with pytest.raises(sqlml.ProjectError, match="a: schedule 'every day' is not a cron expression"):
        scheduler.schedules(runner)


def test_cli_commands(tmp_path, project_files):
    project_files(tmp_path, {"seeds/s.csv": "a\n1\n2\n", "v.sql": "SELECT SUM(a) AS total FROM {{ ref('s') }}"})
    cli_runner = CliRunner()
    args = ["--project", str(tmp_path)]
    result = cli_runner.invoke(cli, ["run", *args])
    assert result.exit_code == 0, result.output
    assert "2 of 2 SUCCESS" in result.output
    assert cli_runner.invoke(cli, ["ls", *args]).output.splitlines() == ["s\tseed\t\tshop.s", "v\tdata\tview\tshop.v"]
    assert "SELECT SUM(a) AS total FROM shop.s" in cli_runner.invoke(cli, ["compile", *args]).output
    assert "v (data, view) <- s" in cli_runner.invoke(cli, ["dag", *args]).output
    cli_runner.invoke(cli, ["dag", *args, "--format", "mermaid", "-o", str(tmp_path / "g.mmd")])
    assert "  s --> v" in (tmp_path / "g.mmd").read_text()
    assert "success" in cli_runner.invoke(cli, ["runs", *args]).output
    (tmp_path / "v.sql").write_text("SELECT * FROM {{ ref('t') }}")
    failed = cli_runner.invoke(cli, ["run", *args])
    assert failed.exit_code == 1 and "ref('t') names no node" in failed.output and "Traceback" not in failed.output


def test_killed_build_leaves_the_previous_table(tmp_path, project_files):
    """A node killed mid-build (kill -9) leaves its table as it was."""
    project_files(tmp_path, {"big.sql": "{{ config(materialized='table') }}\nSELECT {{ var('v', 1) }} AS v"})
    with Runner(tmp_path) as runner:
        run(runner)
    (tmp_path / "big.sql").write_text(
        "{{ config(materialized='table') }}\nSELECT 2 AS v FROM UNNEST(GENERATE_ARRAY(1, 3000)) a, "
        "UNNEST(GENERATE_ARRAY(1, 3000)) b, UNNEST(GENERATE_ARRAY(1, 3000)) c"
    )
    child = subprocess.Popen([sys.executable, "-m", "sqlml", "run", "--project", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    started = next((line for line in child.stdout if "START" in line), "")  # "" once it ended first
    assert "START data big" in started, started  # big's build is under way (27 billion rows to go)
    time.sleep(0.5)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        assert con.query("SELECT v FROM shop.big").fetchall() == [(1,)]


def test_example_project_runs_end_to_end(tmp_path):
    """The README's main job: `sqlml run` over sql/, here on a copy with its own warehouse."""
    shutil.copytree(REPO / "sql", tmp_path / "sql", ignore=shutil.ignore_patterns("warehouse", "models"))
    result = CliRunner().invoke(cli, ["build", "--project", str(tmp_path / "sql"), "--warehouse", str(tmp_path / "wh"),
                                      "--models", str(tmp_path / "models")])  # fmt: skip
    assert result.exit_code == 0, result.output
    with sqlml.connect(tmp_path / "wh", tmp_path / "models") as con:
        assert con.query("SELECT COUNT(*) FROM credit.credit_decisions").scalar() == 4454
        assert con.query("SELECT COUNT(*) FROM credit.stg_penguins").scalar() == 342
        auc = con.query("SELECT roc_auc FROM ML.EVALUATE(MODEL credit.credit_decision)").scalar()
        assert auc >= 0.75
        assert {m.name for m in con.models.models("credit")} == {"credit_decision", "default_model", "penguin_weight"}


def test_a_dbt_project_runs_unchanged(tmp_path, project_files):
    """dbt_project.yml, models/ with sources, refs, the three materializations and generic tests."""
    project_files(tmp_path, {
        "sqlml_project.yml": None,
        "dbt_project.yml": "name: jaffle\nversion: '1.0.0'\nprofile: jaffle\nmodels:\n  jaffle:\n    +materialized: table\n",
        "models/staging/sources.yml": """
            version: 2
            sources:
              - name: raw
                schema: raw
                tables: [{name: orders}]
            models:
              - name: stg_orders
                columns:
                  - name: id
                    data_tests: [unique, not_null]
        """,
        "models/staging/stg_orders.sql": "select id, amount from {{ source('raw', 'orders') }}",
        "models/marts/big_orders.sql": "{{ config(materialized='view') }}\nselect * from {{ ref('stg_orders') }} where amount > 10",
        "analyses/adhoc.sql": "select * from nowhere",
    })  # fmt: skip
    with Runner(tmp_path) as runner:
        runner.connection.query("CREATE SCHEMA raw; CREATE TABLE raw.orders AS SELECT 1 AS id, 5 AS amount UNION ALL SELECT 2, 50")
        result = run(runner, command="build")
        assert result == {"stg_orders": "success", "big_orders": "success", "unique_stg_orders_id": "pass",
                          "not_null_stg_orders_id": "pass"}  # fmt: skip
        assert runner.connection.relation_kind("jaffle.stg_orders") == "table"  # the project-wide +materialized
        assert runner.connection.relation_kind("jaffle.big_orders") == "view"
        assert runner.connection.query("SELECT id FROM jaffle.big_orders").fetchall() == [(2,)]
    assert (tmp_path / ".sqlml" / "warehouse").is_dir()  # sqlml's stores stay out of dbt's models/


def test_schedule_once_runs_what_is_due(tmp_path, project_files):
    project_files(tmp_path, {"sqlml_project.yml": "name: shop\nschedule: '* * * * *'\n", "a.sql": "SELECT 1 AS x"})
    cli_runner = CliRunner()
    first = cli_runner.invoke(cli, ["schedule", "--once", "--project", str(tmp_path)])
    assert first.exit_code == 0 and "1 of 1 SUCCESS" in first.output
    again = cli_runner.invoke(cli, ["schedule", "--once", "--project", str(tmp_path)])
    if dt.datetime.now().second < 58:  # within the same minute nothing new is due
        assert "Nothing is due." in again.output


def test_scheduler_process_stops_cleanly_on_sigterm(tmp_path, project_files):
    project_files(tmp_path, {"sqlml_project.yml": "name: shop\nschedule: '0 3 * * *'\n", "a.sql": "SELECT 1 AS x"})
    child = subprocess.Popen([sys.executable, "-m", "sqlml", "schedule", "--project", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        lines.append(line)
        if line.startswith("Scheduled 0 3 * * *"):
            break
    assert any("Catching up: a." in line for line in lines)  # never ran: caught up once at start
    child.send_signal(signal.SIGTERM)
    output, _ = child.communicate(timeout=30)
    assert child.returncode == 0, output
    assert "Stopping the scheduler" in output
