"""`sqlml run` on a dbt project: dbt_project.yml's folder config, schema naming, paths, vars and dialect.

Each test writes a small dbt project into a temporary folder and checks what lands in the warehouse.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import textwrap

import duckdb

import pytest
from click.testing import CliRunner

import sqlml.cli.project  # noqa: F401  (registers the project commands on the group)
from sqlml.cli.main import cli
from sqlml.errors import ProjectError
from sqlml.project import RunOptions, Runner

DBT = "name: shop\nversion: '1.0.0'\nprofile: shop\nconfig-version: 2\n"


def write(root, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        head = DBT if text.startswith(DBT) else ""  # the rest of a dbt_project.yml is indented in the source
        path.write_text(head + textwrap.dedent(text[len(head):]).lstrip())


def build(root, files: dict[str, str], **options) -> tuple[Runner, dict[str, str]]:
    """Write the project, run it (RunOptions(**options)); return the open runner and node → status."""
    write(root, files)
    runner = Runner(root)
    return runner, {o.node: o.status for o in runner.run(RunOptions(**options))}


def kinds(runner: Runner) -> dict[str, str]:
    """schema.table → table or view, for everything outside sqlml's own schemas."""
    rows = runner.connection.query(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema NOT LIKE 'sqlml%'"
    ).fetchall()
    return {f"{s}.{t}": ("view" if "VIEW" in kind else "table") for s, t, kind in rows}


def test_folder_materialized_most_specific_folder_wins_and_in_file_config_overrides(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + """
            models:
              shop:
                +materialized: view
                marts:
                  +materialized: table
                  finance:
                    +materialized: view
                    revenue_table: {+materialized: table}
        """,
        "models/staging/stg_a.sql": "select 1 as id",
        "models/marts/mart_a.sql": "select * from {{ ref('stg_a') }}",
        "models/marts/finance/revenue.sql": "select * from {{ ref('mart_a') }}",
        "models/marts/finance/revenue_table.sql": "select * from {{ ref('mart_a') }}",
        "models/marts/override.sql": "{{ config(materialized='view') }}\nselect 2 as id",
        "models/marts/props.sql": "select 3 as id",
        "models/marts/props_and_file.sql": "{{ config(materialized='table') }}\nselect 4 as id",
        "models/marts/props.yml": """
            version: 2
            models:
              - name: props
                config: {materialized: view}
              - name: props_and_file
                config: {materialized: view}
        """,
    })  # fmt: skip
    with runner:
        assert set(result.values()) == {"success"}
        assert kinds(runner) == {
            "shop.stg_a": "view", "shop.mart_a": "table", "shop.revenue": "view", "shop.revenue_table": "table",
            "shop.override": "view", "shop.props": "view", "shop.props_and_file": "table",
        }  # fmt: skip


def test_custom_schemas_are_target_schema_underscore_custom(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "models:\n  shop:\n    staging:\n      +schema: staging\n",
        "models/staging/stg_a.sql": "select 1 as id",
        "models/marts/a.sql": "select * from {{ ref('stg_a') }}",
        "models/marts/b.sql": "{{ config(schema='finance') }}\nselect * from {{ ref('a') }}",
    })  # fmt: skip
    with runner:
        assert set(kinds(runner)) == {"shop_staging.stg_a", "shop.a", "shop_finance.b"}
        assert runner.compile(runner.nodes["b"]).endswith("from shop.a")


def test_a_project_generate_schema_name_macro_decides_the_schema(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "dataset: analytics\nmodels:\n  shop:\n    staging:\n      +schema: staging\n",
        "macros/naming.sql": """
            {% macro generate_schema_name(custom_schema_name, node) -%}
                {%- if custom_schema_name is none -%}{{ target.schema }}
                {%- elif node.resource_type == 'seed' -%}seeds_{{ custom_schema_name | trim }}
                {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
            {%- endmacro %}
        """,
        "models/staging/stg_a.sql": "select * from {{ ref('raw_a') }}",
        "models/a.sql": "select * from {{ ref('stg_a') }}",
        "seeds/raw_a.csv": "id\n1\n",
        "seeds/props.yml": "version: 2\nseeds:\n  - name: raw_a\n    config: {schema: raw}\n",
    })  # fmt: skip
    with runner:
        assert set(kinds(runner)) == {"staging.stg_a", "analytics.a", "seeds_raw.raw_a"}
        assert runner.connection.query("SELECT id FROM analytics.a").fetchall() == [(1,)]


def test_a_generate_schema_name_macro_may_call_dbts_own(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "models:\n  shop:\n    a: {+schema: x}\n    b: {+schema: y}\n",
        "macros/naming.sql": """
            {% macro generate_schema_name(custom_schema_name, node) -%}
                {%- if node.name == 'in_a' -%}{{ default__generate_schema_name(custom_schema_name, node) }}
                {%- else -%}{{ generate_schema_name_for_env(custom_schema_name, node) }}{%- endif -%}
            {%- endmacro %}
        """,
        "models/a/in_a.sql": "select 1 as id",
        "models/b/in_b.sql": "select 2 as id",
    })  # fmt: skip
    with runner:
        assert set(kinds(runner)) == {"shop_x.in_a", "shop.in_b"}  # target.name is dev: for_env keeps the target schema


def test_seeds_land_in_their_schema_with_column_types(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + """
            seeds:
              shop:
                +schema: raw
                codes:
                  +column_types: {zip: STRING, amount: NUMERIC}
                  +delimiter: ";"
        """,
        "seeds/codes.csv": "zip;amount\n01234;1.5\n99999;2\n",
        "seeds/other/plain.csv": "n\n7\n",
    })  # fmt: skip
    with runner:
        assert set(kinds(runner)) == {"shop_raw.codes", "shop_raw.plain"}
        columns = runner.connection.query("SELECT column_name, data_type FROM information_schema.columns "
                                          "WHERE table_name = 'codes' ORDER BY ordinal_position").fetchall()  # fmt: skip
        assert columns == [("zip", "STRING"), ("amount", "NUMERIC")]
        assert runner.connection.query("SELECT SUM(amount) FROM shop_raw.codes").scalar() == decimal.Decimal("3.5")
        assert runner.connection.query("SELECT zip FROM shop_raw.codes ORDER BY zip").fetchall() == [("01234",), ("99999",)]
        assert runner.connection.query("SELECT n + 1 FROM shop_raw.plain").fetchall() == [(8,)]  # inferred: no column_types


def test_enabled_false_skips_a_model_and_its_tests(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "models:\n  shop:\n    legacy:\n      +enabled: false\n",
        "models/legacy/old.sql": "select 1 as id",
        "models/legacy/old.yml": "version: 2\nmodels:\n  - name: old\n    columns: [{name: id, data_tests: [not_null]}]\n",
        "models/new.sql": "select 2 as id",
        "models/off.sql": "{{ config(enabled=false) }}\nselect 3 as id",
    }, command="build")  # fmt: skip
    with runner:
        assert result == {"new": "success"}
        assert set(kinds(runner)) == {"shop.new"}


def test_a_ref_to_a_disabled_model_is_an_error_naming_it(tmp_path):
    write(tmp_path, {
        "dbt_project.yml": DBT + "models:\n  shop:\n    legacy:\n      +enabled: false\n",
        "models/legacy/old.sql": "select 1 as id",
        "models/uses_old.sql": "select * from {{ ref('old') }}",
    })  # fmt: skip
    with pytest.raises(ProjectError, match=re.escape("uses_old.sql (node uses_old): ref('old') names a disabled node: old is configured enabled: false.")):
        Runner(tmp_path)


def test_folder_tags_add_to_in_file_tags_and_select(tmp_path):
    write(tmp_path, {
        "dbt_project.yml": DBT + "models:\n  shop:\n    +tags: [all]\n    nightly:\n      +tags: nightly\n",
        "models/nightly/a.sql": "{{ config(tags=['finance']) }}\nselect 1 as id",
        "models/b.sql": "select 2 as id",
    })  # fmt: skip
    with Runner(tmp_path) as runner:
        assert runner.nodes["a"].tags == ["all", "nightly", "finance"]
        assert runner.nodes["b"].tags == ["all"]
    result = CliRunner().invoke(cli, ["run", "--project", str(tmp_path), "--select", "tag:nightly"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 SUCCESS" in result.output and " a " in result.output and " b " not in result.output


def test_vars_paths_and_macros_seeing_vars(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + """
            model-paths: [transform]
            seed-paths: [data]
            test-paths: [checks]
            macro-paths: [jinja]
            vars:
              cutoff: 2
              shop: {cutoff: 3, label: big}
        """,
        "data/nums.csv": "n\n1\n2\n3\n4\n",
        "jinja/a.sql": "{% macro above(column) %}{{ column }} > {{ limit() }}{% endmacro %}",
        "jinja/b.sql": "{% macro limit() %}{{ var('cutoff') }}{% endmacro %}",
        "transform/big.sql": "{% set parts = [] %}{% do parts.append(var('label')) %}"
                             "select n, '{{ parts | join }}' as label from {{ ref('nums') }} where {{ above('n') }}",
        "checks/no_small.sql": "select * from {{ ref('big') }} where n <= 3",
        "models/ignored.sql": "this is not a model path",
    }, command="build")  # fmt: skip
    with runner:
        assert result == {"nums": "success", "big": "success", "no_small": "pass"}
        assert runner.connection.query("SELECT n, label FROM shop.big").fetchall() == [(4, "big")]


def test_test_configs_where_and_severity_and_this_attributes(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "vars: {since: 2}\n",
        "models/a.sql": "select * from unnest([1, 2, 3, null]) as x",
        "models/where_am_i.sql": "select '{{ this.schema }}' as s, '{{ this.identifier }}' as t",
        "models/a.yml": """
            version: 2
            models:
              - name: a
                columns:
                  - name: x
                    data_tests:
                      - not_null: {config: {where: "x >= {{ var('since') }}"}}
                      - accepted_values: {values: [1, 2], config: {severity: WARN}}
        """,
    }, command="build")  # fmt: skip
    with runner:
        assert result == {"a": "success", "where_am_i": "success", "not_null_a_x": "pass", "accepted_values_a_x": "warn"}
        assert runner.connection.query("SELECT s, t FROM shop.where_am_i").fetchall() == [("shop", "where_am_i")]
        assert "WHERE x >= 2" in runner.compile(runner.nodes["not_null_a_x"])


def test_tests_on_sources_run_after_the_node_writing_them(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "seeds:\n  shop:\n    +schema: raw\n",
        "seeds/people.csv": "id,name\n1,a\n1,b\n2,\n",
        "models/sources.yml": """
            version: 2
            sources:
              - name: landing
                schema: shop_raw
                tables:
                  - name: people
                    columns:
                      - name: id
                        data_tests: [unique, not_null]
                      - name: name
                        data_tests: [{not_null: {config: {severity: warn}}}]
        """,
        "models/names.sql": "select distinct id from {{ source('landing', 'people') }}",
    }, command="build")  # fmt: skip
    with runner:
        assert result == {"people": "success", "source_unique_landing_people_id": "fail", "source_not_null_landing_people_id": "pass",
                          "source_not_null_landing_people_name": "warn", "names": "skipped"}  # fmt: skip
        assert runner.nodes["source_unique_landing_people_id"].depends_on == {"people"}


def test_dialect_duckdb_reads_model_sql_as_duckdb(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "dialect: duckdb\nmodels:\n  shop:\n    +materialized: incremental\n    +unique_key: id\n",
        "models/months.sql": "select 1 as id, date_trunc('month', DATE '2024-03-17') as m, '7'::INTEGER as n",
    })  # fmt: skip
    with runner:
        assert result == {"months": "success"}
        assert [o.message for o in runner.run()] == ["incremental: merged on id"]  # the incremental merge runs in DuckDB's dialect too
        expected = duckdb.sql("select date_trunc('month', DATE '2024-03-17') as m, '7'::INTEGER as n").fetchall()
        assert expected == [(dt.datetime(2024, 3, 1), 7)]
        assert runner.connection.query("SELECT m, n FROM shop.months").fetchall() == expected


def test_dbt_only_keys_are_accepted_and_ignored(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + """
            target-path: target
            clean-targets: [target, dbt_packages]
            require-dbt-version: ">=1.7.0"
            analysis-paths: [analyses]
            models:
              shop:
                +persist_docs: {relation: true}
                +meta: {owner: me}
                +docs: {node_color: red}
        """,
        "models/a.sql": "select 1 as id",
    })  # fmt: skip
    with runner:
        assert result == {"a": "success"}


def test_a_sqlml_project_yml_beside_adds_sqlml_keys(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT + "vars: {x: 1, y: 1}\n",
        "sqlml_project.yml": "warehouse: wh\nvars: {y: 2}\n",
        "models/a.sql": "select {{ var('x') }} as x, {{ var('y') }} as y",
    })  # fmt: skip
    with runner:
        assert runner.connection.query("SELECT x, y FROM shop.a").fetchall() == [(1, 2)]
    assert (tmp_path / "wh").exists()


def test_the_dialect_may_come_from_a_sqlml_project_yml_beside(tmp_path):
    runner, result = build(tmp_path, {
        "dbt_project.yml": DBT,
        "sqlml_project.yml": "name: shop\ndialect: duckdb\n",
        "models/a.sql": "select [1, 2, 3][2] as second",  # DuckDB lists count from 1, BigQuery arrays need OFFSET
    })  # fmt: skip
    with runner:
        assert runner.project.dialect == "duckdb"
        assert runner.connection.query("SELECT second FROM shop.a").fetchall() == duckdb.sql("select [1, 2, 3][2]").fetchall() == [(2,)]


def test_a_sqlml_project_yml_beside_cannot_set_dbt_keys(tmp_path):
    write(tmp_path, {"dbt_project.yml": DBT, "sqlml_project.yml": "models: {materialized: table}\n", "models/a.sql": "select 1 as x"})
    with pytest.raises(ProjectError, match=re.escape("sqlml_project.yml sets `models` next to dbt_project.yml, which is the project's file.")):
        Runner(tmp_path)


ADVICE = " is not supported by `sqlml run`; run this project with dbt and the sqlml adapter."
UNSUPPORTED = {
    "packages": ({"packages.yml": "packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n"},
                 "packages.yml line 1: packages (`packages:`)"),
    "adapter": ({"macros/m.sql": "{% macro cast(x) %}\n{{ return(adapter.dispatch('cast')(x)) }}\n{% endmacro %}"},
                "macros/m.sql line 2: `adapter` (dbt's adapter methods)"),
    "package namespace": ({"models/a.sql": "select\n{{ dbt_utils.star(ref('b')) }}\nfrom {{ ref('b') }}", "models/b.sql": "select 1 as x"},
                          "models/a.sql line 2: the macro namespace `dbt_utils` (a package's macros)"),
    "dbt namespace": ({"models/a.sql": "select {{ dbt.date_trunc('month', 'd') }} as m"}, "models/a.sql line 1: the `dbt` macro namespace"),
    "run_query": ({"models/a.sql": "{% if execute %}\n{% set r = run_query('select 1') %}\n{% endif %}\nselect 1 as x"},
                  "models/a.sql line 1: `execute` (dbt's compile/run phases)"),
    "on-run-start": ({"dbt_project.yml": DBT + "on-run-start:\n  - create schema if not exists x\n"},
                     "dbt_project.yml line 5: the on-run-start hook (`on-run-start:`)"),
    "folder pre-hook": ({"dbt_project.yml": DBT + "models:\n  shop:\n    staging:\n      +pre-hook: select 1\n"},
                        "dbt_project.yml line 8: the pre-hook"),
    "in-file post_hook": ({"models/a.sql": "select 1 as x\n{{ config(post_hook='grant select on {{ this }} to x') }}"},
                          "models/a.sql line 2: the post-hook"),
    "snapshot file": ({"snapshots/orders_snapshot.sql": "{% snapshot orders_snapshot %}select 1{% endsnapshot %}"},
                      "snapshots/orders_snapshot.sql: snapshots (files in the snapshot paths)"),
    "snapshot block": ({"models/s.sql": "{% snapshot s %}\nselect 1\n{% endsnapshot %}"}, "models/s.sql line 1: a snapshot ({% snapshot %})"),
    "generic test block": ({"tests/generic/positive.sql": "{% test positive(model, column_name) %}\nselect 1\n{% endtest %}"},
                           "tests/generic/positive.sql line 1: a generic test definition ({% test %})"),
    "unit tests": ({"models/a.yml": "version: 2\nunit_tests:\n  - name: t\n    model: a\n"}, "models/a.yml line 2: unit tests (`unit_tests:`)"),
    "test store_failures": ({"models/a.yml": "version: 2\nmodels:\n  - name: a\n    columns:\n      - name: x\n        data_tests: [{not_null: {config: {store_failures: true}}}]\n"},
                            "models/a.yml: the test config `store_failures` (on not_null)"),
    "package test": ({"models/a.yml": "version: 2\nmodels:\n  - name: a\n    data_tests:\n      - dbt_utils.expression_is_true: {expression: x > 0}\n"},
                     "models/a.yml: the test `dbt_utils.expression_is_true` (sqlml runs not_null, unique, accepted_values, relationships and tests/*.sql)"),
    "properties hook": ({"models/a.yml": "version: 2\nmodels:\n  - name: a\n    config:\n      post-hook: select 1\n"},
                        "models/a.yml: the post-hook"),
    "python model": ({"models/py_model.py": "def model(dbt, session):\n    return None\n"}, "models/py_model.py: a Python model"),
    "target attribute": ({"models/b.sql": "select '{{ target.project }}' as p"}, "models/b.sql line 1: `target.project`"),
    "package config": ({"dbt_project.yml": DBT + "models:\n  dbt_utils:\n    +enabled: false\n"},
                       "dbt_project.yml line 6: config for the package 'dbt_utils' (`models: dbt_utils:`)"),
    "unknown key": ({"dbt_project.yml": DBT + "my-key: 1\n"}, "dbt_project.yml line 5: the key `my-key`"),
    "materialization": ({"dbt_project.yml": DBT + "models:\n  shop:\n    +materialized: materialized_view\n"},
                        "dbt_project.yml line 7: materialized='materialized_view'"),
    "strategy": ({"models/i.sql": "{{ config(materialized='incremental', incremental_strategy='merge', partition_by='d') }}\nselect 1 as d"},
                 "models/i.sql: incremental_strategy='merge' with partition_by (sqlml's incremental build then does 'insert_overwrite')"),
    "partition_by mapping": ({"models/i.sql": "{{ config(materialized='table', partition_by={'field': 'd', 'data_type': 'date'}) }}\nselect 1 as d"},
                             "models/i.sql line 1: `partition_by` as a mapping (dbt-bigquery's {'field': …, 'data_type': …})"),
    "alias macro": ({"macros/alias.sql": "{% macro generate_alias_name(custom_alias_name, node) %}x{% endmacro %}"},
                    "macros/alias.sql: the macro generate_alias_name (it overrides dbt's)"),
}


@pytest.mark.parametrize("case", list(UNSUPPORTED))
def test_what_sqlml_run_does_not_run_is_an_error_at_load_naming_file_line_and_construct(tmp_path, case):
    files, message = UNSUPPORTED[case]
    write(tmp_path, {"dbt_project.yml": DBT, "models/a.sql": "select 1 as x", **files})
    with pytest.raises(ProjectError, match="^" + re.escape(message + ADVICE)):
        Runner(tmp_path)
    assert not (tmp_path / ".sqlml").exists()  # nothing opened, nothing built


def test_the_cli_stops_before_any_node_runs(tmp_path):
    write(tmp_path, {"dbt_project.yml": DBT, "models/a.sql": "select 1 as x", "models/b.sql": "select {{ adapter.quote('x') }}"})
    result = CliRunner().invoke(cli, ["run", "--project", str(tmp_path)])
    assert result.exit_code != 0
    assert "models/b.sql line 1: `adapter` (dbt's adapter methods)" + ADVICE in result.output
    assert "START" not in result.output and not (tmp_path / ".sqlml").exists()
