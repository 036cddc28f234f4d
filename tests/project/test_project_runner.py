"""sqlml run: discovery, Jinja, the DAG, materializations, atomicity, history."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.project import RunOptions, Runner, find_project_dir, load_project



def statuses(outcomes) -> dict[str, str]:
    """Node name → status of a run's outcomes."""
    return {o.node: o.status for o in outcomes}


def run(runner: Runner, **options):
    """Run with RunOptions(**options); return node → status."""
    return statuses(runner.run(RunOptions(**options)))


ORDERS_CSV = "order_id,customer_id,amount,ordered_on\n1,10,5.5,2026-01-03\n2,10,7.0,2026-01-20\n3,11,1.0,2026-02-02\n"
CUSTOMERS_CSV = "customer_id,name\n10,Ann\n11,Bo\n"


BASIC = {
    "seeds/orders.csv": ORDERS_CSV,
    "seeds/customers.csv": CUSTOMERS_CSV,
    "macros/money.sql": "{% macro cents(col) %}CAST(ROUND({{ col }} * 100) AS INT64){% endmacro %}",
    "staging/stg_orders.sql": """
        {{ config(materialized='table', tags=['daily']) }}
        SELECT order_id, customer_id, {{ cents('amount') }} AS amount_cents, ordered_on
        FROM {{ ref('orders') }} WHERE amount >= {{ var('min_amount', 0) }}
    """,
    "marts/customer_totals.sql": """
        SELECT c.name, SUM(o.amount_cents) AS total_cents
        FROM {{ ref('stg_orders') }} AS o JOIN {{ ref('customers') }} AS c USING (customer_id)
        GROUP BY c.name
    """,
    # Plain SQL, no Jinja: ordered after customer_totals by the table it names.
    "marts/report.sql": """
        CREATE OR REPLACE TABLE shop.report AS SELECT COUNT(*) AS customers FROM shop.customer_totals;
        INSERT INTO shop.report VALUES (-1);
    """,
}


def test_nodes_have_the_kind_their_content_gives(make_project):
    runner = make_project({**BASIC, "ml/spend.sql": "CREATE MODEL {{ this }} OPTIONS(model_type='linear_reg', input_label_cols=['amount_cents']) AS SELECT * FROM {{ ref('stg_orders') }}"})
    kinds = {name: (node.kind, node.relation) for name, node in runner.nodes.items() if node.kind != "test"}
    assert kinds == {
        "orders": ("seed", "shop.orders"), "customers": ("seed", "shop.customers"),
        "stg_orders": ("data", "shop.stg_orders"), "customer_totals": ("data", "shop.customer_totals"),
        "report": ("script", "shop.report"), "spend": ("ml", "shop.spend"),
    }  # fmt: skip
    assert runner.nodes["report"].depends_on == {"customer_totals"}
    assert runner.nodes["spend"].depends_on == {"stg_orders"}


def test_run_builds_everything_in_order_with_jinja_rendered(make_project):
    runner = make_project(BASIC)
    assert set(run(runner).values()) == {"success"}
    con = runner.connection
    assert con.relation_kind("shop.stg_orders") == "table"
    assert con.relation_kind("shop.customer_totals") == "view"  # dbt's default materialization
    assert con.query("SELECT name, total_cents FROM shop.customer_totals ORDER BY name").fetchall() == [("Ann", 1250), ("Bo", 100)]
    assert con.query("SELECT customers FROM shop.report ORDER BY customers").fetchall() == [(-1,), (2,)]


def test_vars_override_project_vars(make_project, tmp_path):
    make_project(BASIC).close()
    project = load_project(tmp_path, vars={"min_amount": 6})
    with Runner(project) as runner:
        run(runner, select=["+stg_orders"])
        assert runner.connection.query("SELECT COUNT(*) FROM shop.stg_orders").scalar() == 1


def test_sources_resolve_from_yaml(make_project):
    runner = make_project({
        "sources.yml": "sources:\n  - name: raw\n    schema: landing\n    tables:\n      - name: events\n",
        "events_clean.sql": "SELECT * FROM {{ source('raw', 'events') }} WHERE x > 0",
    })  # fmt: skip
    runner.connection.query("CREATE SCHEMA landing; CREATE TABLE landing.events AS SELECT * FROM UNNEST([-1, 2, 3]) AS x")
    assert run(runner) == {"events_clean": "success"}
    assert runner.connection.query("SELECT COUNT(*) FROM shop.events_clean").scalar() == 2


def test_unknown_ref_suggests_the_nearest_node(make_project):
    with pytest.raises(sqlml.ProjectError, match=r"(?s)bad\.sql.*ref\('stg_order'\).*Did you mean ref\('stg_orders'\)") as caught:
        make_project({**BASIC, "bad.sql": "SELECT * FROM {{ ref('stg_order') }}"})
    assert caught.value.node == "bad"


def test_jinja_syntax_error_names_file_line_and_node(make_project):
    with pytest.raises(sqlml.ProjectError, match=r"broken\.sql line 2 \(node broken\): Jinja error"):
        make_project({"broken.sql": "SELECT 1 AS x\n{% if %}\n"})


def test_sql_syntax_error_names_the_file(make_project):
    with pytest.raises(sqlml.ProjectError, match=r"(?s)oops\.sql \(node oops\).*line 1"):
        make_project({"oops.sql": "SELECT FROM WHERE"})


def test_a_cycle_is_an_error_naming_it(make_project):
    with pytest.raises(sqlml.ProjectError, match=r"cycle: .*a.*b"):
        make_project({"a.sql": "SELECT * FROM {{ ref('b') }}", "b.sql": "SELECT * FROM {{ ref('a') }}"})


def test_selectors(make_project, tmp_path):
    runner = make_project(BASIC)
    select = runner.graph.select
    assert select(["stg_orders+"]) == ["stg_orders", "customer_totals", "report"]
    assert select(["+customer_totals"]) == [n for n in runner.graph.order if n in {"orders", "customers", "stg_orders", "customer_totals"}]
    assert select(["tag:daily"]) == ["stg_orders"]
    assert set(select(["path:marts"], root=tmp_path)) == {"customer_totals", "report"}
    assert select(["stg_orders+"], ["report"]) == ["stg_orders", "customer_totals"]
    with pytest.raises(sqlml.ProjectError, match="Did you mean stg_orders"):
        select(["stg_ordrs"])


def test_failing_node_keeps_previous_output_and_skips_dependents(make_project, tmp_path):
    runner = make_project(BASIC)
    run(runner)
    (tmp_path / "staging/stg_orders.sql").write_text(
        "{{ config(materialized='table') }}\nSELECT order_id, customer_id, CAST('x' AS INT64) AS amount_cents, ordered_on FROM {{ ref('orders') }}"
    )
    runner = Runner(tmp_path)
    result = run(runner)
    assert result["stg_orders"] == "error"
    assert result["customer_totals"] == "skipped" and result["report"] == "skipped"
    assert runner.connection.query("SELECT SUM(amount_cents) FROM shop.stg_orders").scalar() == 1350  # untouched
    # fix the file; --retry-failed runs only what failed or was skipped
    (tmp_path / "staging/stg_orders.sql").write_text(BASIC["staging/stg_orders.sql"])
    retry = Runner(tmp_path)
    assert run(retry, retry_failed=True) == {"stg_orders": "success", "customer_totals": "success", "report": "success"}
    runner.close()
    retry.close()


def test_history_is_recorded_in_sqlml_meta(make_project):
    runner = make_project(BASIC)
    run(runner)
    con = runner.connection
    runs = con.query("SELECT command, status, nodes, failures FROM sqlml_meta.runs").fetchall()
    assert runs == [("run", "success", 5, 0)]
    rows = dict(con.query("SELECT node, rows_written FROM sqlml_meta.node_runs WHERE kind = 'seed'").fetchall())
    assert rows == {"orders": 3, "customers": 2}
    assert con.query("SELECT COUNT(*) FROM sqlml_meta.node_runs WHERE sql_hash IS NULL OR ended_at < started_at").scalar() == 0


def test_changed_only_skips_nodes_whose_sql_and_inputs_did_not_change(make_project, tmp_path):
    runner = make_project(BASIC)
    run(runner)
    assert set(run(runner, changed_only=True).values()) == {"unchanged"}
    (tmp_path / "marts/customer_totals.sql").write_text(BASIC["marts/customer_totals.sql"] + "\n-- edited")
    edited = Runner(tmp_path)
    result = run(edited, changed_only=True)
    assert result["customer_totals"] == "success" and result["report"] == "success"
    assert result["stg_orders"] == "unchanged"
    edited.close()


def test_threads_run_independent_nodes_and_give_the_same_result(make_project):
    files = {f"t{i}.sql": f"{{{{ config(materialized='table') }}}}\nSELECT {i} AS x" for i in range(6)}
    files["total.sql"] = "SELECT " + " + ".join(f"(SELECT x FROM {{{{ ref('t{i}') }}}})" for i in range(6)) + " AS s"
    runner = make_project(files)
    assert set(run(runner, threads=3).values()) == {"success"}
    assert runner.connection.query("SELECT s FROM shop.total").scalar() == 15


def test_find_project_dir_defaults_to_sql_folder(tmp_path, monkeypatch, project_files):
    project_files(tmp_path / "sql", {})
    monkeypatch.chdir(tmp_path)
    assert find_project_dir() == (tmp_path / "sql").resolve()
    with pytest.raises(sqlml.ProjectError, match="No sqlml_project.yml"):
        find_project_dir(tmp_path / "nowhere")
