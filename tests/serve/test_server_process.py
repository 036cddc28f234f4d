"""`sqlml serve` as a real process over HTTP: auth, JSON access logs without secrets, SIGTERM that
lets in-flight requests finish and answers requests on idle keep-alive connections, and a
prediction log that survives ``kill -9``."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sqlml.serve.spool import segments

SQLML = shutil.which("sqlml", path=str(Path(sys.executable).parent)) or "sqlml"
INSTANCES = [{"income": i % 100, "sex": "female" if i % 3 == 0 else "male"} for i in range(2000)]
TOKEN = "t0ps3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_server(folder: Path, *options: str) -> tuple[int, subprocess.Popen]:
    """A ``sqlml serve`` process on ``folder``'s store, starting (see :func:`wait_until_up`)."""
    port = free_port()
    process = subprocess.Popen(
        [SQLML, "serve", "--warehouse", str(folder / "wh"), "--models", str(folder / "models"), "--model", "ds.m", "--port", str(port), *options],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    return port, process


def wait_until_up(port: int, process: subprocess.Popen) -> None:
    """Poll ``/healthz`` until the server answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            if request(port, "GET", "/healthz")[0] == 200:
                return
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the server did not start: {process.stderr.read()}")


@pytest.fixture
def servers():
    """``servers(folder, *options)``: :func:`launch_server`, and every server launched is killed
    when the test ends, if it still runs."""
    launched = []

    def launch(folder: Path, *options: str) -> tuple[int, subprocess.Popen]:
        launched.append(launch_server(folder, *options))
        return launched[-1]

    yield launch
    for _, process in launched:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def server(shared_store, servers):
    _, folder = shared_store
    token_file = folder / "token"
    token_file.write_text(TOKEN + "\n")
    port, process = servers(folder, "--token-file", str(token_file))
    wait_until_up(port, process)
    return port, process


def request(port: int, method: str, path: str, body=None, token: str | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, payload


def refused(port: int) -> bool:
    """Whether the server no longer takes connections (it has begun to shut down)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    time.sleep(0.05)
    return False


@pytest.mark.slow
def test_real_server_answers_logs_and_shuts_down_gracefully(server):
    port, process = server
    assert request(port, "POST", "/v1/models/ds.m:predict", {"instances": INSTANCES[:2]})[0] == 401
    status, body = request(port, "POST", "/v1/models/ds.m:predict", {"instances": INSTANCES[:2]}, token=TOKEN)
    assert status == 200 and len(body["predictions"]) == 2 and body["model_version"] == 1

    # A chunked body (no Content-Length) is refused once it passes 10 MiB, not read to its end.
    sent = []

    def endless_body():
        for _ in range(200):
            sent.append(1)
            yield b" " * (1024 * 1024)

    too_large = httpx.post(f"http://127.0.0.1:{port}/v1/models/ds.m:predict", content=endless_body(), timeout=60,
                           headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert too_large.status_code == 413 and too_large.json()["error"] == "The body is larger than 10 MiB."
    assert len(sent) < 50  # MiB: what the socket buffers took besides the 10 MiB read

    # A request whose body is still arriving when SIGTERM comes is finished before the process exits.
    payload = json.dumps({"instances": INSTANCES}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.putrequest("POST", "/v1/models/ds.m:predict")
    for name, value in {"content-type": "application/json", "content-length": str(len(payload)), "authorization": f"Bearer {TOKEN}"}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(payload[: len(payload) // 2])

    # A keep-alive connection, idle when SIGTERM comes. Its answer also says the server has read the
    # half body sent before it (the event loop reads sockets in the order their bytes arrived).
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    idle.request("GET", "/readyz", headers={"authorization": f"Bearer {TOKEN}"})
    first = idle.getresponse()
    assert first.status == 200 and first.getheader("connection") is None
    first.read()
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while not refused(port) and time.monotonic() < deadline:
        pass
    assert refused(port)  # shutting down: no new connections

    # A request sent on the idle keep-alive connection now is answered, not met by a reset.
    idle.request("POST", "/v1/models/ds.m:predict", body=json.dumps({"instances": INSTANCES[:3]}),
                 headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"})  # fmt: skip
    answer = idle.getresponse()
    assert answer.status == 200 and len(json.loads(answer.read())["predictions"]) == 3
    assert answer.getheader("connection") == "close"

    connection.send(payload[len(payload) // 2 :])
    response = connection.getresponse()
    assert response.status == 200 and len(json.loads(response.read())["predictions"]) == len(INSTANCES)
    assert response.getheader("connection") == "close"
    assert process.wait(timeout=30) == 0

    logs = process.stderr.read()
    assert TOKEN not in logs  # tokens are never logged
    access = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"path"' in line]
    assert {(entry["path"], entry["status"]) for entry in access} >= {("/v1/models/ds.m:predict", 401), ("/v1/models/ds.m:predict", 200)}
    assert all({"request_id", "method", "ms"} <= set(entry) for entry in access)


@pytest.mark.slow
def test_a_killed_server_s_predictions_reach_the_log_at_the_next_start_once_each(store, servers, warehouse_held, wait_for):
    con, folder = store
    spool = folder / "wh" / "spool" / "ds.served"
    port, process = servers(folder, "--log-table", "ds.served")  # starting beside the holder below
    with warehouse_held(folder):  # the first server cannot write the table: what it serves is only spooled
        wait_until_up(port, process)
        served = [request(port, "POST", "/v1/models/ds.m:predict", {"instances": [INSTANCES[i]]})[1]["request_id"] for i in range(20)]
        process.kill()
        process.wait()
        left = segments(spool)
        assert sum(len(segment.read_bytes().splitlines()) for segment in left) == 20
        with left[-1].open("ab") as file:
            file.write(b'{"seq": 21, "request_id": "torn by the kill", "inp')
        port, process = servers(folder, "--log-table", "ds.served")  # the next start, while the holder lets go
    wait_until_up(port, process)

    def logged() -> list[str]:
        return [row[0] for row in con.query("SELECT request_id FROM ds.served ORDER BY served_at").fetchall()]

    wait_for(lambda: con.relation_kind("ds.served") and len(logged()) >= 20)
    assert logged() == served
    request(port, "POST", "/v1/models/ds.m:predict", {"instances": INSTANCES[:2]})
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert logged()[:20] == served and len(logged()) == 22  # the last two written as the server stopped
    assert segments(spool) == []
