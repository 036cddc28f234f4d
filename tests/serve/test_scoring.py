"""The server scores through the prediction runtime ML.PREDICT and ML.EXPLAIN_PREDICT use
(:mod:`sqlml.ml.runtime`): its rows are theirs, for trained and imported models alike."""

from __future__ import annotations

import ast
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from fastapi.testclient import TestClient

import sqlml
import sqlml.serve
from sqlml.serve import scoring
from sqlml.serve.app import create_app
from sqlml.serve.models import ModelSet

INSTANCES = [{"a": 3.0, "b": 1.0}, {"a": 150.0, "b": 6.0, "id": 9}, {"a": None, "b": 2.0}]
ROWS = "SELECT 3.0 AS a, 1.0 AS b, CAST(NULL AS INT64) AS id UNION ALL SELECT 150.0, 6.0, 9 UNION ALL SELECT NULL, 2.0, NULL"


@pytest.fixture
def imported(tmp_path):
    """A connection whose store holds ds.lgb, a LightGBM text model imported from a file."""
    with sqlml.connect(":memory:", tmp_path / "models") as con:
        a = np.arange(200, dtype=float)
        b = a % 7
        booster = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(np.column_stack([a, b]), a * 2 + b, feature_name=["a", "b"]), 10)
        booster.save_model(str(tmp_path / "booster.txt"))
        con.query(f"CREATE SCHEMA ds; CREATE MODEL ds.lgb OPTIONS(model_type='LIGHTGBM', model_path='{tmp_path / 'booster.txt'}')")
        yield con, booster


def test_an_imported_model_is_served_exactly_as_ml_predict_scores_it(imported):
    con, booster = imported
    models = ModelSet(con.models, ["ds.lgb"], refresh_seconds=60)
    response = TestClient(create_app(models, con.models)).post("/v1/models/ds.lgb:predict", json={"instances": INSTANCES, "echo_inputs": True})
    models.close()
    assert response.status_code == 200, response.text
    served = response.json()["predictions"]
    expected = con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.lgb, ({ROWS}))").arrow().to_pylist()
    assert [list(row) for row in served] == [list(row) for row in expected] == [["predicted_label", "a", "b", "id"]] * 3
    assert [row["predicted_label"] for row in served] == pytest.approx([row["predicted_label"] for row in expected], abs=1e-12)
    assert [row["predicted_label"] for row in served[:2]] == pytest.approx(booster.predict(np.array([[3.0, 1.0], [150.0, 6.0]])), abs=1e-9)


def test_served_explanations_are_ml_explain_predict_rows(shared_store):
    con, _ = shared_store
    model = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    served = model.get("ds.m")
    instances = [{"income": 50, "sex": "female"}, {"income": 90, "sex": "male"}]
    rows = scoring.explain(served.model, scoring.instances_batch(served.model, instances), top_k=2)
    model.close()
    expected = con.query(
        "SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.m, (SELECT 50 AS income, 'female' AS sex UNION ALL SELECT 90, 'male'), "
        "STRUCT(2 AS top_k_features))"
    ).arrow().to_pylist()
    assert [list(row) for row in rows] == [list(row) for row in expected]
    for got, want in zip(rows, expected):
        assert got["predicted_approved"] == want["predicted_approved"]
        assert [a["feature"] for a in got["top_feature_attributions"]] == [a["feature"] for a in want["top_feature_attributions"]]
        assert got["prediction_value"] == pytest.approx(want["prediction_value"], abs=1e-12)
        assert got["baseline_prediction_value"] == pytest.approx(want["baseline_prediction_value"], abs=1e-12)


def test_the_server_reaches_models_only_through_the_runtime():
    # issue 16: the server imported ML.PREDICT's SQL-facing module and repeated its imported-model branch
    imported = set()
    for path in Path(sqlml.serve.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            imported |= {f"{path.name} imports {name}" for name in names if name.startswith("sqlml.ml.")}
    assert imported and not {line for line in imported if not line.split(" imports ")[1].startswith(("sqlml.ml.runtime.", "sqlml.ml.models."))}


def test_the_per_request_path_refuses_a_fraction_for_an_int64_column_as_the_fast_path_does(shared_store):
    con, _ = shared_store
    model = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    served = model.get("ds.m")
    try:
        assert scoring.instances_batch(served.model, [{"income": 50.0, "sex": "female"}]).column("income").to_pylist() == [50]
        with pytest.raises(sqlml.InvalidModelInputError, match=r"^The column income has a value that is not int64: 50\.5 is not a whole number\."):
            scoring.instances_batch(served.model, [{"income": 50.0, "sex": "female"}, {"income": 50.5, "sex": "male"}])
    finally:
        model.close()
