"""POST /v1/models/<name>:recommend: ML.RECOMMEND's rows over HTTP, with the other routes' conventions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import sqlml
from sqlml.ml.recommendation import recommend as blocks
from sqlml.ml.runtime import recommend as runtime
from sqlml.serve.app import create_app
from sqlml.serve.models import ModelSet


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recommend_route")
    with sqlml.connect(folder / "warehouse", folder / "models", idle_release=0) as connection:
        connection.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.r AS SELECT u AS user_id, 'm' || i AS item, CAST(MOD(u * 7 + i * 3, 5) + 1 AS FLOAT64) AS rating, "
            "DATE '2024-01-01' + CAST(u AS INTEGER) AS day FROM UNNEST(GENERATE_ARRAY(1, 12)) AS u, UNNEST(GENERATE_ARRAY(1, 6)) AS i WHERE MOD(u + i, 3) != 0"
        )
        connection.query("CREATE MODEL ds.mf OPTIONS(model_type='matrix_factorization', user_col='user_id', item_col='item', num_factors=3) AS SELECT user_id, item, rating FROM ds.r")
        connection.query("CREATE MODEL ds.days OPTIONS(model_type='matrix_factorization', user_col='day', item_col='item', num_factors=2) AS SELECT day, item, rating FROM ds.r")
        connection.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['rating']) AS SELECT user_id, rating FROM ds.r")
        yield connection


@pytest.fixture(scope="module")
def client(con):
    models = ModelSet(con.models, ["ds.mf"], refresh_seconds=60)
    yield TestClient(create_app(models, con.models))
    models.close()


def post(client, body: dict, name: str = "ds.mf"):
    return client.post(f"/v1/models/{name}:recommend", json=body)


def sql_rows(con, sql: str) -> list[dict]:
    return con.query(sql).arrow().to_pylist()


def same(got: list[dict], expected: list[dict]) -> None:
    assert [list(row) for row in got] == [list(row) for row in expected]
    assert [{**row, "predicted_rating": pytest.approx(row["predicted_rating"], rel=1e-12)} for row in expected] == got


def test_users_get_every_item_as_ml_recommend_gives_them(con, client):
    response = post(client, {"users": [3, 500]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model"], body["model_version"], body["request_id"]) == ("ds.mf", 1, response.headers["x-request-id"])
    same(body["recommendations"], sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf, (SELECT * FROM UNNEST([3, 500]) AS user_id))"))


def test_top_k_gives_each_users_best_items_best_first(con, client):
    got = post(client, {"users": [7, 2], "top_k": 2}).json()["recommendations"]
    expected = sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf) WHERE user_id IN (2, 7) ORDER BY user_id = 2, predicted_rating DESC")
    same(got, [row for row in expected if row["user_id"] == 7][:2] + [row for row in expected if row["user_id"] == 2][:2])
    everyone = post(client, {"top_k": 1}).json()["recommendations"]
    same(everyone, sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) = 1 ORDER BY user_id"))


def test_items_alone_give_every_user_and_top_k_each_items_best_users(con, client):
    got = post(client, {"items": ["m2"]}).json()["recommendations"]
    same(got, sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf, (SELECT 'm2' AS item))"))
    best = post(client, {"items": ["m2", "m5"], "top_k": 3}).json()["recommendations"]
    expected = sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf, (SELECT item FROM UNNEST(['m2', 'm5']) AS item)) ORDER BY item, predicted_rating DESC")
    same(best, [row for row in expected if row["item"] == "m2"][:3] + [row for row in expected if row["item"] == "m5"][:3])


def test_users_and_items_give_their_grid_and_pairs_pass_fields_through(con, client):
    grid = post(client, {"users": [1, 99], "items": ["m1", "nope"]}).json()["recommendations"]
    same(grid, sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf, (SELECT u AS user_id, i AS item FROM UNNEST([1, 99]) AS u WITH OFFSET a, "
                             "UNNEST(['m1', 'nope']) AS i WITH OFFSET b ORDER BY a, b))"))  # fmt: skip
    pairs = post(client, {"pairs": [{"USER_ID": 4, "item": "m3", "note": "x"}, {"USER_ID": 5, "item": "m9", "note": None}]}).json()["recommendations"]
    same(pairs, sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.mf, (SELECT 4 AS user_id, 'm3' AS item, 'x' AS note UNION ALL SELECT 5, 'm9', NULL))"))


def test_dates_are_sent_as_iso_text(con, client):
    got = post(client, {"users": ["2024-01-04"], "top_k": 2}, "ds.days").json()
    assert [row["day"] for row in got["recommendations"]] == ["2024-01-04", "2024-01-04"]
    expected = sql_rows(con, "SELECT * FROM ML.RECOMMEND(MODEL ds.days, (SELECT DATE '2024-01-04' AS day)) ORDER BY predicted_rating DESC LIMIT 2")
    assert [row["predicted_rating"] for row in got["recommendations"]] == pytest.approx([row["predicted_rating"] for row in expected], rel=1e-12)


@pytest.mark.parametrize(
    ("name", "body", "status", "error", "hint"),
    [
        ("ds.mf", {"users": [1], "pairs": [{"user_id": 1, "item": "m1"}]}, 400, "Send either pairs, or users and/or items, not both.", None),
        ("ds.mf", {"users": ["one"]}, 400, "The column user_id has type string, which does not convert to the type the model was trained on (int64).", None),
        ("ds.mf", {"users": [1, "a"]}, 400, "The user_id values are not all of one type", None),
        ("ds.mf", {"pairs": [{"user_id": 1}]}, 400, "The pairs have no item field.", "Give every pair its user_id and item."),
        ("ds.lin", {}, 400, "ds.lin is a LINEAR_REG model; recommendations come from MATRIX_FACTORIZATION models.", None),
        ("ds.nope", {}, 404, "ds.nope", None),
        ("ds.mf", {"top_k": 0}, 422, "The request body is not valid: body.top_k", 'Send {"users": […], "items": […], "top_k": k} (each optional) or '
         '{"pairs": [{"<user column>": u, "<item column>": i}, …]} with Content-Type: application/json.'),
    ],
)  # fmt: skip
def test_bad_requests_are_json_errors_naming_the_problem(client, name, body, status, error, hint):
    response = post(client, body, name)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "hint"} and error in response.json()["error"]
    if hint is not None:
        assert response.json()["hint"] == hint


def test_too_many_rows_asked_for_is_refused_with_the_way_out(client, monkeypatch):
    monkeypatch.setattr(runtime, "MAX_SERVED_ROWS", 20)
    response = post(client, {"users": [1, 2, 3, 4]})
    assert response.status_code == 400
    assert response.json() == {
        "error": "The request asks for 24 rows (4 users × 6 items); :recommend answers at most 20.",
        "hint": "Send top_k, or fewer users or items; run ML.RECOMMEND in SQL for every pair.",
    }
    assert post(client, {"users": [1, 2, 3, 4], "top_k": 5}).status_code == 200


def test_the_route_is_in_the_openapi_document(client):
    assert "/v1/models/{name}:recommend" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("body", [{"top_k": 2}, {"users": [1, 2, 3, 99], "items": ["m1", "m6", "x"]}, {"items": ["m3", "m4"], "top_k": 4}, {"users": [5, 6]}])
def test_small_blocks_give_the_same_rows(client, monkeypatch, body):
    whole = post(client, body).json()["recommendations"]
    monkeypatch.setattr(blocks, "BLOCK_CELLS", 7)  # a block of one or two rows
    same(post(client, body).json()["recommendations"], whole)  # BLAS may round a block's matmul differently in the last bit
