"""Online serving: ``sqlml serve`` against a minimal FastAPI + LightGBM app and a bare Starlette
endpoint, in the same run, on the same model and the same JSON.

A boosted tree classifier (20 numeric features, 50 rounds) is trained with CREATE MODEL; its
LightGBM booster, saved as text, is what the FastAPI app scores with ``Booster.predict``
(:mod:`serve_baselines`). The three servers run side by side as uvicorn processes on loopback
(httptools, uvloop, no access log but ``sqlml serve``'s own), each one process. The load
generator is another process: an asyncio client on raw keep-alive sockets that sends prebuilt
single-row requests and reads only the status and the length of each response, so it is not
the bottleneck (it drives the bare endpoint at several times ``sqlml serve``'s rate).

Measured per round, the three servers one after the other (rounds alternate the machine's load
over all three alike; medians of the per-round ratios are reported):

* throughput: single-row requests from 32 connections at once, each sending its next request
  when the previous one is answered, for ``--seconds``;
* latency: single-row requests from one connection, one after the other (p50, p99);
* CPU: each server process's own CPU time (user + system, from /proc) over its throughput run,
  per request answered — what a request costs the server whatever else the machine runs (on a
  shared machine the wall-clock rates follow the other users' load; the CPU per request much less).

Targets (issue 19): throughput ≥ 1.0× the FastAPI + LightGBM app and ≥ 0.5× bare Starlette;
p50 ≤ 0.5 ms for one client.

Before the rounds each server takes ``--warmup`` seconds of load (``sqlml serve`` compiles its
model's forest in the background as it loads it; LightGBM scores meanwhile).

Usage: python bench/bench_serve.py [--seconds 3] [--rounds 3] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sqlml
from bench_ml import create_data
from serve_baselines import ROUTE

NUMERIC = [f"f{i}" for i in range(20)]
BODY = json.dumps({"instances": [{name: (k * 37 % 200) / 100.0 - 1.0 for k, name in enumerate(NUMERIC)}]}).encode()
REQUEST = (
    f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY
)


class Connection(asyncio.Protocol):
    """One keep-alive connection sending :data:`REQUEST` again as soon as each response is complete."""

    def __init__(self, deadline: float, latencies: list[float]) -> None:
        self.deadline, self.latencies = deadline, latencies
        self.buffer = b""
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.send()

    def send(self) -> None:
        self.sent = time.perf_counter()
        self.transport.write(REQUEST)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        start = head.index(b"content-length:") + len(b"content-length:")
        length = int(head[start : head.index(b"\r\n", start) if b"\r\n" in head[start:] else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        if head[9:12] != b"200":
            self.done.set_exception(RuntimeError(f"status {head[9:12].decode()}: {self.buffer[end + 4 :][:300]!r}"))
            return
        self.buffer = self.buffer[end + 4 + length :]
        now = time.perf_counter()
        self.latencies.append(now - self.sent)
        if now < self.deadline:
            self.send()
        else:
            self.transport.close()
            self.done.set_result(None)


async def _load(port: int, connections: int, seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    protocols = [(await loop.create_connection(lambda: Connection(deadline, latencies), "127.0.0.1", port))[1] for _ in range(connections)]
    await asyncio.gather(*(p.done for p in protocols))
    return latencies


def load(port: int, connections: int, seconds: float, out) -> None:
    """In its own process: ``connections`` connections for ``seconds``; puts every latency."""
    import uvloop

    out.put(uvloop.run(_load(port, connections, seconds)))


def measured(port: int, connections: int, seconds: float) -> list[float]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=load, args=(port, connections, seconds, results))
    process.start()
    latencies = results.get(timeout=seconds + 120)
    process.join()
    return latencies


def trained(folder: Path) -> Path:
    """Train ds.bt in ``folder`` and save its booster as LightGBM text; check both score alike."""
    from sqlml.ml.runtime.model_cache import CACHE
    from sqlml.store.records import ModelRef

    with sqlml.connect(folder / "wh", folder / "models") as con:
        create_data(con, 20_000)
        con.query("ALTER TABLE ds.train DROP COLUMN s0")
        con.query("ALTER TABLE ds.train DROP COLUMN s1")
        con.query(
            "CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'], max_iterations=50, "
            "early_stop=FALSE, data_split_method='NO_SPLIT') AS SELECT * FROM ds.train"
        )
        row = json.loads(BODY)["instances"][0]
        sql = ", ".join(f"{value} AS {name}" for name, value in row.items())
        ours = con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.bt, (SELECT {sql}))").arrow().to_pylist()[0]
        booster = CACHE.get(con.models, con.models.resolve(ModelRef("ds", "bt"))).estimator.booster_
    path = folder / "booster.txt"
    booster.save_model(str(path))
    theirs = booster.predict(np.array([[row[name] for name in NUMERIC]]))[0]
    assert abs({p["label"]: p["prob"] for p in ours["predicted_label_probs"]}[True] - theirs) < 1e-12
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load per server before the rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        booster = trained(folder)
        ports = [_free_port() for _ in range(3)]
        sqlml_bin = shutil.which("sqlml", path=str(Path(sys.executable).parent)) or "sqlml"
        uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
        servers = {
            "sqlml serve": [sqlml_bin, "serve", "--warehouse", str(folder / "wh"), "--models", str(folder / "models"), "--model", "ds.bt", "--port", str(ports[0])],
            "FastAPI + Booster.predict": [*uvicorn, "serve_baselines:fastapi_app", "--port", str(ports[1])],
            "bare Starlette": [*uvicorn, "serve_baselines:starlette_app", "--port", str(ports[2])],
        }
        # One OpenMP thread in every server: Booster.predict's default (all cores) on a 2-core machine
        # shared with the load generator costs the FastAPI app milliseconds per request (72 vs ~1,500
        # requests/s here); sqlml's estimator already predicts small batches on one thread.
        environment = {**os.environ, "BENCH_BOOSTER": str(booster), "BENCH_FEATURES": ",".join(NUMERIC), "OMP_NUM_THREADS": "1"}
        load = os.getloadavg()
        with contextlib.ExitStack() as stack:
            processes = [stack.enter_context(_server(command, port, environment)) for command, port in zip(servers.values(), ports)]
            for port in ports:  # warm-up: sqlml serve compiles its forest in the background as it loads the model
                measured(port, 4, args.warmup)
            rates, p50s, p99s, cpus = ({name: [] for name in servers} for _ in range(4))
            for _ in range(args.rounds):
                for name, port, process in zip(servers, ports, processes):
                    before = _cpu_seconds(process.pid)
                    answered = len(measured(port, 32, args.seconds))
                    cpus[name].append((_cpu_seconds(process.pid) - before) / answered * 1e6)
                    rates[name].append(answered / args.seconds)
                    single = np.array(measured(port, 1, args.seconds)) * 1000
                    p50s[name].append(float(np.percentile(single, 50)))
                    p99s[name].append(float(np.percentile(single, 99)))
    _report(rates, p50s, p99s, cpus, args, (load, os.getloadavg()))


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _report(rates: dict, p50s: dict, p99s: dict, cpus: dict, args, loads: tuple) -> None:
    ours, our_cpu = rates["sqlml serve"], cpus["sqlml serve"]
    print(f"\n### Online serving (bench_serve.py, {args.rounds} rounds of {args.seconds:g} s, three servers in the same run)\n")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average (1 min) {loads[0][0]:.2f} at the start, {loads[1][0]:.2f} at the end.\n")
    print(
        "| server | single-row throughput, 32 connections | p50 / p99, 1 connection | sqlml serve's throughput ÷ this (median of rounds) "
        "| server CPU per request, 32 connections | sqlml serve's requests per CPU-second ÷ this |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in rates:
        ratio = statistics.median(a / b for a, b in zip(ours, rates[name]))
        cpu_ratio = statistics.median(b / a for a, b in zip(our_cpu, cpus[name]))
        print(
            f"| {name} | {statistics.median(rates[name]):,.0f} requests/s | {statistics.median(p50s[name]):.3f} / {statistics.median(p99s[name]):.3f} ms "
            f"| {ratio:.2f}× | {statistics.median(cpus[name]):.0f} µs | {cpu_ratio:.2f}× |"
        )
    print("\nTargets: ≥ 1.0× FastAPI + Booster.predict, ≥ 0.5× bare Starlette, p50 ≤ 0.5 ms for sqlml serve.")
    print("Per-round throughputs:", {name: [round(r) for r in values] for name, values in rates.items()})
    print("Per-round CPU µs per request:", {name: [round(c) for c in values] for name, values in cpus.items()})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(command: list[str], port: int, environment: dict):
    """A server process, ready (it answers ``POST`` on :data:`ROUTE`), stopped with SIGTERM afterwards."""
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent, env=environment)
    try:
        _wait_ready(port, process)
        yield process
    finally:
        process.terminate()
        process.wait()


def _wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", ROUTE, body=BODY, headers={"content-type": "application/json"})
            response = connection.getresponse()
            if response.status == 200:
                return
            raise RuntimeError(f"{response.status}: {response.read()[:300]!r}")
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not become ready")


if __name__ == "__main__":
    main()
