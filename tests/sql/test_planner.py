"""The planner names a kind of its own for every statement sqlml runs: nothing falls to the
engine's pass-through kind unless it is written in the engine's own SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sqlml.sql.dialect import DIALECTS
from sqlml.sql.planner import PROCEDURAL, PROCEDURAL_VERB_KINDS, StatementKind, node_kind, plan
from sqlml.sql.script import PROCEDURAL_VERBS, ScriptParser

TESTS = Path(__file__).parents[1]
IDENTITY = [line for line in (TESTS / "fixtures" / "identity.sql").read_text().splitlines() if line.strip()]


def kinds_of(sql: str, dialect: str = "bigquery") -> list[StatementKind]:
    """The kind of each top-level statement of a script, as the executor decides it."""
    parser = ScriptParser(sql, DIALECTS[dialect])
    nodes = parser.nodes()
    parser.parse_all(nodes)
    return [node_kind(node) or plan(parser.parse_statement(node)).kind for node in nodes]


def _tutorial_scripts() -> list[str]:
    """The SQL tests/sql/test_tutorials.py hands to ``con.query``, its f-strings filled in from the
    strings and loop values of the test function they are written in."""
    tree = ast.parse((TESTS / "sql" / "test_tutorials.py").read_text())
    scripts: list[str] = []
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
        names: dict[str, str] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
                first = ast.literal_eval(node.iter.elts[0])
                targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
                values = first if isinstance(node.target, ast.Tuple) else [first]
                names.update({t.id: str(v) for t, v in zip(targets, values)})
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant):
                names[node.targets[0].id] = node.value.value
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "query":
                scripts.append(_text(node.args[0], names))
    return scripts


def _text(node: ast.expr, names: dict[str, str]) -> str:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(part, names) for part in node.values)
    if isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Name):
        return names[node.value.id]
    raise AssertionError(f"A tutorial query this test cannot read: {ast.unparse(node)}")


TUTORIALS = _tutorial_scripts()


@pytest.mark.parametrize("sql", IDENTITY)
def test_every_identity_statement_has_a_kind_of_its_own(sql):
    [kind] = kinds_of(sql)
    assert kind is not StatementKind.ENGINE_NATIVE


def test_the_tutorials_corpus_is_read_whole():
    assert len(TUTORIALS) == 39  # every con.query(...) call of tests/sql/test_tutorials.py


@pytest.mark.parametrize("sql", TUTORIALS)
def test_every_tutorial_statement_has_a_kind_of_its_own(sql):
    kinds = kinds_of(sql)
    assert kinds and StatementKind.ENGINE_NATIVE not in kinds


@pytest.mark.parametrize(
    ("sql", "kind", "verb"),
    [
        ("SELECT 1", StatementKind.QUERY, "SELECT"),
        ("DESCRIBE ds.t", StatementKind.QUERY, "SELECT"),
        ("INSERT INTO ds.t VALUES (1)", StatementKind.DML, "INSERT"),
        ("MERGE ds.t USING ds.s ON TRUE WHEN MATCHED THEN DELETE", StatementKind.DML, "MERGE"),
        ("TRUNCATE TABLE ds.t", StatementKind.TRUNCATE_TABLE, "TRUNCATETABLE"),
        ("LOAD DATA INTO ds.t FROM FILES (format = 'CSV', uris = ['x.csv'])", StatementKind.LOAD_DATA, "LOAD DATA"),
        ("EXPORT DATA OPTIONS (uri = 'x/*.csv', format = 'CSV') AS SELECT 1", StatementKind.EXPORT_DATA, "EXPORT"),
        ("BEGIN TRANSACTION", StatementKind.TRANSACTION, "TRANSACTION"),
        ("COMMIT TRANSACTION", StatementKind.TRANSACTION, "COMMIT"),
        ("CREATE SCHEMA ds", StatementKind.CREATE_SCHEMA, "CREATE SCHEMA"),
        ("DROP SCHEMA ds CASCADE", StatementKind.DROP_SCHEMA, "DROP SCHEMA"),
        ("CREATE TABLE ds.t (x INT64) PARTITION BY RANGE_BUCKET(x, GENERATE_ARRAY(0, 10, 1))", StatementKind.CREATE_TABLE, "CREATE TABLE"),
        ("DROP TABLE ds.t", StatementKind.DROP_TABLE, "DROP TABLE"),
        ("ALTER TABLE ds.t ADD COLUMN y INT64", StatementKind.ALTER_TABLE, "ALTER TABLE"),
        ("CREATE VIEW ds.v AS SELECT 1 AS x", StatementKind.CREATE_VIEW, "CREATE VIEW"),
        ("DROP VIEW ds.v", StatementKind.DROP_VIEW, "DROP VIEW"),
        ("CREATE MATERIALIZED VIEW ds.m AS SELECT 1 AS x", StatementKind.CREATE_MATERIALIZED_VIEW, "CREATE VIEW"),
        ("DROP MATERIALIZED VIEW ds.m", StatementKind.DROP_MATERIALIZED_VIEW, "DROP VIEW"),
        ("CREATE TEMP FUNCTION f(x INT64) AS (x + 1)", StatementKind.CREATE_FUNCTION, "CREATE FUNCTION"),
        ("DROP FUNCTION ds.f", StatementKind.DROP_FUNCTION, "DROP FUNCTION"),
        ("CREATE MODEL ds.m OPTIONS (model_type = 'linear_reg') AS SELECT 1 AS label", StatementKind.CREATE_MODEL, "CREATE MODEL"),
        ("DROP MODEL ds.m", StatementKind.DROP_MODEL, "DROP MODEL"),
    ],
)
def test_a_statement_has_its_kind_and_verb(sql, kind, verb):
    parser = ScriptParser(sql, DIALECTS["bigquery"])
    [node] = parser.nodes()
    assert node_kind(node) is None
    planned = plan(parser.parse_statement(node))
    assert (planned.kind, planned.verb) == (kind, verb)


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DECLARE x INT64 DEFAULT 1", StatementKind.DECLARE),
        ("SET @@dataset_id = 'ds'", StatementKind.SET),
        ("BEGIN SELECT 1; END", StatementKind.BLOCK),
        ("IF TRUE THEN SELECT 1; END IF", StatementKind.BLOCK),
        ("LOOP BREAK; END LOOP", StatementKind.BLOCK),
        ("CREATE PROCEDURE ds.p() BEGIN SELECT 1; END", StatementKind.CREATE_PROCEDURE),
        ("CALL ds.p()", StatementKind.CALL),
        ("EXECUTE IMMEDIATE 'SELECT 1'", StatementKind.EXECUTE_IMMEDIATE),
        ("RAISE USING MESSAGE = 'x'", StatementKind.RAISE),
        ("ASSERT TRUE", StatementKind.ASSERT),
        ("RETURN", StatementKind.RETURN),
    ],
)
def test_a_procedural_statement_is_known_by_its_node(sql, kind):
    [found] = kinds_of(sql)
    assert found is kind and kind in PROCEDURAL


def test_every_word_that_starts_a_procedural_statement_has_its_kind():
    assert set(PROCEDURAL_VERB_KINDS) == PROCEDURAL_VERBS
    assert set(PROCEDURAL_VERB_KINDS.values()) <= PROCEDURAL


def test_only_the_engines_own_statements_pass_through():
    assert kinds_of("COPY ds.t TO 'out.csv'; CREATE INDEX i ON ds.t (x)", dialect="duckdb") == [
        StatementKind.ENGINE_NATIVE,
        StatementKind.ENGINE_NATIVE,
    ]
