"""View descriptions (dbt-bigquery's persist_docs): CREATE VIEW … OPTIONS(description=…) and ALTER VIEW …
SET OPTIONS(description=…) are kept and shown by INFORMATION_SCHEMA.TABLE_OPTIONS; they were dropped.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#view_option_list
"""

from __future__ import annotations

import pytest

import sqlml
from sqlml.errors import InvalidOptionError

OPTIONS = "SELECT table_name, option_name, option_type, option_value FROM ds.INFORMATION_SCHEMA.TABLE_OPTIONS ORDER BY table_name"


@pytest.fixture
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        connection.query("CREATE VIEW ds.v OPTIONS(description='the \"v\" view', labels=[('team', 'ml')]) AS SELECT 1 AS a")
        connection.query("CREATE VIEW ds.w AS SELECT 2 AS a")
        yield connection


def test_create_view_description_is_kept_and_shown(con):
    assert con.query(OPTIONS).fetchall() == [("v", "description", "STRING", '"the \\"v\\" view"')]
    assert con.query("SELECT * FROM ds.v").fetchall() == [(1,)]


def test_alter_view_sets_and_null_clears_the_description(con):
    con.query("ALTER VIEW ds.w SET OPTIONS(description='second')")
    con.query("ALTER VIEW ds.v SET OPTIONS(description=NULL)")
    assert con.query(OPTIONS).fetchall() == [("w", "description", "STRING", '"second"')]
    con.query("ALTER VIEW ds.w SET OPTIONS(friendly_name='W')")  # another option leaves the description
    assert con.query(OPTIONS).fetchall() == [("w", "description", "STRING", '"second"')]


def test_replacing_or_dropping_a_view_forgets_its_description_and_if_not_exists_keeps_it(con):
    con.query("CREATE VIEW IF NOT EXISTS ds.v OPTIONS(description='other') AS SELECT 3 AS a")
    assert con.query(OPTIONS).fetchall() == [("v", "description", "STRING", '"the \\"v\\" view"')]
    con.query("CREATE OR REPLACE VIEW ds.v AS SELECT 4 AS a")
    assert con.query(OPTIONS).fetchall() == []
    con.query("CREATE OR REPLACE VIEW ds.w OPTIONS(description='w') AS SELECT 5 AS a")
    con.query("DROP VIEW ds.w")
    assert con.query("SELECT count(*) FROM sqlml_meta.view_options").fetchall() == [(0,)]


def test_a_description_that_is_not_a_string_literal_is_refused_and_changes_nothing(con):
    with pytest.raises(InvalidOptionError) as error:
        con.query("ALTER VIEW ds.v SET OPTIONS(description=1)")
    assert error.value.message == "The view option description takes a STRING literal."
    with pytest.raises(InvalidOptionError):
        con.query("CREATE VIEW ds.x OPTIONS(description=2) AS SELECT 1 AS a")
    assert con.query("SELECT count(*) FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = 'x'").fetchall() == [(0,)]
    assert con.query(OPTIONS).fetchall() == [("v", "description", "STRING", '"the \\"v\\" view"')]
