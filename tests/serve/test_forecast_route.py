"""POST /v1/models/<name>:forecast: ML.FORECAST's rows over HTTP, with the predict route's conventions
(token, {error, hint}, body limit, versions and aliases)."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlml
from sqlml.serve.app import create_app
from sqlml.serve.middleware import MAX_BODY_BYTES
from sqlml.serve.models import ModelSet

# auto_arima_max_order=1: the route serves whatever model ML.FORECAST reads, and the smaller order
# search trains each of the three models in about a quarter of the default's time.
CREATE = (
    "CREATE OR REPLACE MODEL ds.f OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='v', "
    "time_series_id_col='store', horizon=8, auto_arima_max_order=1) AS SELECT store, day, v * {scale} AS v FROM ds.s"
)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast_route")
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0) as connection:
        connection.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.s AS SELECT IF(i % 2 = 0, 'north', 'south') AS store, "
            "DATE '2024-01-01' + CAST(DIV(i, 2) AS INTEGER) AS day, 20 + 0.2 * i + 3 * SIN(i * PI() / 7) + (i * 37 % 11) / 10.0 AS v "
            "FROM range(100) AS t(i)"
        )
        connection.query(CREATE.format(scale=1))
        connection.query(CREATE.format(scale=2))
        connection.query("ALTER MODEL `ds.f@1` SET OPTIONS(version_aliases=['production'])")
        connection.query(
            "CREATE MODEL ds.x OPTIONS(model_type='ARIMA_PLUS_XREG', time_series_timestamp_col='day', time_series_data_col='v', horizon=5, auto_arima_max_order=1) "
            "AS SELECT day, v - 4 * price AS v, price FROM (SELECT day, v, 1 + (EXTRACT(DAY FROM day) % 4) / 2 AS price FROM ds.s "
            "WHERE store = 'north')"
        )
        connection.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['v']) AS SELECT i, v FROM (SELECT i, i * 2.0 AS v FROM range(30) AS t(i))")
        yield connection


@pytest.fixture
def client(con):
    models = ModelSet(con.models, ["ds.f"], refresh_seconds=60)
    yield TestClient(create_app(models, con.models, token="s3cret"), headers={"authorization": "Bearer s3cret"})
    models.close()


def _sql_rows(con, name: str, settings: str, where: str = "") -> list[dict]:
    return con.query(f"SELECT * FROM ML.FORECAST(MODEL {name}, STRUCT({settings})) {where}").arrow().to_pylist()


def _same_rows(got: list[dict], expected: list[dict]) -> None:
    assert [list(row) for row in got] == [list(row) for row in expected]  # the same columns, in ML.FORECAST's order
    for answered, wanted in zip(got, expected):
        assert pd.Timestamp(answered["forecast_timestamp"]) == pd.Timestamp(wanted["forecast_timestamp"])
        for column, value in wanted.items():
            if column != "forecast_timestamp":
                assert answered[column] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), column


def test_forecast_answers_exactly_what_ml_forecast_does(con, client):
    response = client.post("/v1/models/ds.f:forecast", json={"horizon": 5, "confidence_level": 0.8})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["model_version"], body["request_id"]) == ("ds.f", 2, response.headers["x-request-id"])
    _same_rows(body["forecasts"], _sql_rows(con, "ds.f", "5 AS horizon, 0.8 AS confidence_level"))
    defaults = client.post("/v1/models/ds.f:forecast", json={}).json()["forecasts"]
    _same_rows(defaults, _sql_rows(con, "ds.f", "3 AS horizon"))  # ML.FORECAST's defaults: 3 steps, 0.95
    assert {row["confidence_level"] for row in defaults} == {0.95}


def test_ids_pick_series_and_versions_and_aliases_are_served(con, client):
    south = client.post("/v1/models/ds.f:forecast", json={"horizon": 2, "ids": [{"STORE": "south"}]}).json()["forecasts"]
    _same_rows(south, _sql_rows(con, "ds.f", "2 AS horizon", "WHERE store = 'south'"))
    for name in ("ds.f@1", "ds.f@production"):
        body = client.post(f"/v1/models/{name}:forecast", json={"horizon": 4}).json()
        assert body["model_version"] == 1
        _same_rows(body["forecasts"], _sql_rows(con, f"`{name}`", "4 AS horizon"))
    described = client.get("/v1/models/ds.f").json()
    assert described["model_type"] == "ARIMA_PLUS" and described["features"] == []
    assert described["time_series"] == {"timestamp_col": "day", "data_col": "v", "id_cols": ["store"], "horizon": 8, "series": 2}
    assert "/v1/models/{name}:forecast" in client.get("/openapi.json").json()["paths"]


def test_an_xreg_model_forecasts_with_the_future_regressors_sent(con, client):
    future = [{"day": f"2024-02-{day}", "price": 1.0 + day % 4 / 2} for day in (20, 21, 22, 23)]
    response = client.post("/v1/models/ds.x:forecast", json={"horizon": 4, "confidence_level": 0.9, "instances": future})
    assert response.status_code == 200, response.text
    rows = " UNION ALL ".join(f"SELECT DATE '{row['day']}' AS day, {row['price']} AS price" for row in future)
    expected = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.x, STRUCT(4 AS horizon, 0.9 AS confidence_level), ({rows}))").arrow()
    _same_rows(response.json()["forecasts"], expected.to_pylist())


@pytest.mark.parametrize(
    ("path", "body", "status", "error", "hint"),
    [
        ("ds.f", {"horizon": 9}, 400, "The horizon must be between 1 and the model's horizon (8). Got 9 instead.",
         "Ask for fewer steps, or train the model with a larger horizon option."),
        ("ds.f", {"horizon": 0}, 422, "The request body is not valid: body.horizon: Input should be greater than or equal to 1",
         'Send {"horizon": n, "confidence_level": c} (both optional) with Content-Type: application/json.'),
        ("ds.f", {"confidence_level": 1.0}, 422, "The request body is not valid: body.confidence_level: Input should be less than 1", None),
        ("ds.f", {"ids": [{"region": "north"}]}, 400, "ids[0] names the columns region; the model's id columns are store.",
         "Give each series as an object of every id column's value: {'store': …}."),
        ("ds.lin", {}, 400, "ds.lin is a LINEAR_REG model; :forecast serves forecasting models (ARIMA_PLUS, ARIMA_PLUS_XREG).",
         "Ask :predict of it."),
        ("ds.f", {"instances": [{"day": "2024-03-01"}]}, 400, "ds.f has no external regressors, so its forecasts take no instances.",
         "Leave instances out."),
        ("ds.x", {"horizon": 2}, 400, "ds.x is an ARIMA_PLUS_XREG model: its forecasts need the future values of its external regressors.", None),
        ("ds.x", {"horizon": 3, "instances": [{"day": "2024-02-20", "price": 2.0}, {"day": "2024-02-21", "price": 2.5}]}, 400,
         "2024-02-22", None),
        ("ds.x", {"horizon": 1, "instances": [{"day": "someday", "price": 2.0}]}, 400, "The day values of the instances are not timestamps", None),
        ("ds.nope", {}, 404, "Model 'ds.nope' was not found", None),
        ("ds.f@7", {}, 404, "version 7", None),
    ],
)  # fmt: skip
def test_bad_requests_are_json_errors_naming_the_problem(client, path, body, status, error, hint):
    response = client.post(f"/v1/models/{path}:forecast", json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "hint"} and error in response.json()["error"]
    if hint is not None:
        assert response.json()["hint"] == hint


def test_predict_on_a_forecasting_model_points_to_forecast_and_http_conventions_hold(con):
    models = ModelSet(con.models, refresh_seconds=60)
    client = TestClient(create_app(models, con.models, token="s3cret"))
    assert client.post("/v1/models/ds.f:forecast", json={}).status_code == 401
    auth = {"authorization": "Bearer s3cret"}
    predicted = client.post("/v1/models/ds.f:predict", json={"instances": [{"day": "2024-03-01"}]}, headers=auth)
    assert predicted.status_code == 400
    assert predicted.json()["error"].startswith("ds.f is a ARIMA_PLUS model, which ML.PREDICT does not support; it takes LINEAR_REG")
    assert predicted.json()["hint"] == 'Ask :forecast of a ARIMA_PLUS model, with {"horizon": n, "confidence_level": c}.'
    too_big = client.post("/v1/models/ds.f:forecast", content=b"{}", headers={**auth, "content-type": "application/json", "content-length": str(MAX_BODY_BYTES + 1)})
    assert too_big.status_code == 413
    assert client.get("/v1/models/ds.f:forecast", headers=auth).status_code == 405
    models.close()


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.text(max_size=3), scalars, max_size=2))
bodies = st.fixed_dictionaries({}, optional={
    "horizon": st.one_of(st.none(), st.integers(-3, 12)),
    "confidence_level": st.floats(-1, 2, allow_nan=False),
    "ids": st.lists(st.dictionaries(st.sampled_from(["store", "STORE", "day", "x"]), values, max_size=2), max_size=3),
    "instances": st.lists(st.fixed_dictionaries({"day": st.one_of(st.dates().map(str), st.text(max_size=10), st.integers())},
                                                 optional={"price": values, "v": values}), max_size=6),
})  # fmt: skip


@given(name=st.sampled_from(["ds.f", "ds.x", "ds.f@production"]), body=bodies)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_generated_body_makes_the_forecast_route_fail(client, name, body):
    response = client.post(f"/v1/models/{name}:forecast", json=body)
    assert response.status_code in (200, 400, 422), (body, response.text)
    assert set(response.json()) == ({"forecasts", "model", "model_version", "request_id"} if response.status_code == 200 else {"error", "hint"})
