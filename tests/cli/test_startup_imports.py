"""``sqlml query "SELECT 1"`` and ``import sqlml`` load only what a plain query needs.

Each check runs in a fresh interpreter, so modules other tests imported do not hide a regression.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import sqlml
from sqlml.cli.commands import COMMANDS
from sqlml.cli.main import cli
from sqlml.render import FORMATS, render

#: What a plain query must not import (whole packages: any of their modules counts).
HEAVY = ("pandas", "jinja2", "sklearn", "lightgbm", "statsforecast", "prompt_toolkit", "sqlml.project",
         "sqlml.ml.models", "sqlml.ml.functions", "sqlml.ml.training", "sqlml.serve", "sqlml.report", "sqlml.shell")  # fmt: skip


def loaded_after(code: str, **env: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (with ``env`` added to its environment)."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**os.environ, **env})
    return set(json.loads(completed.stdout.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_the_query_command_imports_no_ml_project_or_dataframe_code(tmp_path):
    code = (
        "import sys\n"
        "from sqlml.cli.main import main\n"
        f"sys.argv = ['sqlml', 'query', 'SELECT 1', '--warehouse', ':memory:', '--models', {str(tmp_path / 'm')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
    )
    modules = loaded_after(code)
    assert "duckdb" in modules and "sqlml.connection" in modules  # the query did run
    assert heavy_in(modules) == []


def test_a_query_run_before_loads_neither_sqlglot_nor_the_executor_nor_the_model_store(tmp_path):
    """The second process finds the statement's DuckDB text in the per-user cache (sqlml.sql.known_statements);
    the first parses it (a CAST: not a statement DuckDB's parser decides, sqlml.engine.duckdb.bigquery_alike)."""
    code = (
        "import sys\n"
        "from sqlml.cli.main import main\n"
        f"sys.argv = ['sqlml', 'query', 'SELECT CAST(1 AS INT64) AS x', '--warehouse', ':memory:', '--models', {str(tmp_path / 'm')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        # BigQuery SQL is read with Sqlml and written with BigQueryOnDuckdb: the dialect that reads
        # DuckDB SQL (three more keyword tries to build) is made only when asked for
        "assert 'SqlmlDuckdb' not in vars(sys.modules.get('sqlml.sql.dialect', sys))\n"
    )
    first = loaded_after(code, SQLML_CACHE_DIR=str(tmp_path / "cache"))
    again = loaded_after(code, SQLML_CACHE_DIR=str(tmp_path / "cache"))
    assert {"sqlglot", "sqlml.execution.executor"} <= first  # the first run parses it
    assert {"sqlml.store", "sqlite3", "psutil"} & first == set()  # but opens no model store: it names no model
    # nor runs a script or an ML.<name>(…) preprocessing call: their modules stay unloaded
    assert {"sqlml.script.interpreter", "sqlml.ml.preprocessing.manual.library"} & first == set()
    assert {"numpy", "pyarrow"} & first == set()  # but reads no Arrow: engine errors, sources and DML load it on need
    assert heavy_in(first) == []
    assert "duckdb" in again and "sqlml.execution.known" in again  # the query did run
    assert heavy_in(again) == []
    not_needed = {"sqlglot", "sqlml.sql.dialect", "sqlml.execution.executor", "sqlml.statement_table", "sqlml.store", "sqlite3", "psutil"}
    assert not_needed & again == set()
    # neither are the built-in functions installed (registering a Python UDF makes DuckDB import NumPy)
    assert {"numpy", "pyarrow"} & again == set()


def test_import_sqlml_loads_neither_duckdb_nor_sqlglot_nor_arrow():
    modules = loaded_after("import sqlml")
    assert {"duckdb", "sqlglot", "pyarrow", "numpy"} & modules == set()
    assert heavy_in(modules) == []


def test_the_lazy_public_names_are_the_real_objects():
    from sqlml.api import connect, query
    from sqlml.connection import Connection
    from sqlml.result import Result

    assert (sqlml.connect, sqlml.query, sqlml.Connection, sqlml.Result) == (connect, query, Connection, Result)
    assert {"connect", "query", "Connection", "Result"} <= set(dir(sqlml))


def test_an_unknown_attribute_of_sqlml_is_an_attribute_error():
    try:
        sqlml.no_such_name  # noqa: B018
    except AttributeError as error:
        assert str(error) == "module 'sqlml' has no attribute 'no_such_name'"
    else:
        raise AssertionError("sqlml.no_such_name did not raise")


def test_help_lists_every_command_including_those_not_imported_yet():
    output = CliRunner().invoke(cli, ["--help"]).output
    for name in [*COMMANDS, "query"]:
        assert f"  {name} " in output, name


def test_a_command_is_found_by_importing_its_module_when_asked_for():
    result = CliRunner().invoke(cli, ["dag", "--help"])
    assert result.exit_code == 0, result.output
    assert "--format [text|mermaid|dot]" in result.output


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "parquet"])
def test_rows_read_without_arrow_render_as_the_arrow_table_does(con, fmt):
    sql = "SELECT 1 AS i, -2.5 AS f, 'a|b,\"c' AS s, TRUE AS b, CAST(NULL AS STRING) AS n, 1e20 AS big, 'nan' AS t"
    plain, table = con.query(sql).rows(), con.query(sql).arrow()
    assert plain.values == [(1, -2.5, 'a|b,"c', True, None, 1e20, "nan")]
    assert render(plain, fmt) == render(table, fmt)
