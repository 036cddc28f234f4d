"""`sqlml serve` as a real process over HTTP: auth, JSON access logs without secrets, SIGTERM that
lets an in-flight request finish."""

from __future__ import annotations

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

import pytest

SQLML = shutil.which("sqlml", path=str(Path(sys.executable).parent)) or "sqlml"
INSTANCES = [{"income": i % 100, "sex": "female" if i % 3 == 0 else "male"} for i in range(2000)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(store):
    con, folder = store
    token_file = folder / "token"
    token_file.write_text("t0ps3cret\n")
    port = free_port()
    process = subprocess.Popen(
        [SQLML, "serve", "--warehouse", str(folder / "wh"), "--models", str(folder / "models"), "--model", "ds.m",
         "--port", str(port), "--token-file", str(token_file)],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _ = request(port, "GET", "/readyz")
            if status == 200:
                break
        except OSError:
            time.sleep(0.2)
    yield port, process
    if process.poll() is None:
        process.kill()
        process.wait()


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


@pytest.mark.slow
def test_real_server_answers_logs_and_shuts_down_gracefully(server):
    port, process = server
    assert request(port, "POST", "/v1/models/ds.m:predict", {"instances": INSTANCES[:2]})[0] == 401
    status, body = request(port, "POST", "/v1/models/ds.m:predict", {"instances": INSTANCES[:2]}, token="t0ps3cret")
    assert status == 200 and len(body["predictions"]) == 2 and body["model_version"] == 1

    # A request whose body is still arriving when SIGTERM comes is finished before the process exits.
    payload = json.dumps({"instances": INSTANCES}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.putrequest("POST", "/v1/models/ds.m:predict")
    for name, value in {"content-type": "application/json", "content-length": str(len(payload)), "authorization": "Bearer t0ps3cret"}.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(payload[: len(payload) // 2])
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    connection.send(payload[len(payload) // 2 :])
    response = connection.getresponse()
    assert response.status == 200 and len(json.loads(response.read())["predictions"]) == len(INSTANCES)
    assert process.wait(timeout=30) == 0

    logs = process.stderr.read()
    assert "t0ps3cret" not in logs  # tokens are never logged
    access = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"path"' in line]
    assert {(entry["path"], entry["status"]) for entry in access} >= {("/v1/models/ds.m:predict", 401), ("/v1/models/ds.m:predict", 200)}
    assert all({"request_id", "method", "ms"} <= set(entry) for entry in access)
