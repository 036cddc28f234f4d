"""A jaffle-shop style project builds the same tables with the sqlml adapter as with dbt-duckdb.

The test writes the project itself (nothing is fetched): the jaffle shop of
``tests/project/test_dbt_jaffle_shop.py`` (three seeds in a ``+schema: raw``, staging views in
``+schema: staging``, mart tables joined with ``ref``, one pivoting payment methods in a Jinja
loop, generic tests) plus an aggregate with EXTRACT, an incremental model with a ``unique_key``
that a second run extends, and a singular test. The SQL reads the same in BigQuery and DuckDB, so
the one project runs unchanged on both adapters. After ``dbt build`` (then an incremental ``dbt
run``) on each, the two warehouses hold the same relations, in the same schemas (dbt's
``<target schema>_<custom>``), with the same columns and rows.

dbt-duckdb is in the ``test`` extra for this test alone. Slow: four dbt invocations.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dbt.adapters.duckdb", reason="dbt-duckdb is not installed: pip install -e '.[test]'")

import duckdb  # noqa: E402
from dbt.adapters.factory import reset_adapters  # noqa: E402
from dbt.cli.main import dbtRunner  # noqa: E402
from dbt_common.tests import enable_test_caching  # noqa: E402

import sqlml  # noqa: E402
from tests.project.test_dbt_jaffle_shop import FILES, seeds  # noqa: E402

pytestmark = pytest.mark.slow

#: The first build takes the orders up to this id; the second run's incremental step adds the rest.
FIRST_ORDERS = 50

EXTRA_FILES = {
    "models/monthly_orders.sql": """
select extract(year from order_date) as order_year, extract(month from order_date) as order_month,
    count(*) as orders, count(distinct customer_id) as customers
from {{ ref('stg_orders') }} group by 1, 2
""",
    "models/order_log.sql": """
{{ config(materialized='incremental', unique_key='order_id') }}
select order_id, customer_id, order_date, status from {{ ref('stg_orders') }}
where order_id <= {{ var('last_order', 1000000) }}
{% if is_incremental() %} and order_id > (select max(order_id) from {{ this }}) {% endif %}
""",
    "models/order_log.yml": "version: 2\nmodels:\n  - name: order_log\n    columns:\n      - name: order_id\n        data_tests: [unique]\n",
    "tests/assert_no_negative_amounts.sql": "select order_id from {{ ref('orders') }} where amount < 0",
}


def write_project(root: Path) -> None:
    """The project, its seeds and a profile with one target per adapter, under ``root``."""
    for relative, text in {**FILES, **EXTRA_FILES}.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(text).lstrip())
    (root / "seeds").mkdir()
    for name, frame in seeds(np.random.default_rng(20)).items():
        frame.to_csv(root / "seeds" / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    (root / "profiles.yml").write_text(
        "jaffle_shop:\n  target: sqlml\n  outputs:\n"
        f"    sqlml: {{type: sqlml, warehouse: '{root / 'wh_sqlml'}', models: '{root / 'models_sqlml'}', schema: main, threads: 2}}\n"
        f"    duckdb: {{type: duckdb, path: '{root / 'jaffle.duckdb'}', schema: main, threads: 2}}\n"
    )


def dbt(root: Path, *args: str) -> None:
    """One dbt invocation in this process; it must succeed.

    dbt leaves the adapters an invocation registered in its process-wide factory; they are
    cleared here. dbt-tests-adapter's ``adapter`` fixture registers a test class's target with
    ``register_adapter``, which keeps an adapter already registered under the type: a later class
    on this pytest worker would run its setup SQL (``project.run_sql``) on this project's target,
    in its warehouse and schema ``main``, instead of the class's own.
    """
    try:
        result = dbtRunner().invoke([*args, "--project-dir", str(root), "--profiles-dir", str(root)])
    finally:
        reset_adapters()
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception or result.result}"


def build(root: Path, target: str) -> None:
    """dbt build of the first orders, then a dbt run whose incremental step adds the rest."""
    dbt(root, "build", "--target", target, "--vars", f"{{last_order: {FIRST_ORDERS}}}")
    dbt(root, "run", "--target", target)


def normalized(rows: list[tuple]) -> list[tuple]:
    """Rows with floats rounded (the two engines may sum in another order), sorted."""
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


#: Every relation dbt built: the target schema and its custom ones (the catalog's own schemas left out).
RELATIONS = "select table_schema, table_name from information_schema.tables where table_schema like 'main%'"


def duckdb_relations(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """``schema.name`` → (columns, rows) of the dbt-duckdb warehouse (the connection dbt-duckdb
    left open in this process is shared: same file, same configuration)."""
    with duckdb.connect(str(path)) as con:
        out = {}
        for schema, name in con.execute(RELATIONS).fetchall():
            cursor = con.execute(f'select * from "{schema}"."{name}"')
            out[f"{schema}.{name}"] = ([c[0] for c in cursor.description], cursor.fetchall())
        return out


def sqlml_relations(root: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """``schema.name`` → (columns, rows) of the sqlml adapter's warehouse."""
    with sqlml.connect(root / "wh_sqlml", root / "models_sqlml", idle_release=0) as con:
        out = {}
        for schema, name in con.query(RELATIONS).fetchall():
            result = con.query(f"SELECT * FROM `{schema}`.`{name}`")
            out[f"{schema}.{name}"] = (result.columns, result.fetchall())
        return out


def test_jaffle_shop_builds_the_same_tables_as_dbt_duckdb(tmp_path):
    # Each of the four invocations parses the project in full (another target or other --vars):
    # dbt's test cache (which dbt-tests-adapter's fixtures turn on) parses each Jinja macro once
    # for all of them, 13.2 s of the invocations' CPU instead of 17.8 s.
    enable_test_caching()
    root = tmp_path / "jaffle"
    write_project(root)
    build(root, "duckdb")
    build(root, "sqlml")
    theirs, ours = duckdb_relations(root / "jaffle.duckdb"), sqlml_relations(root)
    expected = {
        *(f"main_raw.{name}" for name in ("raw_customers", "raw_orders", "raw_payments")),
        *(f"main_staging.{name}" for name in ("stg_customers", "stg_orders", "stg_payments")),
        *(f"main.{name}" for name in ("customers", "orders", "monthly_orders", "order_log")),
    }
    assert set(theirs) == expected
    assert set(ours) == expected
    for name in sorted(expected):
        their_columns, their_rows = theirs[name]
        our_columns, our_rows = ours[name]
        assert our_columns == their_columns, name
        assert normalized(our_rows) == normalized(their_rows), name
    # the incremental step ran: the first build stopped at FIRST_ORDERS, the second added the rest
    assert len(ours["main.order_log"][1]) == len(ours["main.orders"][1]) == 80
