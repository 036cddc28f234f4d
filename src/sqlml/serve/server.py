"""Running the app on uvicorn, with a shutdown that no client sees as a reset connection.

On SIGTERM uvicorn stops accepting connections, lets requests in flight finish (their responses
say ``Connection: close``) and then runs the app's shutdown. But it closes *idle* keep-alive
connections at once, so a request a client sent on one just then is met by a closed socket
(``ECONNRESET``) instead of an answer. :class:`DrainingHttpToolsProtocol` keeps an idle
connection open until its keep-alive timeout instead (``timeout_keep_alive``, 5 s, exactly as if
the server kept running); a request that arrives on it meanwhile is answered, with
``Connection: close``, and the connection is then closed. The server exits once every
connection is closed (or after ``timeout_graceful_shutdown``).

uvicorn writes a response's head (status line and headers) as soon as the app starts the
response, and its body with a second ``send()`` system call. For a small prediction the two
system calls cost more than answering it (on loopback each also runs the client's side of TCP),
so the protocol gives each response cycle a :class:`HeadWithBody` transport, which holds the
head until the body's first write and sends both in one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: uvicorn's settings for ``sqlml serve``: our logs instead of its own, a bounded graceful stop.
OPTIONS = {"log_config": None, "access_log": False, "timeout_graceful_shutdown": 30, "timeout_keep_alive": 5}


class DrainingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, draining idle keep-alive connections on shutdown instead of
    dropping them (pass it as ``uvicorn.run(..., http=DrainingHttpToolsProtocol)``)."""

    draining = False

    def shutdown(self) -> None:
        """Called by the server when it stops: busy connections close after their response
        (uvicorn's own behaviour); idle ones stay open until their keep-alive timeout."""
        if self.cycle is not None and not self.cycle.response_complete:
            super().shutdown()
            return
        self.draining = True
        if self.timeout_keep_alive_task is None:  # connected, but no request yet: no timer armed
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def on_headers_complete(self) -> None:
        """A request on a draining connection is answered, then the connection closes. Each
        response (but HEAD's, which has no body) writes its head with its body (:class:`HeadWithBody`)."""
        super().on_headers_complete()
        if self.cycle is None:
            return
        if self.draining:
            self.cycle.keep_alive = False
        if self.cycle.scope["method"] != "HEAD" and not isinstance(self.cycle.transport, HeadWithBody):  # an upgrade makes no new cycle
            self.cycle.transport = HeadWithBody(self.transport, self.cycle)


class HeadWithBody:
    """The transport as one response cycle writes to it: the first write after the response
    started (its head) is held and sent with the next (the body's first bytes, possibly empty),
    in one ``send()``. Writes before the response (``100 Continue``) go at once; closing sends a
    held head first, as uvicorn would have.

    Args:
        transport: the connection's transport.
        cycle: the request's uvicorn ``RequestResponseCycle``.
    """

    #: A body larger than this is written after the head rather than copied to join it.
    JOIN_MAX_BYTES = 64 * 1024

    def __init__(self, transport: asyncio.Transport, cycle) -> None:
        self.transport, self.cycle = transport, cycle
        self.head: bytes | None = None
        self.started = False

    def write(self, data: bytes) -> None:
        if not self.cycle.response_started:
            self.transport.write(data)
        elif not self.started:
            self.started, self.head = True, data
        elif self.head is None:
            self.transport.write(data)
        else:
            head, self.head = self.head, None
            if len(data) <= self.JOIN_MAX_BYTES:
                self.transport.write(head + data)
            else:
                self.transport.write(head)
                self.transport.write(data)

    def close(self) -> None:
        if self.head is not None:
            head, self.head = self.head, None
            self.transport.write(head)
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()


def run(app: Callable[..., Awaitable[None]] | str, *, host: str, port: int, workers: int = 1) -> None:
    """Serve ``app`` (an ASGI app, or with several ``workers`` the import string of an app
    factory) on ``host``:``port`` until SIGTERM or SIGINT."""
    options = {"host": host, "port": port, "http": DrainingHttpToolsProtocol, **OPTIONS}
    if workers > 1:
        uvicorn.run(app, factory=True, workers=workers, **options)
    else:
        uvicorn.run(app, **options)
