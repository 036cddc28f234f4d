"""`%load_ext sqlml` in IPython: %sqlml and %%sqlml return DataFrames; {variables} bind as parameters."""

from __future__ import annotations

import datetime

import pytest

from sqlml.magics import bind_notebook_variables

IPython = pytest.importorskip("IPython")


@pytest.fixture
def ip(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "sqlml")
    shell.run_line_magic("sqlml_connect", f"{tmp_path / 'wh'} {tmp_path / 'models'}")
    yield shell
    import sqlml.magics

    sqlml.magics._connection.close()
    sqlml.magics._connection = None


def test_line_and_cell_magics_return_dataframes(ip):
    ip.run_cell_magic("sqlml", "", "CREATE SCHEMA ds;\nCREATE TABLE ds.t AS SELECT x FROM UNNEST([1, 2, 3]) AS x;")
    frame = ip.run_line_magic("sqlml", "SELECT SUM(x) AS total FROM ds.t")
    assert list(frame.columns) == ["total"] and frame["total"].tolist() == [6]


def test_notebook_variables_bind_as_parameters_not_text(ip):
    ip.user_ns["low"] = 2
    ip.user_ns["name"] = "x'); DROP SCHEMA ds CASCADE; --"
    ip.run_cell_magic("sqlml", "", "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x FROM UNNEST([1, 2, 3]) AS x;")
    frame = ip.run_line_magic("sqlml", "SELECT COUNT(*) AS n, {name} AS label, '{low}' AS literal FROM ds.t WHERE x >= {low}")
    assert frame.to_dict("records") == [{"n": 2, "label": "x'); DROP SCHEMA ds CASCADE; --", "literal": "{low}"}]
    assert ip.run_line_magic("sqlml", "SELECT COUNT(*) AS n FROM ds.t")["n"].tolist() == [3]


def test_binding_replaces_only_braced_names_outside_strings():
    sql, values = bind_notebook_variables(
        "SELECT * FROM t WHERE d > {since} AND s = '{since}' -- {since}\n AND x IN UNNEST({ids})",
        {"since": datetime.date(2025, 1, 1), "ids": [1, 2]},
    )
    assert sql == "SELECT * FROM t WHERE d > @since AND s = '{since}' -- {since}\n AND x IN UNNEST(@ids)"
    assert values == {"since": datetime.date(2025, 1, 1), "ids": [1, 2]}


def test_an_unknown_variable_is_a_clear_error():
    import sqlml

    with pytest.raises(sqlml.ParameterError, match="{missing} names no notebook variable"):
        bind_notebook_variables("SELECT {missing}", {})


def test_bigquery_cell_magic_runs_notebook_cells_as_written(ip, capsys):
    """BigQuery ML notebooks' %%bigquery cells (bigquery-magics' options) on the sqlml warehouse."""
    ip.run_cell_magic("sqlml", "", "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x, MOD(x, 2) = 0 AS even FROM UNNEST([1, 2, 3, 4]) AS x;")
    shown = ip.run_cell_magic("bigquery", "", "SELECT SUM(x) AS total FROM ds.t")
    assert shown.to_dict("records") == [{"total": 10}]
    # a destination variable receives the DataFrame and nothing is shown; --params as a dict literal
    assert ip.run_cell_magic("bigquery", 'df --params {"low": 2, "label": "a b"} --project my-project', "SELECT COUNT(*) AS n, @label AS label FROM ds.t WHERE x >= @low") is None
    assert ip.user_ns["df"].to_dict("records") == [{"n": 3, "label": "a b"}]
    ip.user_ns["query_params"] = {"low": 4}
    assert ip.run_cell_magic("bqsql", "--params $query_params", "SELECT x FROM ds.t WHERE x >= @low")["x"].tolist() == [4]
    # options after the --params dict still act
    assert ip.run_cell_magic("bigquery", '--params {"low": 2} --max_results 1', "SELECT x FROM ds.t WHERE x >= @low ORDER BY x")["x"].tolist() == [2]
    # a cell without whitespace is a table id; a $variable cell is that variable's query; --max_results
    assert ip.run_cell_magic("bigquery", "--max_results 2", "ds.t")["x"].tolist() == [1, 2]
    ip.user_ns["sql"] = "SELECT COUNT(*) AS n FROM ds.t WHERE even"
    assert ip.run_cell_magic("bigquery", "evens", "$sql") is None and ip.user_ns["evens"]["n"].tolist() == [2]
    # --destination_table writes the result (replacing the table) and shows it
    assert ip.run_cell_magic("bigquery", "--destination_table ds.odd", "SELECT x FROM ds.t WHERE NOT even")["x"].tolist() == [1, 3]
    assert ip.run_cell_magic("sqlml", "", "SELECT COUNT(*) AS n FROM ds.odd")["n"].tolist() == [2]
    capsys.readouterr()
    assert ip.run_cell_magic("bigquery", "--use_legacy_sql", "SELECT 1") is None
    assert capsys.readouterr().out.startswith("Error: %%bigquery --use_legacy_sql: legacy SQL is not supported")
    assert ip.run_cell_magic("bigquery", "--params {oops", "SELECT 1") is None
    assert "--params is not a dict literal" in capsys.readouterr().out
