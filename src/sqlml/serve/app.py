"""The HTTP application: FastAPI routes, validation, JSON errors, bearer auth and access logs.

Routes (the OpenAPI document at ``/openapi.json`` is generated from them):

* ``POST /v1/models/{name}:predict`` ``{"instances": [{column: value, …}, …], "echo_inputs": false}`` →
  ``{"predictions": [ML.PREDICT's output columns per instance], "model", "model_version", "request_id"}``
  (with ``"echo_inputs": true`` ML.PREDICT's whole rows: the outputs, then the input columns);
* ``POST /v1/models/{name}:explain`` (with ``top_k_features``) → ML.EXPLAIN_PREDICT's columns;
* ``POST /v1/models/{name}:forecast`` ``{"horizon": n, "confidence_level": c, "ids": [{id column: value}, …]}``
  (all optional; an ARIMA_PLUS_XREG model also needs ``"instances"``, its regressors' future
  values) → ``{"forecasts": [ML.FORECAST's columns per series and step], …}``;
* ``POST /v1/models/{name}:recommend`` ``{"users": […], "items": […], "top_k": k}`` (users and/or
  items, all optional) or ``{"pairs": [{user column: u, item column: i, …}, …]}`` →
  ``{"recommendations": [ML.RECOMMEND's columns per row], …}``, each user's best first with ``top_k``;
* ``GET /v1/models`` (models, versions, aliases), ``GET /v1/models/{name}`` (type, label, features
  with types, metrics);
* ``GET /healthz`` (the process answers) and ``GET /readyz`` (the models are loaded).

``name`` is ``dataset.model``, ``dataset.model@3`` or ``dataset.model@alias``. Every error is a
JSON object ``{"error": …, "hint": …}``: 400 bad instances, 401 a missing or wrong token, 404 an
unknown model, version, alias or route, 405 a method the route does not answer (with ``Allow``),
413 a body over the limit, 422 a body that is not the documented JSON, 503 a prediction log
that cannot be written, 500 a bug. Small ``:predict`` requests for a loaded model are answered
in the event loop before routing and scored in micro-batches (:mod:`.batched`); everything else
is parsed, scored and serialized in a worker thread, so a 10,000-row request does not hold up ``/healthz``
or other clients.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

import sqlml
from sqlml.errors import ModelNotFoundError, NotFoundError, WarehouseError
from sqlml.ml.runtime.recommend import model_factorization, served_recommendations
from sqlml.serve import scoring
from sqlml.serve.batched import BatchedPredictions, ModelBatchers
from sqlml.serve.batching import MAX_WAIT_SECONDS
from sqlml.serve.bodies import (
    BODY_HINTS, ErrorResponse, ExplainRequest, ForecastRequest, ForecastResponse, InstancesRequest, PredictRequest, PredictResponse,
    RecommendRequest, RecommendResponse, is_json, parse_body,
)  # fmt: skip
from sqlml.serve.middleware import AccessLog, BearerAuth, BodyLimit, HttpError, error_response
from sqlml.serve.models import ModelSet, Served

if TYPE_CHECKING:
    from sqlml.serve.prediction_log import PredictionLog
    from sqlml.store.registry import ModelStore

LOG = logging.getLogger("sqlml.serve")
class ModelName(Convertor):
    """``dataset.model[@version|alias]`` in a path: no ``/`` and no ``:``, so that
    ``GET /v1/models/m:predict`` is the predict route's 405, not a model called ``m:predict``."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("model_name", ModelName())
ERRORS = {status: {"model": ErrorResponse} for status in (400, 401, 404, 413, 422, 500)}
ANSWERED = {200: {"model": PredictResponse}, 503: {"model": ErrorResponse}, **ERRORS}
FORECASTED = {200: {"model": ForecastResponse}, **ERRORS}
RECOMMENDED = {200: {"model": RecommendResponse}, **ERRORS}


def create_app(
    models: ModelSet,
    store: ModelStore,
    *,
    token: str | None = None,
    prediction_log: PredictionLog | None = None,
    on_shutdown: Callable[[], None] | None = None,
    max_batch_wait: float = MAX_WAIT_SECONDS,
) -> FastAPI:
    """The application serving ``models`` from ``store``; ``on_shutdown()`` runs when it stops.

    Args:
        models: the served models.
        store: the model store (for the model list).
        token: the bearer token every route but ``/healthz`` requires; None for none.
        prediction_log: a :class:`~sqlml.serve.prediction_log.PredictionLog` for served predictions.
        on_shutdown: called once the server has stopped.
        max_batch_wait: the longest, in seconds, a ``:predict`` request waits for concurrent ones
            to be scored in the same batch (0: only those the event loop took in the same turn).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # What the process holds once its models are loaded (~200,000 objects: pyarrow, DuckDB,
        # LightGBM, the app) is moved out of the garbage collector's reach: a full pass over it
        # took 0.4-0.9 s on a busy 2-core machine, an answer held up that long whenever one ran. They
        # are handed back when the server stops.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
        if on_shutdown is not None:
            on_shutdown()

    app = ServeApp(
        title="sqlml serve", version=sqlml.__version__, description="Predictions from the models of a sqlml store.", lifespan=lifespan
    )
    app.state.batchers = ModelBatchers(max_batch_wait)
    front: ASGIApp = BatchedPredictions(app.routed, models=models, batchers=app.state.batchers, prediction_log=prediction_log)
    front = BodyLimit(front)
    if token is not None:
        front = BearerAuth(front, token=token)
        _document_bearer(app)
    app.front = AccessLog(front)  # outermost: logs the 401s and 413s too
    _install_error_handlers(app)
    _add_routes(app, models, store, prediction_log)
    return app


class ServeApp(FastAPI):
    """The FastAPI application behind the server's own middleware (:attr:`front`: access log,
    bearer token, body limit, the ``:predict`` fast path), which runs before FastAPI's error,
    telemetry and body-limit layers rather than inside them: a small prediction answered by the
    fast path does not pay for them. Whatever the fast path does not answer reaches FastAPI whole
    (:meth:`routed`), its errors answered by its handlers."""

    front: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.front(scope, receive, send)

    async def routed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own handling of a request: its middleware, routing and error handlers."""
        await super().__call__(scope, receive, send)


def _add_routes(app: FastAPI, models: ModelSet, store, prediction_log) -> None:
    @app.get("/healthz", openapi_extra={"security": []})
    async def healthz() -> dict:
        """The process is up (the one route that needs no token)."""
        return {"status": "ok"}

    @app.get("/readyz", responses=ERRORS)
    async def readyz() -> dict:
        """The models given at start are loaded."""
        return {"status": "ready", "models": models.names()}

    @app.get("/v1/models", responses=ERRORS)
    def list_models() -> dict:  # sync: reading the store is file I/O, so it runs in a worker thread
        """Every model of the store with its versions and aliases."""
        return {"models": [
            {"name": f"{m.dataset}.{m.name}", "versions": m.versions, "aliases": m.aliases, "description": m.description}
            for m in store.models()
        ]}  # fmt: skip

    @app.get("/v1/models/{name:model_name}", responses=ERRORS)
    def describe(name: str) -> dict:
        """One model version: type, label, input features with types, metrics (a forecasting
        model: its time-series columns, horizon and number of fitted series)."""
        return _description(models.get(name), name)

    @app.post("/v1/models/{name}:predict", response_model=None, responses=ANSWERED, openapi_extra=_request_body(PredictRequest))
    async def predict(name: str, request: Request) -> Response:
        """ML.PREDICT on the instances: its output columns, with ``echo_inputs`` its whole rows."""
        body = await request.body()  # a small request for a loaded model was answered before routing (BatchedPredictions)
        return await run_in_threadpool(_answer, models, name, request, body, PredictRequest, prediction_log)

    @app.post("/v1/models/{name}:explain", response_model=None, responses=ANSWERED, openapi_extra=_request_body(ExplainRequest))
    async def explain(name: str, request: Request) -> Response:
        """ML.EXPLAIN_PREDICT on the instances."""
        body = await request.body()
        return await run_in_threadpool(_answer, models, name, request, body, ExplainRequest, None)

    @app.post("/v1/models/{name}:forecast", response_model=None, responses=FORECASTED, openapi_extra=_request_body(ForecastRequest))
    async def forecast(name: str, request: Request) -> Response:
        """ML.FORECAST of a forecasting model."""
        body = await request.body()
        return await run_in_threadpool(_answer_forecast, models, name, request, body)

    @app.post("/v1/models/{name}:recommend", response_model=None, responses=RECOMMENDED, openapi_extra=_request_body(RecommendRequest))
    async def recommend(name: str, request: Request) -> Response:
        """ML.RECOMMEND of a matrix factorization model."""
        body = await request.body()
        return await run_in_threadpool(_answer_recommend, models, name, request, body)


def _description(served: Served, name: str) -> dict:
    """What ``GET /v1/models/{name}`` answers."""
    model = served.model
    features = [{"name": c.name, "type": c.arrow_type} for c in model.preprocessor.columns] if model.preprocessor else []
    described = {
        "name": name, "model_type": model.model_type, "version": served.version, "aliases": served.record.aliases,
        "label": model.label, "features": features, "required_columns": model.required_columns(),
        "metrics": model.spec.get("metrics", {}),
    }  # fmt: skip
    series = model.spec.get("time_series")
    if series is not None:  # a forecasting model: what :forecast returns per series
        described["time_series"] = {
            "timestamp_col": series["timestamp_col"], "data_col": series["data_col"], "id_cols": series["id_cols"],
            "horizon": model.options["horizon"], "series": sum(item["error"] is None for item in series["series"]),
        }  # fmt: skip
    return described


def _answer(models: ModelSet, name: str, request: Request, body: bytes, schema: type[InstancesRequest], prediction_log) -> Response:
    """Parse, score and serialize one request (in a worker thread); the body PredictResponse documents."""
    parsed = parse_body(schema, body, request.headers.get("content-type"))
    started = time.perf_counter()
    served = models.get(name)
    explaining = isinstance(parsed, ExplainRequest)
    scoring.check_supported(served.model, name, explain=explaining)
    batch = scoring.instances_batch(served.model, parsed.instances)
    if explaining:
        rows = scoring.explain(served.model, batch, parsed.top_k_features)
    else:
        rows = scoring.predict(served.model, batch, echo_inputs=parsed.echo_inputs)
    request_id = request.scope["state"]["request_id"]
    if prediction_log is not None:  # spooled to disk before the answer leaves
        prediction_log.add(request_id, served, parsed.instances, rows, (time.perf_counter() - started) * 1000)
    payload = {"predictions": rows, "model": served.name, "model_version": served.version, "request_id": request_id}
    return Response(orjson.dumps(payload, default=scoring.json_default, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def _answer_forecast(models: ModelSet, name: str, request: Request, body: bytes) -> Response:
    """ML.FORECAST's rows for one request (in a worker thread); the body ForecastResponse documents."""
    parsed = parse_body(ForecastRequest, body, request.headers.get("content-type"))
    served = models.get(name)
    rows = scoring.forecast(served.model, name, parsed.horizon, parsed.confidence_level, parsed.ids, parsed.instances)
    payload = {"forecasts": rows, "model": served.name, "model_version": served.version, "request_id": request.scope["state"]["request_id"]}
    return Response(orjson.dumps(payload, default=scoring.json_default, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def _answer_recommend(models: ModelSet, name: str, request: Request, body: bytes) -> Response:
    """ML.RECOMMEND's rows for one request (in a worker thread); the body RecommendResponse documents."""
    parsed = parse_body(RecommendRequest, body, request.headers.get("content-type"))
    served = models.get(name)
    factors = model_factorization(served.model, name)
    table = served_recommendations(factors, parsed.users, parsed.items, parsed.pairs, parsed.top_k)
    payload = {"recommendations": scoring.json_rows(table), "model": served.name, "model_version": served.version,
               "request_id": request.scope["state"]["request_id"]}  # fmt: skip
    return Response(orjson.dumps(payload, default=scoring.json_default, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def _request_body(schema: type[BaseModel]) -> dict:
    """The OpenAPI request body of a route that reads its body itself (in a worker thread)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema.model_json_schema()}}}}


def _install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error", "hint"}``: sqlml's, HTTP ones (404, 405, 413…), invalid bodies, bugs."""

    @app.exception_handler(sqlml.Error)
    async def sqlml_error(request: Request, error: sqlml.Error):
        status = 404 if isinstance(error, (NotFoundError, ModelNotFoundError)) else 503 if isinstance(error, WarehouseError) else 400
        return error_response(status, error.message, error.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        if isinstance(error, HttpError):
            return error_response(error.status_code, error.detail, error.hint, error.headers)
        if error.status_code == 404:
            return error_response(404, f"There is no route {request.url.path}.", "The routes are listed at /openapi.json.")
        if error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            return error_response(405, f"{request.method} is not allowed on {request.url.path}.", f"Use {allowed}.", error.headers)
        return error_response(error.status_code, str(error.detail), None, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        if not is_json(request.headers.get("content-type")):
            problems += " (the body was not sent as JSON)"
        route = next((route for route in BODY_HINTS if request.url.path.endswith(f":{route}")), "predict")
        return error_response(422, f"The request body is not valid: {problems}", BODY_HINTS[route])

    @app.exception_handler(Exception)
    async def bug(request: Request, error: Exception):
        request_id = request.scope.get("state", {}).get("request_id", "")
        LOG.error("request %s failed", request_id, exc_info=error)
        return error_response(  # sent through the access log, which adds the x-request-id header
            500, f"The server failed to answer (request {request_id}).", "This is a bug in sqlml serve; report it with the server log of this request id."
        )  # fmt: skip


def _document_bearer(app: FastAPI) -> None:
    """Say in the OpenAPI document that every operation (but /healthz) takes a bearer token."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            schema["security"] = [{"bearer": []}]
        return app.openapi_schema

    app.openapi = openapi
