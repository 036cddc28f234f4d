"""``sqlml serve --max-batch-wait-ms``: how long a :predict request waits for others to join its batch."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sqlml.cli.main import cli


@pytest.fixture
def served_app(shared_store, monkeypatch):
    """``served_app(*options)``: the app ``sqlml serve`` would run on the store (nothing is started)."""
    _, folder = shared_store
    apps = []
    monkeypatch.setattr("sqlml.serve.server.run", lambda app, **settings: apps.append(app))
    monkeypatch.setattr("signal.signal", lambda *args: None)

    def serve(*options: str):
        arguments = ["serve", "--warehouse", str(folder / "wh"), "--models", str(folder / "models"), "--model", "ds.m", *options]
        result = CliRunner().invoke(cli, arguments)
        assert result.exit_code == 0, result.output
        return apps.pop()

    yield serve


@pytest.mark.parametrize(("options", "seconds"), [((), 0.001), (("--max-batch-wait-ms", "2.5"), 0.0025), (("--max-batch-wait-ms", "0"), 0.0)])
def test_the_flag_sets_each_models_batch_wait(served_app, options, seconds):
    app = served_app(*options)
    assert app.state.batchers.max_wait == seconds
    with TestClient(app) as client:
        response = client.post("/v1/models/ds.m:predict", json={"instances": [{"income": 50, "sex": "female"}]})
    assert response.status_code == 200, response.text
    assert list(response.json()["predictions"][0]) == ["predicted_approved", "predicted_approved_probs"]


def test_a_negative_wait_is_refused():
    result = CliRunner().invoke(cli, ["serve", "--warehouse", ":memory:", "--max-batch-wait-ms", "-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--max-batch-wait-ms': -1.0 is not in the range x>=0." in result.output
