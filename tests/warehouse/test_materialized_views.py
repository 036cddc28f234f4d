"""CREATE MATERIALIZED VIEW: stored rows, automatic and explicit refresh, max_staleness, errors."""

from __future__ import annotations

import pytest

import sqlml

DAILY = """
CREATE MATERIALIZED VIEW ds.daily
  PARTITION BY day CLUSTER BY store
  OPTIONS(enable_refresh = TRUE, refresh_interval_minutes = 60, description = 'daily totals')
AS SELECT day, store, SUM(amount) AS total, COUNT(*) AS orders FROM ds.sales GROUP BY day, store
"""


@pytest.fixture
def sales(con):
    con.query("CREATE SCHEMA ds")
    con.query("CREATE TABLE ds.sales (day DATE, store STRING, amount INT64)")
    con.query("INSERT INTO ds.sales VALUES ('2025-03-01', 'n', 10), ('2025-03-01', 's', 20), ('2025-03-02', 'n', 5)")
    return con


def totals(con, view: str = "ds.daily") -> dict:
    rows = con.query(f"SELECT CAST(day AS STRING) AS day, store, total FROM {view}").arrow().to_pylist()
    return {(r["day"], r["store"]): r["total"] for r in rows}


def test_materialized_view_holds_its_querys_rows(sales):
    sales.query(DAILY)
    assert totals(sales) == {("2025-03-01", "n"): 10, ("2025-03-01", "s"): 20, ("2025-03-02", "n"): 5}
    kinds = sales.query("SELECT table_name, table_type, is_insertable_into FROM ds.INFORMATION_SCHEMA.TABLES").arrow().to_pylist()
    assert {"table_name": "daily", "table_type": "MATERIALIZED VIEW", "is_insertable_into": "NO"} in kinds
    assert {"table_name": "sales", "table_type": "BASE TABLE", "is_insertable_into": "YES"} in kinds


def test_automatic_refresh_answers_as_the_base_tables_stand(sales):
    sales.query(DAILY)
    before = sales.query("SELECT last_refresh_time FROM ds.INFORMATION_SCHEMA.MATERIALIZED_VIEWS").scalar()
    sales.query("INSERT INTO ds.sales VALUES ('2025-03-02', 'n', 100), ('2025-03-03', 's', 1)")
    assert totals(sales) == {("2025-03-01", "n"): 10, ("2025-03-01", "s"): 20, ("2025-03-02", "n"): 105, ("2025-03-03", "s"): 1}
    after = sales.query("SELECT last_refresh_time FROM ds.INFORMATION_SCHEMA.MATERIALIZED_VIEWS").scalar()
    assert after > before
    # Nothing written since: reading again does not refresh.
    sales.query("SELECT COUNT(*) FROM ds.daily").scalar()
    assert sales.query("SELECT last_refresh_time FROM ds.INFORMATION_SCHEMA.MATERIALIZED_VIEWS").scalar() == after


def test_disabled_refresh_waits_for_an_explicit_refresh(sales):
    sales.query("CREATE MATERIALIZED VIEW ds.counts OPTIONS(enable_refresh = FALSE) AS SELECT COUNT(*) AS n FROM ds.sales")
    sales.query("DELETE FROM ds.sales WHERE store = 'n'")
    assert sales.query("SELECT n FROM ds.counts").scalar() == 3
    sales.query("CALL BQ.REFRESH_MATERIALIZED_VIEW('my-project.ds.counts')")
    assert sales.query("SELECT n FROM ds.counts").scalar() == 1


def test_max_staleness_serves_stored_rows_within_the_interval(sales):
    sales.query(
        'CREATE MATERIALIZED VIEW ds.lazy OPTIONS(max_staleness = INTERVAL "4:0:0" HOUR TO SECOND) '
        "AS SELECT COUNT(*) AS n FROM ds.sales"
    )
    sales.query("CREATE MATERIALIZED VIEW ds.eager OPTIONS(max_staleness = INTERVAL 0 SECOND) AS SELECT COUNT(*) AS n FROM ds.sales")
    sales.query("INSERT INTO ds.sales VALUES ('2025-03-04', 'n', 1)")
    assert sales.query("SELECT n FROM ds.lazy").scalar() == 3
    assert sales.query("SELECT n FROM ds.eager").scalar() == 4
    assert sales.query("SELECT max_staleness_seconds FROM ds.INFORMATION_SCHEMA.MATERIALIZED_VIEWS WHERE table_name = 'lazy'").scalar() == 4 * 3600


def test_writes_to_a_materialized_view_are_refused(sales):
    sales.query(DAILY)
    with pytest.raises(sqlml.Error, match="Cannot modify materialized view ds.daily") as raised:
        sales.query("DELETE FROM ds.daily WHERE store = 'n'")
    assert "REFRESH_MATERIALIZED_VIEW" in raised.value.hint
    assert len(totals(sales)) == 3


def test_create_drop_and_their_errors(sales):
    sales.query(DAILY)
    with pytest.raises(sqlml.Error, match="Already exists: ds.daily"):
        sales.query(DAILY)
    sales.query(DAILY.replace("CREATE MATERIALIZED VIEW", "CREATE MATERIALIZED VIEW IF NOT EXISTS"))
    sales.query(DAILY.replace("CREATE MATERIALIZED VIEW", "CREATE OR REPLACE MATERIALIZED VIEW").replace("SUM(amount)", "MAX(amount)"))
    assert totals(sales)[("2025-03-01", "n")] == 10
    sales.query("DROP MATERIALIZED VIEW ds.daily")
    assert sales.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.MATERIALIZED_VIEWS").scalar() == 0
    sales.query("DROP MATERIALIZED VIEW IF EXISTS ds.daily")
    with pytest.raises(sqlml.Error, match="Not found: materialized view ds.daily"):
        sales.query("DROP MATERIALIZED VIEW ds.daily")


def test_bad_options_name_the_option_and_suggest_the_nearest(sales):
    with pytest.raises(sqlml.Error, match="Unknown materialized view option enable_refrsh") as raised:
        sales.query("CREATE MATERIALIZED VIEW ds.v OPTIONS(enable_refrsh = TRUE) AS SELECT 1 AS a")
    assert "Did you mean enable_refresh?" in raised.value.hint
    with pytest.raises(sqlml.Error, match="refresh_interval_minutes takes a positive number"):
        sales.query("CREATE MATERIALIZED VIEW ds.v OPTIONS(refresh_interval_minutes = 'soon') AS SELECT 1 AS a")
    assert sales.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = 'v'").scalar() == 0


def test_a_failed_refresh_keeps_the_rows_and_names_the_missing_table(sales):
    sales.query("CREATE MATERIALIZED VIEW ds.counts AS SELECT COUNT(*) AS n FROM ds.sales")
    sales.query("DROP TABLE ds.sales")
    with pytest.raises(sqlml.Error, match="Refreshing materialized view ds.counts failed.*Unknown table ds.sales"):
        sales.query("CALL BQ.REFRESH_MATERIALIZED_VIEW('ds.counts')")
    assert sales.query("SELECT n FROM ds.counts").scalar() == 3
    with pytest.raises(sqlml.Error, match="not a materialized view"):
        sales.query("CALL BQ.REFRESH_MATERIALIZED_VIEW('ds.nothing')")


def test_refresh_survives_reopening_the_warehouse(tmp_path):
    with sqlml.connect(tmp_path / "wh", tmp_path / "models") as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
        con.query("CREATE MATERIALIZED VIEW ds.s AS SELECT SUM(x) AS total FROM ds.t")
    with sqlml.connect(tmp_path / "wh", tmp_path / "models") as con:
        con.query("INSERT INTO ds.t VALUES (41)")
        assert con.query("SELECT total FROM ds.s").scalar() == 42
