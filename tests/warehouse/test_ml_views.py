"""Views whose query calls ML functions: evaluated when queried, with the model as it is then."""

from __future__ import annotations

import pytest

import sqlml

LINEAR = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y{shift} AS y FROM ds.t"


@pytest.fixture
def scored(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT x, 2 * x + 1 AS y FROM UNNEST(GENERATE_ARRAY(1, 40)) AS x")
    con.query(LINEAR.format(shift=""))
    con.query("CREATE VIEW ds.scored AS SELECT x, predicted_y FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)")
    return con


def mean_prediction(con, view: str = "ds.scored") -> float:
    return con.query(f"SELECT AVG(predicted_y) FROM {view}").scalar()


def test_view_over_ml_predict_follows_the_current_model(scored):
    assert mean_prediction(scored) == pytest.approx(2 * 20.5 + 1, abs=1e-6)
    scored.query(LINEAR.format(shift=" + 10"))
    assert mean_prediction(scored) == pytest.approx(2 * 20.5 + 11, abs=1e-6)


def test_ml_view_composes_like_a_table(scored):
    rows = scored.query(
        "SELECT s.x, ROUND(s.predicted_y, 6) AS p, t.y FROM ds.scored AS s JOIN ds.t AS t ON s.x = t.x WHERE s.x <= 2 ORDER BY s.x"
    ).arrow().to_pylist()
    assert rows == [{"x": 1, "p": 3.0, "y": 3}, {"x": 2, "p": 5.0, "y": 5}]
    scored.query("CREATE VIEW ds.high AS SELECT * FROM ds.scored WHERE predicted_y > 70")
    assert scored.query("SELECT COUNT(*) FROM ds.high").scalar() == 6
    scored.query("CREATE TABLE ds.snapshot AS SELECT * FROM ds.high")
    assert scored.query("SELECT MIN(x) FROM ds.snapshot").scalar() == 35
    scored.query(LINEAR.format(shift=" + 10"))
    assert scored.query("SELECT COUNT(*) FROM ds.high").scalar() == 11  # the view over the view follows too


def test_ml_view_columns_are_in_information_schema(scored):
    columns = scored.query(
        "SELECT column_name, data_type FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'scored' ORDER BY ordinal_position"
    ).fetchall()
    assert columns == [("x", "INT64"), ("predicted_y", "FLOAT64")]
    assert scored.query("SELECT table_type FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = 'scored'").scalar() == "VIEW"
    definition = scored.query("SELECT view_definition FROM ds.INFORMATION_SCHEMA.VIEWS WHERE table_name = 'scored'").scalar()
    assert definition == "SELECT x, predicted_y FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)"


def test_view_over_ml_evaluate(scored):
    scored.query("CREATE VIEW ds.quality AS SELECT r2_score FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t)")
    assert scored.query("SELECT r2_score FROM ds.quality").scalar() == pytest.approx(1.0, abs=1e-9)


def test_replacing_dropping_and_if_not_exists(scored):
    scored.query("CREATE VIEW IF NOT EXISTS ds.scored AS SELECT 1 AS x, 2.0 AS predicted_y")
    assert scored.query("SELECT COUNT(*) FROM ds.scored").scalar() == 40
    scored.query("CREATE OR REPLACE VIEW ds.scored AS SELECT 1 AS x, 2.0 AS predicted_y")
    assert scored.query("SELECT COUNT(*) FROM ds.scored").scalar() == 1
    scored.query("CREATE OR REPLACE VIEW ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.m, TABLE ds.t)")
    scored.query("DROP VIEW ds.scored")
    with pytest.raises(sqlml.Error, match="ds.scored"):
        scored.query("SELECT * FROM ds.scored")


def test_a_view_whose_model_was_dropped_names_the_model(scored):
    scored.query("DROP MODEL ds.m")
    with pytest.raises(sqlml.Error, match="Model 'ds.m' was not found"):
        scored.query("SELECT * FROM ds.scored")
