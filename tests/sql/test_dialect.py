"""The Sqlml dialect parses and regenerates sqlml's syntax, and never falls back to Command."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from sqlml.sql.dialect import Sqlml, SqlmlDuckdb
from sqlml.sql.expressions import ML_FUNCTIONS, AlterModel, ExportModel, MLFunction

IDENTITY = [line for line in (Path(__file__).parent.parent / "fixtures" / "identity.sql").read_text().splitlines() if line.strip()]


def validate_identity(sql: str, write_sql: str | None = None, dialect=Sqlml) -> exp.Expression:
    """Parse ``sql``, check it regenerates as ``write_sql`` (default itself), return the tree."""
    tree = sqlglot.parse_one(sql, read=dialect)
    assert tree.sql(dialect=dialect) == (write_sql or sql)
    return tree


@pytest.mark.parametrize("sql", IDENTITY)
def test_identity_round_trip(sql, caplog):
    with caplog.at_level(logging.WARNING, logger="sqlglot"):
        tree = validate_identity(sql)
    assert not isinstance(tree, exp.Command), "fell back to an opaque Command"
    assert "unsupported syntax" not in caplog.text


def test_every_ml_function_parses_into_its_node():
    for name, node_type in ML_FUNCTIONS.items():
        first = "MODEL ds.m" if node_type.requires_model else "TABLE ds.t"
        tree = sqlglot.parse_one(f"SELECT * FROM ML.{name}({first})", read=Sqlml)
        call = tree.find(MLFunction)
        assert type(call) is node_type
        assert (call.model is not None) is node_type.requires_model


def test_ml_call_arguments_are_classified():
    call = sqlglot.parse_one(
        "SELECT * FROM ML.ROC_CURVE(MODEL ds.m, TABLE ds.t, GENERATE_ARRAY(0, 1, 0.5), STRUCT(1 AS trial_id))", read=Sqlml
    ).find(MLFunction)
    assert call.model.sql() == "ds.m"
    assert [type(a).__name__ for a in call.data_arguments] == ["Table"]
    assert call.settings.sql() == "STRUCT(1 AS trial_id)"
    assert [type(a).__name__ for a in call.other_arguments] == ["GenerateSeries"]


def test_versioned_model_names_keep_their_selector():
    call = validate_identity("SELECT * FROM ML.PREDICT(MODEL `ds.m@production`, TABLE ds.t)").find(MLFunction)
    assert [p.name for p in call.model.parts] == ["ds", "m@production"]


def test_bare_function_names_stay_ordinary_functions():
    tree = sqlglot.parse_one("SELECT EVALUATE(1), PREDICT(2)", read=Sqlml)
    assert tree.find(MLFunction) is None
    assert [type(e).__name__ for e in tree.expressions] == ["Anonymous", "Anonymous"]


def test_model_keyword_is_required():
    with pytest.raises(sqlglot.errors.ParseError, match=r"Expected MODEL <name> as the first argument of ML.EVALUATE"):
        sqlglot.parse_one("SELECT * FROM ML.EVALUATE(ds.m)", read=Sqlml)


def test_model_ddl_nodes():
    alter = sqlglot.parse_one("ALTER MODEL IF EXISTS ds.m SET OPTIONS(description='d')", read=Sqlml)
    assert isinstance(alter, AlterModel) and alter.args["exists"] is True
    export = sqlglot.parse_one("EXPORT MODEL ds.m OPTIONS(uri='x')", read=Sqlml)
    assert isinstance(export, ExportModel)
    create = sqlglot.parse_one("CREATE MODEL ds.m OPTIONS(model_type='kmeans') AS SELECT 1 AS x", read=Sqlml)
    assert create.kind == "MODEL"


def test_duckdb_dialect_parses_the_ml_surface():
    tree = sqlglot.parse_one("SELECT * FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t) WHERE x::INT > 1", read=SqlmlDuckdb)
    assert tree.find(MLFunction) is not None
    assert isinstance(sqlglot.parse_one("EXPORT MODEL ds.m OPTIONS(uri='x')", read=SqlmlDuckdb), ExportModel)


def test_sqlglot_is_pure_python():
    import sqlglot.parser

    assert sqlglot.parser.__file__.endswith(".py")


@pytest.mark.parametrize("opening", ["STRUCT(", "DATE(", "NUMERIC(", "JSON("])
def test_nested_type_named_calls_parse_in_linear_work(opening, monkeypatch):
    # Each STRUCT( / DATE( … is tried as a type with parameters before it is read as a call; a
    # failed try used to be repeated at every enclosing level, 2^depth tries in all.
    from sqlglot.dialects.bigquery import BigQuery

    tries = []
    original = BigQuery.Parser._parse_types  # sqlglot's own, under sqlml's mixin
    monkeypatch.setattr(BigQuery.Parser, "_parse_types", lambda self, *a, **k: tries.append(1) or original(self, *a, **k))

    def count(levels: int) -> int:
        tries.clear()
        sqlglot.parse_one(f"SELECT {opening * levels}'2024-01-01'{')' * levels}", read=Sqlml)
        return len(tries)

    assert count(16) < 2.5 * count(8)


@pytest.mark.parametrize(("opening", "closing"), [("SAFE.ABS(", ")"), ("ML.BUCKETIZE(", ", [1, 2])"), ("NET.HOST(", ")")])
def test_nested_prefixed_calls_parse_in_linear_work(opening, closing, monkeypatch):
    # sqlglot reads SAFE.f( … ) as an anonymous call and then again with f's parser, at every level
    from sqlglot.dialects.bigquery import BigQuery

    calls = []
    original = BigQuery.Parser._parse_function
    monkeypatch.setattr(BigQuery.Parser, "_parse_function", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))

    def count(levels: int) -> int:
        calls.clear()
        tree = sqlglot.parse_one(f"SELECT {opening * levels}1{closing * levels}", read=Sqlml)
        assert tree.sql(dialect=Sqlml) == f"SELECT {opening * levels}1{closing * levels}"
        return len(calls)

    assert count(16) < 2.5 * count(8)
