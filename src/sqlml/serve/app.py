"""The HTTP application: FastAPI routes, validation, JSON errors, bearer auth and access logs.

Routes (the OpenAPI document at ``/openapi.json`` is generated from them):

* ``POST /v1/models/{name}:predict`` ``{"instances": [{column: value, …}, …]}`` →
  ``{"predictions": [ML.PREDICT's columns per instance], "model", "model_version", "request_id"}``;
* ``POST /v1/models/{name}:explain`` (with ``top_k_features``) → ML.EXPLAIN_PREDICT's columns;
* ``GET /v1/models`` (models, versions, aliases), ``GET /v1/models/{name}`` (type, label, features
  with types, metrics);
* ``GET /healthz`` (the process answers) and ``GET /readyz`` (the models are loaded).

``name`` is ``dataset.model``, ``dataset.model@3`` or ``dataset.model@alias``. Every error is a
JSON object ``{"error": …, "hint": …}`` with a 4xx status: 400 bad instances, 401 a missing or
wrong token, 404 an unknown model, version or alias, 413 a body over the limit, 422 a body that
is not the documented JSON. Scoring runs on the event loop: it takes about a millisecond, less
than a hop to a worker thread would add.
"""

from __future__ import annotations

import contextlib
import decimal
import hmac
import json
import logging
import time
import uuid
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

import sqlml
from sqlml.errors import InvalidModelInputError, ModelNotFoundError, NotFoundError
from sqlml.serve import scoring
from sqlml.serve.models import ModelSet

ACCESS_LOG = logging.getLogger("sqlml.serve.access")
MAX_INSTANCES = 10_000
MAX_BODY_BYTES = 10 * 1024 * 1024


class PredictRequest(BaseModel):
    """Rows to score: one JSON object per row, keyed by column name."""

    instances: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_INSTANCES)


class ExplainRequest(PredictRequest):
    """Rows to explain, and how many attributions to return per row."""

    top_k_features: int = Field(default=5, ge=1, le=10_000)


class PredictResponse(BaseModel):
    """ML.PREDICT's (or ML.EXPLAIN_PREDICT's) rows, and the model version that answered."""

    predictions: list[dict[str, Any]]
    model: str
    model_version: int
    request_id: str


class ErrorResponse(BaseModel):
    """What went wrong and how to fix it."""

    error: str
    hint: str | None = None


ERRORS = {400: {"model": ErrorResponse}, 401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}, 413: {"model": ErrorResponse}}


def create_app(models: ModelSet, store, *, token: str | None = None, prediction_log=None, on_shutdown=None) -> FastAPI:
    """The application serving ``models`` from ``store``; ``on_shutdown()`` runs when it stops."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(
        title="sqlml serve", version=sqlml.__version__, description="Predictions from the models of a sqlml store.", lifespan=lifespan
    )
    app.add_middleware(AccessLog)

    async def authorized(request: Request) -> None:  # async: a sync dependency would hop to a thread
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
            raise _HttpError(401, "A valid bearer token is required.", "Send Authorization: Bearer <token>.")

    guarded = [Depends(authorized)] if token is not None else []  # no per-request check without a token

    @app.exception_handler(_HttpError)
    async def http_error(request: Request, error: "_HttpError"):
        return _error(error.status, error.message, error.hint)

    @app.exception_handler(sqlml.Error)
    async def sqlml_error(request: Request, error: sqlml.Error):
        status = 404 if isinstance(error, (NotFoundError, ModelNotFoundError)) else 400
        return _error(status, error.message, error.hint)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        if "json" not in request.headers.get("content-type", ""):
            problems += " (the body was not sent as JSON)"
        return _error(422, f"The request body is not valid: {problems}", 'Send {"instances": [{"column": value, …}]} with Content-Type: application/json.')

    @app.get("/healthz")
    async def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> dict:
        """The models given at start are loaded."""
        return {"status": "ready", "models": models.names()}

    @app.get("/v1/models", dependencies=guarded, responses=ERRORS)
    async def list_models() -> dict:
        """Every model of the store with its versions and aliases."""
        return {"models": [
            {"name": f"{m.dataset}.{m.name}", "versions": m.versions, "aliases": m.aliases, "description": m.description}
            for m in store.models()
        ]}  # fmt: skip

    @app.get("/v1/models/{name}", dependencies=guarded, responses=ERRORS)
    async def describe(name: str) -> dict:
        """One model version: type, label, input features with types, metrics."""
        served = models.get(name)
        model = served.model
        features = [{"name": c.name, "type": c.arrow_type} for c in model.preprocessor.columns] if model.preprocessor else []
        return {
            "name": name, "model_type": model.model_type.value, "version": served.version, "aliases": served.record.aliases,
            "label": model.label, "features": features, "required_columns": model.required_columns(),
            "metrics": model.spec.get("metrics", {}),
        }  # fmt: skip

    answered = {200: {"model": PredictResponse}, **ERRORS}

    @app.post("/v1/models/{name}:predict", dependencies=guarded, response_model=None, responses=answered)
    async def predict(name: str, body: PredictRequest, request: Request) -> Response:
        """ML.PREDICT on the instances."""
        return _answer(models, name, body.instances, request, prediction_log, lambda served, batch: scoring.predict(served.model, batch))

    @app.post("/v1/models/{name}:explain", dependencies=guarded, response_model=None, responses=answered)
    async def explain(name: str, body: ExplainRequest, request: Request) -> Response:
        """ML.EXPLAIN_PREDICT on the instances."""
        return _answer(models, name, body.instances, request, None, lambda served, batch: scoring.explain(served.model, batch, body.top_k_features))

    return app


def _answer(models: ModelSet, name: str, instances: list[dict], request: Request, prediction_log, run) -> Response:
    """Score ``instances`` with ``run(served, batch)``; the body PredictResponse documents."""
    started = time.perf_counter()
    served = models.get(name)
    if not served.model.model_type.is_imported and served.model.estimator is None:
        raise InvalidModelInputError(f"{name} only transforms (TRANSFORM_ONLY); it has no predictions to serve.")
    rows = run(served, scoring.instances_batch(served.model, instances))
    request_id = request.scope["state"]["request_id"]
    if prediction_log is not None:
        prediction_log.add(request_id, served, instances, rows, (time.perf_counter() - started) * 1000)
    payload = {"predictions": rows, "model": served.name, "model_version": served.version, "request_id": request_id}
    return Response(orjson.dumps(payload, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def _json_default(value):
    """What orjson leaves to us: exact decimals as text, bytes as hex."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


class AccessLog:
    """ASGI middleware: a request id, the body-size limit, one JSON access-log line per request.

    Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a stream per request.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode() or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _error(413, f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB.", "Send fewer instances per request.")(scope, receive, send_with_id)
        else:
            await self.app(scope, receive, send_with_id)
        if ACCESS_LOG.isEnabledFor(logging.INFO):
            ACCESS_LOG.info(json.dumps({
                "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status.get("code"),
                "ms": round((time.perf_counter() - started) * 1000, 3), "client": (scope.get("client") or [None])[0],
            }))  # fmt: skip


class _HttpError(Exception):
    def __init__(self, status: int, message: str, hint: str | None = None):
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint


def _error(status: int, message: str, hint: str | None) -> JSONResponse:
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message, "hint": hint}, status_code=status, headers=headers)
