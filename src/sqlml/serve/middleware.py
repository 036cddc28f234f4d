"""The server's ASGI middleware: request ids and access logs, the bearer token, the body limit.

Plain ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a stream per request.
Every error they answer has the shape of every other error of the server, ``{"error", "hint"}``.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import os
import secrets
import time

import orjson
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

ACCESS_LOG = logging.getLogger("sqlml.serve.access")
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Paths answered without the bearer token: liveness only, which reveals nothing.
OPEN_PATHS = frozenset({"/healthz"})


#: Request ids: a random prefix per process (a forked worker draws its own), then a counter —
#: unique across processes and restarts like a UUID4's 32 hex digits, without asking the OS's
#: random source on every request.
_IDS = {"pid": None, "prefix": "", "counter": itertools.count()}


def new_request_id() -> str:
    """A new request id, 32 hex digits."""
    if _IDS["pid"] != os.getpid():
        _IDS.update(pid=os.getpid(), prefix=secrets.token_hex(8), counter=itertools.count())
    return f"{_IDS['prefix']}{next(_IDS['counter']):016x}"


class HttpError(HTTPException):
    """An HTTP error with the server's JSON shape: what went wrong (``detail``) and what to do (``hint``)."""

    def __init__(self, status: int, message: str, hint: str | None = None, headers: dict | None = None):
        super().__init__(status, message, headers)
        self.hint = hint


def error_response(status: int, message: str, hint: str | None, headers: dict | None = None) -> JSONResponse:
    """``{"error": message, "hint": hint}`` with ``status``: the one shape of every error."""
    return JSONResponse({"error": message, "hint": hint}, status_code=status, headers=headers)


def body_too_large(limit: int) -> HttpError:
    """413, closing the connection: the rest of the body is not read."""
    return HttpError(413, f"The body is larger than {limit / (1024 * 1024):g} MiB.", "Send fewer instances per request.", {"connection": "close"})


class AccessLog:
    """A request id (``X-Request-ID``, or a new one) on the request and its response, and one
    JSON access-log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id").decode(errors="replace") or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: dict = {}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status.setdefault("code", 500)  # on its way to the 500 handler
            raise
        finally:
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                line = orjson.dumps({
                    "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status.get("code"),
                    "ms": round((time.perf_counter() - started) * 1000, 3), "client": (scope.get("client") or [None])[0],
                }).decode()  # fmt: skip
                # The record made as Logger.info makes it, less the search of the stack for the
                # caller's file and line (a quarter of its cost, paid on every request).
                ACCESS_LOG.handle(ACCESS_LOG.makeRecord(ACCESS_LOG.name, logging.INFO, __file__, 0, line, None, None, "AccessLog"))


class BearerAuth:
    """Every path but :data:`OPEN_PATHS` requires ``Authorization: Bearer <token>`` (compared in
    constant time) — the API, the model list in ``/readyz``, the OpenAPI document and the docs."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS and not self._authorized(scope):
            response = error_response(401, "A valid bearer token is required.", "Send Authorization: Bearer <token>.", {"www-authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope) -> bool:
        scheme, _, value = _header(scope, b"authorization").partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(value, self.token)


class BodyLimit:
    """Refuses a body over ``limit`` bytes with 413: at once when Content-Length says so, else as
    soon as the bytes received pass the limit (a chunked body has no length), so no more than
    the limit and one chunk is ever held."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self.limit:
            error = body_too_large(self.limit)
            await error_response(error.status_code, error.detail, error.hint, error.headers)(scope, receive, send)
            return
        if length.isdigit():  # the HTTP parser delivers no more than the length declared: nothing to count
            await self.app(scope, receive, send)
            return
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise body_too_large(self.limit)  # the app's HTTPException handler answers it
            return message

        await self.app(scope, counted_receive, send)


def _header(scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return b""
