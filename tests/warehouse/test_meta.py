"""The sqlml_meta schema is named in one module (sql/duckdb_names.py), every table of it is defined
in one module (warehouse/meta.py), and a statement that needs none of them (a plain table or view)
asks for none."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlml
from sqlml.warehouse import meta

SRC = Path(sqlml.__file__).parent
META_TABLES = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'sqlml_meta' ORDER BY 1"


def _sql_strings(path: Path) -> list[str]:
    """The string literals of a module that are not docstrings (f-strings' literal parts included)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip
    return [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]  # fmt: skip


def test_only_the_meta_module_names_the_sqlml_meta_schema():
    naming = sorted(
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if any("sqlml_meta" in text for text in _sql_strings(path))
    )
    assert naming == ["sql/duckdb_names.py"]  # META_SCHEMA, which warehouse.meta and the engines import


def test_every_table_the_warehouse_keeps_is_defined_in_meta(con):
    con.query("""
        CREATE SCHEMA ds;
        CREATE TABLE ds.t (x FLOAT64 OPTIONS(description='x'), y FLOAT64, d DATE, g GEOGRAPHY) PARTITION BY d;
        INSERT INTO ds.t VALUES (1, 2, DATE '2024-01-01', NULL), (2, 3, DATE '2024-01-02', NULL), (3, 5, NULL, NULL);
        CREATE MATERIALIZED VIEW ds.mv AS SELECT x FROM ds.t;
        CREATE PROCEDURE ds.p() BEGIN SELECT 1; END;
        CREATE MODEL ds.m OPTIONS (model_type = 'linear_reg', input_label_cols = ['y']) AS SELECT x, y FROM ds.t;
        CREATE VIEW ds.v OPTIONS(description='v') AS SELECT * FROM ML.PREDICT(MODEL ds.m, (SELECT 4.0 AS x))
    """)
    assert [row[0] for row in con.query(META_TABLES).fetchall()] == sorted(table.name for table in meta.TABLES)


def test_a_plain_table_and_view_keep_only_the_write_log(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x, DATE '2024-01-01' AS d; CREATE VIEW ds.v AS SELECT * FROM ds.t")
    assert con.query(META_TABLES).fetchall() == [(meta.MODIFICATIONS.name,)]
