"""The sqlml adapter's own behaviour: BigQuery configs, dbt_ml models, dispatch order, dialects.

One ``dbt build`` per class (dbt-tests-adapter's ``project`` fixture writes the project); the
results are read back through the adapter and checked against numpy/pandas on the same data.
"""

from __future__ import annotations

import numpy as np
import pytest
from dbt.tests.adapter.basic.test_base import BaseSimpleMaterializations
from dbt.tests.adapter.basic.test_incremental import BaseIncremental
from dbt.tests.adapter.basic.test_snapshot_check_cols import BaseSnapshotCheckCols
from dbt.tests.util import run_dbt

SEED_CSV = "id,name,score,joined\n1,ann,3.5,2020-01-05\n2,bob,1.0,2020-02-10\n3,cy,4.0,2020-02-11\n4,dee,2.5,2020-03-01\n"

# A project macro dispatched as dbt_utils does: the sqlml adapter must pick bigquery__ over default__.
DISPATCH_MACRO = """
{% macro flavour() %}{{ return(adapter.dispatch('flavour')()) }}{% endmacro %}
{% macro default__flavour() %}'default'{% endmacro %}
{% macro bigquery__flavour() %}'bigquery'{% endmacro %}
"""

MONTHLY = """
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'joined', 'data_type': 'date', 'granularity': 'month'}) }}
select id, name, joined from {{ ref('people') }}
{% if is_incremental() %} where joined >= '2020-02-01' {% endif %}
"""

SCORE_MODEL = """
{{ config(materialized='model', ml_config={'model_type': 'linear_reg', 'input_label_cols': ['score']}) }}
select cast(id as float64) as x, score from {{ ref('people') }}
"""

PREDICTIONS = """
select x, predicted_score from ML.PREDICT(MODEL {{ ref('score_model') }},
  (select cast(id as float64) as x from {{ ref('people') }}))
"""


GUARDED = """
{{ config(materialized='incremental', unique_key='id', require_partition_filter=true,
          partition_by={'field': 'joined', 'data_type': 'date'}) }}
select id, name, joined from {{ ref('people') }}
"""


def rows(project, sql: str) -> list[tuple]:
    return [tuple(row) for row in project.run_sql(sql, fetch="all")]


@pytest.mark.slow  # two dbt runs and a model trained: ~20-60 s on 2 busy cores
class TestBigQueryProject:
    @pytest.fixture(scope="class")
    def seeds(self):
        return {"people.csv": SEED_CSV}

    @pytest.fixture(scope="class")
    def macros(self):
        return {"flavour.sql": DISPATCH_MACRO}

    @pytest.fixture(scope="class")
    def project_config_update(self):
        return {"seeds": {"test": {"people": {"+column_types": {"score": "NUMERIC", "id": "INT64"}}}}}

    @pytest.fixture(scope="class")
    def models(self):
        return {
            "monthly.sql": MONTHLY,
            "flavoured.sql": "select {{ flavour() }} as flavour, {{ dbt.date_trunc('month', 'joined') }} as m from {{ ref('people') }}",
            "score_model.sql": SCORE_MODEL,
            "predictions.sql": PREDICTIONS,
            "by_name.sql": "{{ config(materialized='materialized_view') }} select name, count(*) as n from {{ ref('people') }} group by name",
            "guarded.sql": GUARDED,
        }

    @pytest.fixture(scope="class", autouse=True)
    def built(self, project):
        assert len(run_dbt(["build"])) == 7
        # Rows of February change, then the incremental run replaces February and March only.
        project.run_sql(f"update {project.test_schema}.people set name = upper(name) where id > 1")
        project.run_sql(f"update {project.test_schema}.monthly set name = 'stale' where id = 1")
        run_dbt(["run", "--select", "monthly", "guarded"])

    def test_seed_columns_have_the_configured_types(self, project):
        columns = rows(project, f"select column_name, data_type from {project.test_schema}.INFORMATION_SCHEMA.COLUMNS "
                       "where table_name = 'people' order by ordinal_position")  # fmt: skip
        assert columns == [("id", "INT64"), ("name", "STRING"), ("score", "NUMERIC"), ("joined", "DATE")]

    def test_insert_overwrite_replaces_only_the_new_rows_partitions(self, project):
        assert rows(project, f"select id, name from {project.test_schema}.monthly order by id") == [
            (1, "stale"), (2, "BOB"), (3, "CY"), (4, "DEE"),
        ]  # fmt: skip

    def test_merge_reads_a_table_that_requires_a_partition_filter(self, project):
        with pytest.raises(Exception, match="Cannot query over table .* without a filter over column"):
            project.run_sql(f"select id from {project.test_schema}.guarded", fetch="all")
        guarded = rows(project, f"select id, name from {project.test_schema}.guarded where joined is not null order by id")
        assert guarded == rows(project, f"select id, name from {project.test_schema}.people order by id")
        assert [name for _, name in guarded] == ["ann", "BOB", "CY", "DEE"]

    def test_materialized_view_follows_its_table(self, project):
        expected = rows(project, f"select name, count(*) from {project.test_schema}.people group by name order by name")
        assert rows(project, f"select name, n from {project.test_schema}.by_name order by name") == expected
        assert ("BOB", 1) in expected

    def test_dispatch_prefers_bigquery_macros_and_dbt_cross_database_macros_are_bigquery_sql(self, project):
        result = rows(project, f"select distinct flavour, cast(m as date) from {project.test_schema}.flavoured order by 2")
        assert [(flavour, str(month)) for flavour, month in result] == [
            ("bigquery", "2020-01-01"), ("bigquery", "2020-02-01"), ("bigquery", "2020-03-01"),
        ]  # fmt: skip

    def test_model_materialization_trains_what_least_squares_fits(self, project):
        x = np.array([1.0, 2.0, 3.0, 4.0])
        slope, intercept = np.polyfit(x, [3.5, 1.0, 4.0, 2.5], 1)
        predicted = rows(project, f"select x, predicted_score from {project.test_schema}.predictions order by x")
        np.testing.assert_allclose([p for _, p in predicted], slope * x + intercept, rtol=1e-4)


class DuckDBDialect:
    """A ``dialect: duckdb`` target: model SQL and the adapter's DDL are read as DuckDB SQL."""

    @pytest.fixture(scope="class")
    def dbt_profile_target(self, dbt_profile_target):
        return {**dbt_profile_target, "dialect": "duckdb"}


@pytest.mark.slow
class TestDuckDBDialectMaterializations(DuckDBDialect, BaseSimpleMaterializations):
    pass


@pytest.mark.slow
class TestDuckDBDialectIncremental(DuckDBDialect, BaseIncremental):
    pass


@pytest.mark.slow
class TestDuckDBDialectSnapshot(DuckDBDialect, BaseSnapshotCheckCols):
    pass


class TestDuckDBDialect(DuckDBDialect):
    @pytest.fixture(scope="class")
    def models(self):
        return {"months.sql": "select date_trunc('month', DATE '2020-02-11') as m, [1, 2, 3] as xs"}

    def test_model_sql_is_read_as_duckdb_sql(self, project):
        run_dbt(["run"])
        assert rows(project, f'select cast(cast(m as date) as varchar), xs from "{project.test_schema}"."months"') == [("2020-02-01", [1, 2, 3])]


def test_an_unknown_dialect_is_refused_with_the_fix():
    from dbt.adapters.sqlml.credentials import SqlmlCredentials
    from dbt_common.exceptions import DbtRuntimeError

    with pytest.raises(DbtRuntimeError, match="dialect 'postgres' is not one sqlml reads: write dialect: bigquery or dialect: duckdb"):
        SqlmlCredentials.from_dict({"type": "sqlml", "dialect": "postgres"})


def test_dataset_and_project_are_accepted_as_dbt_bigquery_spells_them():
    from dbt.adapters.sqlml.credentials import SqlmlCredentials

    credentials = SqlmlCredentials.from_dict({"type": "sqlml", "dataset": "analytics", "project": "acme"})
    assert (credentials.schema, credentials.database, credentials.warehouse, credentials.models) == ("analytics", "acme", "warehouse", "models")


PACKAGE_MACROS = """
{% macro flavour() %}{{ return(adapter.dispatch('flavour', 'fake_utils')()) }}{% endmacro %}
{% macro default__flavour() %}'default'{% endmacro %}
{% macro postgres__flavour() %}'postgres'{% endmacro %}
{% macro bigquery__flavour() %}'bigquery'{% endmacro %}
"""


@pytest.mark.slow  # dbt deps and dbt run: ~10 s
class TestPackageDispatch:
    """A package dispatching in its own namespace, as dbt_utils and dbt_date do, gets its BigQuery macro."""

    @pytest.fixture(scope="class")
    def packages(self, tmpdir_factory):
        root = tmpdir_factory.mktemp("fake_utils")
        (root / "dbt_project.yml").write_text("name: fake_utils\nversion: '1.0'\nconfig-version: 2\nmacro-paths: ['macros']\n", "utf-8")
        (root / "macros").mkdir()
        (root / "macros" / "flavour.sql").write_text(PACKAGE_MACROS, "utf-8")
        return {"packages": [{"local": str(root)}]}

    @pytest.fixture(scope="class")
    def models(self):
        return {"flavoured.sql": "select {{ fake_utils.flavour() }} as flavour"}

    def test_the_bigquery_implementation_is_chosen(self, project):
        run_dbt(["deps"])
        run_dbt(["run"])
        assert rows(project, f"select flavour from {project.test_schema}.flavoured") == [("bigquery",)]
