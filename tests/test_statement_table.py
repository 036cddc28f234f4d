"""One table says who runs each statement kind and which rewrites run first; execution below it
imports none of the modules that own statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sqlml
from sqlml import statement_table
from sqlml.execution.plain import run_sql
from sqlml.sql.planner import PROCEDURAL, StatementKind

SRC = Path(sqlml.__file__).parent


def test_every_kind_the_executor_runs_has_exactly_one_handler():
    # a kind added to the planner without a row here (or a row for a kind that is gone) fails
    assert set(statement_table.HANDLERS) == set(StatementKind) - PROCEDURAL
    assert all(callable(handler) for handler in statement_table.HANDLERS.values())


def test_procedural_kinds_go_to_the_interpreter_and_nowhere_else():
    assert PROCEDURAL and not PROCEDURAL & set(statement_table.HANDLERS)
    assert statement_table.TABLE.script is not None


def test_generic_statements_are_owned_by_the_warehouse_modules_for_them():
    owner = {kind: handler.__module__ for kind, handler in statement_table.HANDLERS.items()}
    assert owner[StatementKind.CREATE_TABLE] == owner[StatementKind.DROP_TABLE] == "sqlml.warehouse.tables"
    assert owner[StatementKind.CREATE_VIEW] == owner[StatementKind.DROP_VIEW] == "sqlml.warehouse.views"
    assert owner[StatementKind.DML] == owner[StatementKind.TRUNCATE_TABLE] == "sqlml.warehouse.dml"
    assert owner[StatementKind.CREATE_MATERIALIZED_VIEW] == "sqlml.warehouse.materialized_views"
    assert statement_table.HANDLERS[StatementKind.QUERY] is run_sql


def test_the_rewrites_run_in_the_listed_order():
    assert [f"{r.__module__}.{r.__name__}" for r in statement_table.REWRITES] == [
        "sqlml.warehouse.default_dataset.qualify",
        "sqlml.ml.preprocessing.manual.rewrite.rewrite_standalone",
        "sqlml.warehouse.partitions.check_partition_filters",
        "sqlml.warehouse.information_schema.rewrite",
        "sqlml.warehouse.materialized_views.refuse_writes",
        "sqlml.warehouse.materialized_views.refresh_stale_views",
        "sqlml.warehouse.ml_views.expand_ml_views",
        "sqlml.warehouse.wildcard_tables.expand",
    ]


def _imports(package: str) -> dict[str, set[str]]:
    """``module path -> sqlml modules it imports``, function-level imports included, TYPE_CHECKING not."""
    found = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
                node.body = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(SRC))] = {name for name in names if name.startswith("sqlml")}
    return found


@pytest.mark.parametrize("package", ["engine", "execution"])
def test_execution_and_the_engine_import_no_statement_owner(package):
    above = ("sqlml.script", "sqlml.ml", "sqlml.warehouse", "sqlml.statement_table", "sqlml.connection", "sqlml.api")
    upward = {path: sorted(n for n in names if n.startswith(above)) for path, names in _imports(package).items()}
    assert {path: names for path, names in upward.items() if names} == {}


def test_statements_are_routed_by_kind_not_by_import_side_effects():
    # nothing registers a handler or rewrite, or imports a module by its name as a string
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        assert "register_handler" not in text and "register_rewrite" not in text, path
        assert "SCRIPT_RUNNER" not in text, path
