"""Running the app on uvicorn, with a shutdown that no client sees as a reset connection.

On SIGTERM uvicorn stops accepting connections, lets requests in flight finish (their responses
say ``Connection: close``) and then runs the app's shutdown. But it closes *idle* keep-alive
connections at once, so a request a client sent on one just then is met by a closed socket
(``ECONNRESET``) instead of an answer. :class:`DrainingHttpToolsProtocol` keeps an idle
connection open until its keep-alive timeout instead (``timeout_keep_alive``, 5 s, exactly as if
the server kept running); a request that arrives on it meanwhile is answered, with
``Connection: close``, and the connection is then closed. The server exits once every
connection is closed (or after ``timeout_graceful_shutdown``).
"""

from __future__ import annotations

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
        """A request on a draining connection is answered, then the connection closes."""
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False


def run(app: Callable[..., Awaitable[None]] | str, *, host: str, port: int, workers: int = 1) -> None:
    """Serve ``app`` (an ASGI app, or with several ``workers`` the import string of an app
    factory) on ``host``:``port`` until SIGTERM or SIGINT."""
    options = {"host": host, "port": port, "http": DrainingHttpToolsProtocol, **OPTIONS}
    if workers > 1:
        uvicorn.run(app, factory=True, workers=workers, **options)
    else:
        uvicorn.run(app, **options)
