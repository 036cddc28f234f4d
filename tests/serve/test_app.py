"""The prediction API in process: ML.PREDICT's answers, validation, auth, live aliases, splits, logging."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from sqlml.errors import ModelError
from sqlml.ml.models.catalog import supporting
from sqlml.serve import scoring
from sqlml.serve.app import create_app
from sqlml.serve.middleware import MAX_BODY_BYTES
from sqlml.serve.models import ModelSet, parse_split
from sqlml.serve.prediction_log import PredictionLog

INSTANCES = [{"income": 50, "sex": "female"}, {"income": 90, "sex": "male", "id": 7}, {"income": None, "sex": "other"}]


def client_for(con, **settings) -> tuple[TestClient, ModelSet]:
    models = ModelSet(con.models, ["ds.m"], settings.pop("splits", None), refresh_seconds=settings.pop("refresh", 0.2))
    return TestClient(create_app(models, con.models, **settings)), models


def test_predict_answers_exactly_what_ml_predict_does(shared_store):
    con, _ = shared_store
    client, models = client_for(con)
    response = client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES, "echo_inputs": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "ds.m" and body["model_version"] == 1 and body["request_id"] == response.headers["x-request-id"]
    expected = con.query(
        "SELECT * FROM ML.PREDICT(MODEL ds.m, (SELECT 50 AS income, 'female' AS sex, CAST(NULL AS INT64) AS id "
        "UNION ALL SELECT 90, 'male', 7 UNION ALL SELECT NULL, 'other', NULL))"
    ).arrow().to_pylist()
    assert [list(p) for p in body["predictions"]] == [list(e) for e in expected]  # same columns, same order
    for got, want in zip(body["predictions"], expected):
        assert got["predicted_approved"] == want["predicted_approved"]
        assert [p["prob"] for p in got["predicted_approved_probs"]] == pytest.approx([p["prob"] for p in want["predicted_approved_probs"]], abs=1e-12)
    explained = client.post("/v1/models/ds.m@1:explain", json={"instances": INSTANCES[:1], "top_k_features": 1}).json()
    row = explained["predictions"][0]
    assert len(row["top_feature_attributions"]) == 1
    assert row["baseline_prediction_value"] + row["top_feature_attributions"][0]["attribution"] == pytest.approx(row["prediction_value"], abs=0.5)
    models.close()


def test_every_bad_request_is_a_4xx_json_error_naming_the_problem(shared_store):
    con, _ = shared_store
    client, models = client_for(con)
    cases = [
        ({"instances": [{"income": "abc", "sex": "f"}]}, 400, "The column income has a value that is not int64"),
        ({"instances": [{"sex": "f"}]}, 400, "The instances have no column income"),
        ({"instances": []}, 422, "List should have at least 1 item"),
        ({"rows": []}, 422, "instances"),
        ({"instances": [5]}, 422, "body.instances.0: Input should be an object"),
    ]
    for body, status, message in cases:
        response = client.post("/v1/models/ds.m:predict", json=body)
        assert response.status_code == status and message in response.json()["error"], (body, response.text)
    assert client.post("/v1/models/ds.nope:predict", json={"instances": [{}]}).status_code == 404
    unknown_alias = client.post("/v1/models/ds.m@production:predict", json={"instances": INSTANCES})
    assert unknown_alias.status_code == 404 and "no alias 'production'" in unknown_alias.json()["error"]
    malformed = client.post("/v1/models/ds.m:predict", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and "JSON" in malformed.json()["error"]
    huge = client.post("/v1/models/ds.m:predict", content=b"x", headers={"content-length": str(MAX_BODY_BYTES + 1), "content-type": "application/json"})
    assert huge.status_code == 413
    models.close()


def test_a_model_type_the_sql_function_refuses_is_refused_by_its_route_too(store):
    con, _ = store
    con.query("CREATE MODEL ds.k OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT income FROM ds.t")
    con.query("CREATE MODEL ds.tr TRANSFORM(income * 2 AS x) OPTIONS(model_type='transform_only') AS SELECT income FROM ds.t")
    client, models = client_for(con)
    with pytest.raises(ModelError, match=r"ML\.EXPLAIN_PREDICT does not support KMEANS models"):
        con.query("SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.k, (SELECT 5 AS income))")
    explained = client.post("/v1/models/ds.k:explain", json={"instances": [{"income": 5}]})
    assert explained.status_code == 400 and explained.json() == {
        "error": f"ds.k is a KMEANS model, which ML.EXPLAIN_PREDICT does not support; it takes {', '.join(supporting('EXPLAIN_PREDICT'))} models.",
        "hint": "Ask :predict of a KMEANS model.",
    }  # it was a 500: the explanation code ran on a model without a label
    assert {"LINEAR_REG", "LOGISTIC_REG", "BOOSTED_TREE_CLASSIFIER", "RANDOM_FOREST_REGRESSOR"} <= set(supporting("EXPLAIN_PREDICT"))
    predicted = client.post("/v1/models/ds.k:predict", json={"instances": [{"income": 5}, {"income": 95}], "echo_inputs": True})
    assert predicted.status_code == 200
    assert predicted.json()["predictions"] == con.query("SELECT * FROM ML.PREDICT(MODEL ds.k, (SELECT 5 AS income UNION ALL SELECT 95))").arrow().to_pylist()
    with pytest.raises(ModelError, match=r"ML\.PREDICT does not support TRANSFORM_ONLY models"):
        con.query("SELECT * FROM ML.PREDICT(MODEL ds.tr, (SELECT 5 AS income))")
    transform_only = client.post("/v1/models/ds.tr:predict", json={"instances": [{"income": 5}]})
    assert transform_only.status_code == 400 and transform_only.json()["error"].startswith(
        "ds.tr is a TRANSFORM_ONLY model, which ML.PREDICT does not support; it takes LINEAR_REG, LOGISTIC_REG, "
    )
    models.close()


def test_a_struct_column_is_taken_as_ml_predict_takes_it(store):
    con, _ = store
    con.query("CREATE MODEL ds.s OPTIONS(model_type='linear_reg', input_label_cols=['income']) AS SELECT STRUCT(i AS a, MOD(i, 7) AS b) AS s, income FROM ds.t")
    client, models = client_for(con)
    answer = client.post("/v1/models/ds.s:predict", json={"instances": [{"s": {"a": 3, "b": 4}}], "echo_inputs": True})
    assert answer.status_code == 200, answer.text  # was refused: "no column s_a"
    assert answer.json()["predictions"] == con.query("SELECT * FROM ML.PREDICT(MODEL ds.s, (SELECT STRUCT(3 AS a, 4 AS b) AS s))").arrow().to_pylist()
    missing = client.post("/v1/models/ds.s:predict", json={"instances": [{"s": {"a": 3}}]})
    assert missing.status_code == 400 and missing.json() == {
        "error": "The instances have no column s_b, which the model was trained on.",
        "hint": "Give every instance a 's_b' field (null for a missing value).",
    }
    models.close()


def test_bearer_token_is_required_when_configured(shared_store):
    con, _ = shared_store
    client, models = client_for(con, token="s3cret")
    assert client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES}).status_code == 401
    wrong = client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES}, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    right = client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES}, headers={"authorization": "Bearer s3cret"})
    assert right.status_code == 200
    assert client.get("/healthz").status_code == 200  # probes stay open
    models.close()


def test_listing_and_describing_models(shared_store):
    con, _ = shared_store
    client, models = client_for(con)
    listed = client.get("/v1/models").json()["models"]
    assert listed == [{"name": "ds.m", "versions": [1], "aliases": {"default": 1}, "description": None}]
    described = client.get("/v1/models/ds.m").json()
    assert described["features"] == [{"name": "income", "type": "int64"}, {"name": "sex", "type": "string"}]
    assert described["label"]["name"] == "approved" and "roc_auc" in described["metrics"]
    assert client.get("/readyz").json() == {"status": "ready", "models": ["ds.m"]}
    assert "/v1/models/{name}:predict" in client.get("/openapi.json").json()["paths"]
    models.close()


def test_a_moved_alias_is_served_within_seconds_without_restart(store, retrain):
    con, _ = store
    con.query("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['production'])")
    models = ModelSet(con.models, ["ds.m@production"], refresh_seconds=0.2)
    client = TestClient(create_app(models, con.models))
    assert client.post("/v1/models/ds.m@production:predict", json={"instances": INSTANCES}).json()["model_version"] == 1
    retrain(con, 3)
    con.query("ALTER MODEL `ds.m@2` SET OPTIONS(version_aliases=['production'])")
    deadline = time.monotonic() + 5
    version = 1
    while version != 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        version = client.post("/v1/models/ds.m@production:predict", json={"instances": INSTANCES}).json()["model_version"]
    assert version == 2
    models.close()


def test_traffic_split_serves_both_versions_and_says_which(store, retrain):
    con, _ = store
    retrain(con, 3)
    con.query("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['production'])")
    con.query("ALTER MODEL `ds.m@2` SET OPTIONS(version_aliases=['staging'])")
    client, models = client_for(con, splits=dict([parse_split("ds.m@production=70,ds.m@staging=30")]))
    answered = [client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES[:1]}).json() for _ in range(200)]
    versions = [a["model_version"] for a in answered]
    assert {a["model"] for a in answered} == {"ds.m@production", "ds.m@staging"}
    assert 0.55 < versions.count(1) / len(versions) < 0.85
    models.close()


def test_served_predictions_are_logged_to_the_warehouse(store):
    con, _ = store
    log = PredictionLog(con, "ds.served")
    client, models = client_for(con, prediction_log=log)
    client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES})
    log.close()
    rows = con.query("SELECT model, model_version, JSON_VALUE(inputs, '$.sex') AS sex, latency_ms > 0 AS timed FROM ds.served ORDER BY sex").fetchall()
    assert rows == [("ds.m", 1, "female", True), ("ds.m", 1, "male", True), ("ds.m", 1, "other", True)]
    # served traffic can be checked for skew against the training rows
    skew = con.query(
        "SELECT input, is_anomaly FROM ML.VALIDATE_DATA_SKEW(MODEL ds.m, (SELECT CAST(JSON_VALUE(inputs, '$.income') AS INT64) AS income, "
        "JSON_VALUE(inputs, '$.sex') AS sex FROM ds.served))"
    ).fetchall()
    assert dict(skew) == {"income": True, "sex": True}  # three odd requests look nothing like the training rows
    models.close()


def test_scoring_runs_off_the_event_loop_so_healthz_answers_during_a_large_prediction(shared_store, monkeypatch):
    con, _ = shared_store
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    app = create_app(models, con.models)
    scoring_started, finish_scoring = threading.Event(), threading.Event()
    real_predict = scoring.predict

    def slow_predict(model, batch, **settings):
        scoring_started.set()
        finish_scoring.wait(timeout=20)  # on the event loop, this would hold up every other request
        return real_predict(model, batch, **settings)

    monkeypatch.setattr(scoring, "predict", slow_predict)
    big = {"instances": [{"income": i % 100, "sex": "male"} for i in range(10_000)]}

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as client:
            prediction = asyncio.create_task(client.post("/v1/models/ds.m:predict", json=big))
            assert await anyio.to_thread.run_sync(scoring_started.wait, 20)
            health = await client.get("/healthz")
            answered_in_flight = not prediction.done() and not finish_scoring.is_set()
            finish_scoring.set()
            return health, answered_in_flight, await prediction

    health, answered_in_flight, prediction = asyncio.run(scenario())
    assert health.status_code == 200 and answered_in_flight
    assert prediction.status_code == 200 and len(prediction.json()["predictions"]) == 10_000
    models.close()


def test_every_error_has_the_error_and_hint_shape(shared_store, monkeypatch, caplog):
    con, _ = shared_store
    client, models = client_for(con)
    client = TestClient(client.app, raise_server_exceptions=False)
    not_found = client.get("/v1/nothing/here")
    assert not_found.status_code == 404 and not_found.json() == {"error": "There is no route /v1/nothing/here.", "hint": "The routes are listed at /openapi.json."}
    get_predict = client.get("/v1/models/ds.m:predict")
    assert get_predict.status_code == 405 and get_predict.headers["allow"] == "POST"
    assert get_predict.json() == {"error": "GET is not allowed on /v1/models/ds.m:predict.", "hint": "Use POST."}
    delete = client.delete("/v1/models")
    assert delete.status_code == 405 and delete.json()["error"] == "DELETE is not allowed on /v1/models." and delete.headers["allow"] == "GET"
    not_json = client.post("/v1/models/ds.m:predict", content=b'{"instances": [{}]}', headers={"content-type": "text/plain"})
    assert not_json.status_code == 422 and not_json.json()["error"].endswith("(the body was not sent as JSON)")
    unknown_version = client.get("/v1/models/ds.m@9")
    assert unknown_version.status_code == 404 and set(unknown_version.json()) == {"error", "hint"}

    def broken(model, *args, **settings):
        raise RuntimeError("a bug")

    monkeypatch.setattr(scoring, "predict", broken)  # a request scored by itself
    monkeypatch.setattr(scoring, "predict_batch", broken)  # requests scored in a micro-batch
    with caplog.at_level(logging.INFO, logger="sqlml.serve.access"):
        bug = client.post("/v1/models/ds.m:predict", json={"instances": INSTANCES}, headers={"x-request-id": "r-42"})
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == "sqlml.serve.access"]
    assert (access[-1]["request_id"], access[-1]["status"]) == ("r-42", 500)  # the access log says so too
    assert bug.status_code == 500 and bug.headers["x-request-id"] == "r-42"
    assert bug.json() == {"error": "The server failed to answer (request r-42).", "hint": "This is a bug in sqlml serve; report it with the server log of this request id."}
    for response in (not_found, get_predict, delete, not_json, unknown_version, bug):
        assert response.headers["content-type"] == "application/json" and set(response.json()) == {"error", "hint"}
    models.close()


def test_openapi_documents_the_error_shape_and_the_request_bodies(shared_store):
    con, _ = shared_store
    client, models = client_for(con)
    document = client.get("/openapi.json").json()
    predict = document["paths"]["/v1/models/{name}:predict"]["post"]
    assert predict["requestBody"]["content"]["application/json"]["schema"]["required"] == ["instances"]
    assert predict["responses"]["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "/v1/models/{name}" in document["paths"] and "HTTPValidationError" not in document["components"]["schemas"]
    models.close()
