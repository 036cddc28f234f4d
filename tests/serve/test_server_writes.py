"""``sqlml serve``'s uvicorn protocol writes a response's head together with its body: one send()
per small response instead of two, with the same bytes on the wire."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest
import uvicorn

from sqlml.serve.server import DrainingHttpToolsProtocol, HeadWithBody


class Recorded:
    """A transport that records each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_the_head_is_held_until_the_body_and_sent_with_it():
    transport, cycle = Recorded(), SimpleNamespace(response_started=False)
    wrapped = HeadWithBody(transport, cycle)
    wrapped.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response: at once
    cycle.response_started = True
    wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    wrapped.write(b"ab")
    wrapped.write(b"cd")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab", b"cd"]


def test_a_large_body_follows_its_head_and_closing_sends_a_held_head():
    transport, cycle = Recorded(), SimpleNamespace(response_started=True)
    wrapped = HeadWithBody(transport, cycle)
    wrapped.write(b"head")
    body = b"x" * (HeadWithBody.JOIN_MAX_BYTES + 1)
    wrapped.write(body)
    assert transport.writes == [b"head", body]
    transport, cycle = Recorded(), SimpleNamespace(response_started=True)
    wrapped = HeadWithBody(transport, cycle)
    wrapped.write(b"head")
    wrapped.close()  # an app that failed after starting its response: uvicorn closes the connection
    assert transport.writes == [b"head"] and transport.closed and wrapped.is_closing()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b"hello" * (1 if scope["path"] == "/small" else 20_000)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        number = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=number, http=DrainingHttpToolsProtocol, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield number
    server.should_exit = True
    thread.join(10)


def exchange(port: int, requests: bytes, responses: int, bodiless: bool = False) -> list[bytes]:
    """Send ``requests`` on one keep-alive connection; read ``responses`` final responses (by their
    lengths; ``bodiless``: HEAD's, whose length has no body), skipping interim ``100 Continue``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(requests)
        data, answers = b"", []
        while len(answers) < responses:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].lower()
                length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0]) if b"content-length: " in head and not bodiless else 0
                if len(data) >= head_end + 4 + length:
                    if not head.startswith(b"http/1.1 100"):
                        answers.append(data[: head_end + 4 + length])
                    data = data[head_end + 4 + length :]
                    continue
            chunk = connection.recv(65536)
            assert chunk, f"the server closed the connection after {len(answers)} responses"
            data += chunk
        return answers


def test_responses_arrive_whole_on_a_keep_alive_connection(port):
    requests = (
        b"GET /small HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /large HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /small HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nab"
    )
    small, large, empty, continued = exchange(port, requests, 4)
    assert small.startswith(b"HTTP/1.1 200 OK\r\n") and small.endswith(b"\r\n\r\nhello")
    assert large.startswith(b"HTTP/1.1 200 OK\r\n") and large.endswith(b"\r\n\r\n" + b"hello" * 20_000)
    assert empty.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert continued.startswith(b"HTTP/1.1 200 OK\r\n") and continued.endswith(b"hello")


def test_a_head_request_gets_its_head_at_once(port):
    (head,) = exchange(port, b"HEAD /small HTTP/1.1\r\nHost: x\r\n\r\n", 1, bodiless=True)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 5" in head.lower()
