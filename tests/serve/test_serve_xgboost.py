"""POST /v1/models/<m>:predict on an imported XGBOOST model: XGBoost's own predictions, with versions,
aliases and the predict route's JSON errors."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb
from fastapi.testclient import TestClient

import sqlml
from sqlml.serve.app import create_app
from sqlml.serve.models import ModelSet

NAMES = ["income", "age"]


def _booster(rounds: int) -> xgb.Booster:
    X = np.random.default_rng(rounds).normal(size=(300, 2)) * [20, 10] + [50, 40]
    return xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, (X[:, 0] + X[:, 1] > 90).astype(float), feature_names=NAMES), rounds)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve_xgboost")
    boosters = {1: _booster(3), 2: _booster(12)}
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        for version, booster in boosters.items():
            booster.save_model(str(folder / f"v{version}.ubj"))
            con.query(f"CREATE OR REPLACE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{folder / f'v{version}.ubj'}')")
        con.query("ALTER MODEL `ds.x@1` SET OPTIONS(version_aliases=['production'])")
        models = ModelSet(con.models, ["ds.x"], refresh_seconds=60)
        yield TestClient(create_app(models, con.models)), boosters
        models.close()


def test_predict_answers_xgboosts_own_predictions_for_each_version_and_alias(served):
    client, boosters = served
    instances = [{"income": 70.5, "age": 30, "id": 1}, {"income": None, "age": 55, "id": 2}, {"income": 40, "age": None, "id": 3}]
    X = np.array([[70.5, 30], [np.nan, 55], [40, np.nan]])
    for name, version in (("ds.x", 2), ("ds.x@1", 1), ("ds.x@production", 1), ("ds.x@2", 2)):
        response = client.post(f"/v1/models/{name}:predict", json={"instances": instances, "echo_inputs": True})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model_version"] == version
        assert [list(row) for row in body["predictions"]] == [["predicted_label", "income", "age", "id"]] * 3
        expected = boosters[version].predict(xgb.DMatrix(X, feature_names=NAMES)).astype(np.float64)
        assert [row["predicted_label"] for row in body["predictions"]] == expected.tolist()


def test_a_missing_or_non_numeric_column_is_a_400_naming_it(served):
    client, _ = served
    missing = client.post("/v1/models/ds.x:predict", json={"instances": [{"income": 50}]})
    assert missing.status_code == 400
    # checked before any row is scored, as for every model: the imported file's inputs are the model's columns
    assert missing.json() == {"error": "The instances have no column age, which the model was trained on.", "hint": "Give every instance a 'age' field (null for a missing value)."}
    text = client.post("/v1/models/ds.x:predict", json={"instances": [{"income": "high", "age": 3}]})
    assert text.status_code == 400 and text.json()["error"] == "The column income is string; the imported XGBoost model takes it as FLOAT64."
