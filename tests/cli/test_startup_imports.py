"""``sqlml query "SELECT 1"`` and ``import sqlml`` load only what a plain query needs.

Each check runs in a fresh interpreter, so modules other tests imported do not hide a regression.
"""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

import sqlml
from sqlml.cli.commands import COMMANDS
from sqlml.cli.main import cli

#: What a plain query must not import (whole packages: any of their modules counts).
HEAVY = ("pandas", "jinja2", "sklearn", "lightgbm", "statsforecast", "prompt_toolkit", "sqlml.project",
         "sqlml.ml.models", "sqlml.ml.functions", "sqlml.ml.training", "sqlml.serve", "sqlml.report", "sqlml.shell")  # fmt: skip


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
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
