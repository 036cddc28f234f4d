"""The server's middleware through the app: the bearer token on every path but /healthz, the body
limit on streamed bodies, request ids."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient

from sqlml.serve.app import create_app
from sqlml.serve.middleware import MAX_BODY_BYTES
from sqlml.serve.models import ModelSet

ONE = {"instances": [{"income": 50, "sex": "female"}]}
GUARDED = [
    ("GET", "/readyz", None),
    ("GET", "/openapi.json", None),
    ("GET", "/docs", None),
    ("GET", "/docs/oauth2-redirect", None),
    ("GET", "/redoc", None),
    ("GET", "/v1/models", None),
    ("GET", "/v1/models/ds.m", None),
    ("POST", "/v1/models/ds.m:predict", ONE),
    ("POST", "/v1/models/ds.m:explain", ONE),
    ("GET", "/no/such/route", None),
]


@pytest.fixture
def app_for(shared_store):
    """``app_for(**settings)``: the app serving ds.m of the shared store; its models are closed afterwards."""
    con, _ = shared_store
    models = ModelSet(con.models, ["ds.m"], refresh_seconds=60)
    yield lambda **settings: create_app(models, con.models, **settings)
    models.close()


@pytest.fixture
def guarded_client(app_for):
    return TestClient(app_for(token="s3cret"))


@pytest.mark.parametrize(("method", "path", "body"), GUARDED)
def test_every_path_but_healthz_requires_the_token(guarded_client, method, path, body):
    refused = guarded_client.request(method, path, json=body)
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert refused.json() == {"error": "A valid bearer token is required.", "hint": "Send Authorization: Bearer <token>."}
    wrong = guarded_client.request(method, path, json=body, headers={"authorization": "Bearer s3cre"})
    assert wrong.status_code == 401
    allowed = guarded_client.request(method, path, json=body, headers={"authorization": "Bearer s3cret"})
    assert allowed.status_code == (404 if path == "/no/such/route" else 200), allowed.text


def test_healthz_needs_no_token_and_reveals_nothing(guarded_client):
    health = guarded_client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_openapi_document_declares_the_bearer_scheme(guarded_client):
    document = guarded_client.get("/openapi.json", headers={"authorization": "Bearer s3cret"}).json()
    assert document["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert document["security"] == [{"bearer": []}] and document["paths"]["/healthz"]["get"]["security"] == []


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(app_for):
    app = app_for()
    chunk, sent = 1024 * 1024, []

    async def endless_body():  # no Content-Length: httpx sends it chunked
        for _ in range(200):
            sent.append(chunk)
            yield b" " * chunk

    async def post():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as client:
            return await client.post("/v1/models/ds.m:predict", content=endless_body(), headers={"content-type": "application/json"})

    response = asyncio.run(post())
    assert response.status_code == 413 and response.headers["connection"] == "close"
    assert response.json() == {"error": "The body is larger than 10 MiB.", "hint": "Send fewer instances per request."}
    assert sum(sent) == MAX_BODY_BYTES + chunk  # read up to the first chunk past the limit, no further


def test_a_declared_length_over_the_limit_is_refused_before_reading(app_for):
    client = TestClient(app_for())
    huge = client.post("/healthz", content=b"x", headers={"content-length": str(MAX_BODY_BYTES + 1)})
    assert huge.status_code == 413 and huge.json()["error"] == "The body is larger than 10 MiB."


def test_request_id_is_taken_from_the_client_or_made(app_for):
    client = TestClient(app_for())
    assert client.get("/healthz", headers={"x-request-id": "abc"}).headers["x-request-id"] == "abc"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
