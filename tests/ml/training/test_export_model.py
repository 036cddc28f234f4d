"""EXPORT MODEL writes one folder format, and says so (with why no XGBoost Booster) when asked for another."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

import sqlml


@pytest.fixture
def con(tmp_path):
    with sqlml.connect(":memory:", tmp_path / "models") as connection:
        connection.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x, CAST(range % 7 AS DOUBLE) AS z, "
            "range * 0.5 + range % 7 AS y FROM range(200)"
        )
        connection.query("CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['y'], max_iterations=5) AS SELECT x, z, y FROM ds.t")
        yield connection


def test_trained_trees_are_exported_as_lightgbm_text_that_predicts_what_ml_predict_does(con, tmp_path):
    con.query(f"EXPORT MODEL ds.bt OPTIONS(uri='{tmp_path / 'out'}')")
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "booster.txt" in files and not [name for name in files if name.endswith((".bst", ".ubj"))]
    booster = lgb.Booster(model_file=str(tmp_path / "out" / "booster.txt"))
    rows = con.query("SELECT x, z FROM ds.t ORDER BY x").df()
    predicted = con.query("SELECT predicted_y FROM ML.PREDICT(MODEL ds.bt, (SELECT x, z FROM ds.t ORDER BY x))").df()["predicted_y"]
    # boosted trees standardize nothing: the booster reads the columns as they are
    np.testing.assert_array_equal(booster.predict(rows.values), predicted.to_numpy())


@pytest.mark.parametrize("value", ["XGBOOST", "bst"])
def test_asking_for_a_format_says_what_is_written_and_why_no_xgboost_booster(con, tmp_path, value):
    with pytest.raises(sqlml.InvalidOptionError, match=(
        rf"(?s)EXPORT MODEL has no format option \(got format='{value}'\): it writes one folder: manifest.json, the model's own "
        r"files \(LightGBM's booster.txt for boosted trees and random forests, .*\) and model.onnx where the model has an ONNX form\. "
        r"It writes no XGBoost Booster file \(BigQuery's model.bst\) for trained trees: .*would not predict exactly what ML.PREDICT does"
        r".*Remove format; load booster.txt with lightgbm.Booster"
    )):  # fmt: skip
        con.query(f"EXPORT MODEL ds.bt OPTIONS(uri='{tmp_path / 'out'}', format='{value}')")
    assert not (tmp_path / "out").exists()
