"""The :predict route's micro-batched path: concurrent requests scored at once, each answered
with its own rows (ML.PREDICT's, exactly), failures kept apart, outputs only unless asked."""

from __future__ import annotations

import asyncio

import httpx
import pyarrow as pa
import pytest

from sqlml.serve.app import create_app
from sqlml.serve.models import ModelSet

OUTPUTS = ["predicted_approved", "predicted_approved_probs"]


def instances(count: int) -> list[dict]:
    return [{"income": (i * 7) % 100, "sex": ("female", "male", "other")[i % 3], "id": i} for i in range(count)]


def ml_predict(con, rows: list[dict]) -> list[dict]:
    """ML.PREDICT's rows for ``rows``, computed by the SQL function."""
    selects = " UNION ALL ".join(f"SELECT {r['income']} AS income, '{r['sex']}' AS sex, {r['id']} AS id" for r in rows)
    return con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.m, (SELECT * FROM ({selects}) ORDER BY id))").arrow().to_pylist()


def concurrently(app, bodies: list[dict]) -> list[httpx.Response]:
    """POST every body to ds.m's :predict at once, in the app's own event loop."""

    async def post_all():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as client:
            return await asyncio.gather(*(client.post("/v1/models/ds.m:predict", json=body) for body in bodies))

    return asyncio.run(post_all())


@pytest.fixture
def served(shared_store):
    con, _ = shared_store
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    yield con, create_app(models, con.models), models
    models.close()


def test_concurrent_requests_share_a_batch_and_each_gets_its_own_rows_exactly(served):
    con, app, models = served
    rows = instances(24)
    responses = concurrently(app, [{"instances": [row]} for row in rows])
    expected = ml_predict(con, rows)
    assert [r.status_code for r in responses] == [200] * 24
    for response, want in zip(responses, expected):
        assert response.json()["predictions"] == [{name: want[name] for name in OUTPUTS}]  # exact, not approximately
    assert 1 <= app.state.batchers.get(models.get("ds.m").model).batches < 24


def test_a_bad_request_in_a_batch_gets_its_own_error_and_the_others_their_rows(served):
    con, app, _ = served
    rows = instances(6)
    bodies = [{"instances": [row]} for row in rows]
    bodies[2] = {"instances": [{"income": "abc", "sex": "male"}]}
    bodies[4] = {"instances": [{"sex": "male"}]}
    responses = concurrently(app, bodies)
    assert [r.status_code for r in responses] == [200, 200, 400, 200, 400, 200]
    assert responses[2].json()["error"].startswith("The column income has a value that is not int64: Could not convert 'abc'")
    assert responses[4].json() == {
        "error": "The instances have no column income, which the model was trained on.",
        "hint": "Give every instance a 'income' field (null for a missing value).",
    }
    expected = ml_predict(con, [rows[i] for i in (0, 1, 3, 5)])
    for index, want in zip((0, 1, 3, 5), expected):
        assert responses[index].json()["predictions"] == [{name: want[name] for name in OUTPUTS}]


def test_the_answer_has_only_the_outputs_unless_the_request_asks_for_its_inputs(served):
    con, app, _ = served
    rows = instances(3)
    plain, echoed = concurrently(app, [{"instances": rows}, {"instances": rows, "echo_inputs": True}])
    assert [list(row) for row in plain.json()["predictions"]] == [OUTPUTS] * 3
    assert echoed.json()["predictions"] == ml_predict(con, rows)  # ML.PREDICT's whole rows, inputs in their order
    assert [list(row) for row in echoed.json()["predictions"]] == [[*OUTPUTS, "income", "sex", "id"]] * 3


def test_a_request_too_large_for_a_batch_is_answered_alike(served):
    con, app, models = served
    rows = instances(80)  # more than a batched request takes: scored by itself in a worker thread
    (response,) = concurrently(app, [{"instances": rows}])
    assert response.json()["predictions"] == [{name: want[name] for name in OUTPUTS} for want in ml_predict(con, rows)]
    assert app.state.batchers.get(models.get("ds.m").model).batches == 0


def test_the_wait_for_a_batch_is_the_apps_setting(shared_store):
    con, _ = shared_store
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    app = create_app(models, con.models, max_batch_wait=0.25)
    batcher = app.state.batchers.get(models.get("ds.m").model)
    assert batcher.max_wait == 0.25

    async def answered_while_another_is_arriving() -> float:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as client:
            with batcher.receiving():  # another request is still being received, and stays so
                started = asyncio.get_running_loop().time()
                response = await client.post("/v1/models/ds.m:predict", json={"instances": instances(1)})
                assert response.status_code == 200
                return asyncio.get_running_loop().time() - started

    assert 0.25 <= asyncio.run(answered_while_another_is_arriving()) < 0.6
    models.close()


def test_a_served_tree_model_scores_through_its_compiled_forest_as_ml_predict_does(shared_store, wait_for, monkeypatch):
    con, _ = shared_store
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)  # loading compiles the forest in the background
    model = models.get("ds.m").model
    wait_for(lambda: model.estimator.scorer_.compiled(0), 120)
    rows = instances(24)
    batch = pa.RecordBatch.from_pylist([{"income": r["income"], "sex": r["sex"]} for r in rows])
    lightgbm = model.estimator.booster_.predict(model.features(batch), num_threads=1)  # P(approved = true)
    expected = ml_predict(con, rows)

    def not_lightgbm(*args, **kwargs):
        raise AssertionError("LightGBM scored a served request")

    monkeypatch.setattr(model.estimator.booster_, "predict", not_lightgbm)
    app = create_app(models, con.models)
    responses = concurrently(app, [{"instances": [row]} for row in rows[:12]] + [{"instances": rows[12:]}])
    assert [r.status_code for r in responses] == [200] * 13
    served = [p for r in responses for p in r.json()["predictions"]]
    assert served == [{name: want[name] for name in OUTPUTS} for want in expected]  # exactly ML.PREDICT's
    probability = [next(p["prob"] for p in row["predicted_approved_probs"] if p["label"] is True) for row in served]
    assert max(abs(a - b) for a, b in zip(probability, lightgbm)) < 1e-12
    models.close()
