"""The ``:predict`` fast path: small requests for a loaded model are read, checked and answered in
the event loop, and scored together in micro-batches (:mod:`.batching`).

:class:`BatchedPredictions` is ASGI middleware, inside the access log, the bearer token and the
body limit but in front of FastAPI's own layers and routing (:class:`sqlml.serve.app.ServeApp`),
whose per-request work (telemetry checks, dependency solving, the exit stack, matching every
route) costs as much as scoring a row. It takes a request when the
model is loaded, typed ahead (:func:`sqlml.serve.inputs.input_columns`) and supported by
ML.PREDICT, and the body is small JSON of a known length (:data:`MAX_BODY_BYTES`,
:data:`MAX_INSTANCES`). It answers only what succeeds: any other request — and any request it
cannot answer (a body that is not the documented JSON, a value of the wrong type, a failure while
scoring) — goes on, its body replayed, to the ``:predict`` route, which scores it by itself in a
worker thread and answers ML.PREDICT's rows or the error, in the same JSON. Both ways score
through the same runtime as ML.PREDICT.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from sqlml.errors import WarehouseError
from sqlml.ml.runtime.predict import prediction_plan
from sqlml.serve import scoring
from sqlml.serve.batching import MAX_WAIT_SECONDS, MicroBatcher
from sqlml.serve.bodies import is_json
from sqlml.serve.inputs import InputColumns, input_columns
from sqlml.serve.middleware import error_response
from sqlml.serve.outputs import RowOutputs

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model
    from sqlml.serve.models import ModelSet, Served
    from sqlml.serve.prediction_log import PredictionLog

#: Larger bodies are parsed in a worker thread, not in the event loop.
MAX_BODY_BYTES = 64 * 1024
#: Requests with more instances are a batch of their own, scored in a worker thread.
MAX_INSTANCES = 64
PREDICT_PATH = re.compile(r"/v1/models/([^/:]+):predict")
JSON_HEADER = (b"content-type", b"application/json")
_UNKNOWN = object()


class ModelBatchers:
    """A micro-batcher per loaded model (kept as long as the model is).

    Args:
        max_wait: the longest, in seconds, a request waits for others to join its batch.
    """

    def __init__(self, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self.max_wait = max_wait
        self._batchers: weakref.WeakKeyDictionary[Model, MicroBatcher | None] = weakref.WeakKeyDictionary()

    def get(self, model: Model) -> MicroBatcher | None:
        """The micro-batcher of a loaded model; None when its requests take the per-request path."""
        batcher = self._batchers.get(model, _UNKNOWN)
        if batcher is _UNKNOWN:
            columns = input_columns(model)
            supported = columns is not None and model.family.supports("PREDICT", model.model_type)
            batcher = self._batchers[model] = MicroBatcher(_scorer(model, columns), max_wait=self.max_wait) if supported else None
        return batcher


class BatchedPredictions:
    """The fast path in front of ``app`` (ASGI middleware).

    Args:
        app: the application the other requests go to.
        models: the served models.
        batchers: the models' micro-batchers.
        prediction_log: where served predictions are spooled, if anywhere.
    """

    def __init__(self, app: ASGIApp, models: ModelSet, batchers: ModelBatchers, prediction_log: PredictionLog | None = None) -> None:
        self.app = app
        self.models = models
        self.batchers = batchers
        self.prediction_log = prediction_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        served, batcher = self._route(scope)
        if batcher is None:
            await self.app(scope, receive, send)
            return
        with batcher.receiving():
            body = await _body(receive)
            parsed = _parsed(body) if body is not None and _is_json(scope) else None
            typed = _typed(served.model, parsed[0]) if parsed is not None else None
            started = time.perf_counter()
        if typed is None:
            await self.app(scope, _replay(body, receive), send)
            return
        instances, echo_inputs = parsed
        try:
            predicted = await batcher.submit(typed, len(instances))
            rows = scoring.echoed(served.model, predicted, instances) if echo_inputs else predicted.rows
            content = await self._answer(scope, served, instances, rows, started)
        except WarehouseError as error:  # the prediction log cannot be written
            await error_response(503, error.message, error.hint)(scope, _no_body, send)
            return
        except Exception:  # answered by the route, which scores the request alone and says what failed
            await self.app(scope, _replay(body, receive), send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [JSON_HEADER, (b"content-length", b"%d" % len(content))]})
        await send({"type": "http.response.body", "body": content})

    def _route(self, scope: Scope) -> tuple[Served | None, MicroBatcher | None]:
        """The served model and its batcher, when the request may take the fast path."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return None, None
        match = PREDICT_PATH.fullmatch(scope["path"])
        if match is None:
            return None, None
        length = next((value for key, value in scope["headers"] if key == b"content-length"), b"")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return None, None
        served = self.models.warm(match.group(1))
        return (served, self.batchers.get(served.model)) if served is not None else (None, None)

    async def _answer(self, scope: Scope, served: Served, instances: list[dict], rows: list[dict], started: float) -> bytes:
        """The response body, once the prediction log (if any) has spooled the rows to disk (in a worker thread).

        Raises:
            WarehouseError: the prediction log cannot be written.
        """
        request_id = scope["state"]["request_id"]
        if self.prediction_log is not None:
            await run_in_threadpool(self.prediction_log.add, request_id, served, instances, rows, (time.perf_counter() - started) * 1000)
        payload = {"predictions": rows, "model": served.name, "model_version": served.version, "request_id": request_id}
        return orjson.dumps(payload, default=scoring.json_default, option=orjson.OPT_SERIALIZE_NUMPY)


def _scorer(model: Model, columns: InputColumns) -> Callable[[list], list]:
    """``score(items)`` of a model's batcher, with the model's prediction plan of outputs only.

    The batcher is kept per model, weakly: it must not keep its model alive, so it holds the
    model and the plan (which holds the model) weakly too. The plan is looked up again only
    once :func:`prediction_plan`'s cache dropped it: the lookup hashes the input schema, which
    costs as much as scoring a row.
    """
    model_ref = weakref.ref(model)
    plan_ref: list[weakref.ref] = [lambda: None]
    rows = scoring.row_encoding(model, columns)  # these two hold the preprocessor and the classes, not the model
    outputs = RowOutputs.of(model, prediction_plan(model, columns.schema, inputs=False).schema)

    def score(items: list) -> list:
        plan = plan_ref[0]()
        if plan is None:
            plan = prediction_plan(model_ref(), columns.schema, inputs=False)
            plan_ref[0] = weakref.ref(plan)
        return scoring.predict_batch(plan, columns, items, rows, outputs)

    return score


def _typed(model: Model, instances: list[dict]) -> tuple[list[list], int] | None:
    """A request's typed columns and row count, ready to join a batch; None for one the route answers."""
    try:
        typed = input_columns(model).typed(instances)
    except Exception:
        return None  # the route refuses it, with the column and the value's type (or answers a bug's 500)
    return (typed, len(instances)) if typed is not None else None


def _is_json(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return is_json(value.decode("latin-1"))
    return False


def _parsed(body: bytes) -> tuple[list[dict], bool] | None:
    """The instances and ``echo_inputs`` of a body that is plainly a :class:`PredictRequest` (an
    object whose ``instances`` is a list of 1 to :data:`MAX_INSTANCES` objects and whose
    ``echo_inputs``, if given, is true or false); None for any other, which the route reads
    with PredictRequest itself (and answers, or refuses with pydantic's words).

    orjson rather than pydantic: a plain ``orjson.loads`` and these checks take a third of
    ``PredictRequest.model_validate_json``'s time on a one-row body.
    """
    try:
        body = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(body) is not dict:
        return None
    instances, echo_inputs = body.get("instances"), body.get("echo_inputs", False)
    if type(instances) is not list or not 0 < len(instances) <= MAX_INSTANCES or type(echo_inputs) is not bool:
        return None
    return (instances, echo_inputs) if all(type(instance) is dict for instance in instances) else None


async def _body(receive: Receive) -> bytes | None:
    """The whole body; None when the client left before sending it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes | None, receive: Receive) -> Receive:
    """``receive`` for the route: the body read already, then whatever the client sends next."""
    if body is None:
        return _disconnected
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> dict:
        return pending.pop() if pending else await receive()

    return replayed


async def _disconnected() -> dict:
    return {"type": "http.disconnect"}


async def _no_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}
