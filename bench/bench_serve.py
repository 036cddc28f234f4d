"""Online serving: latency and throughput of ``sqlml serve`` against calling the model in Python.

A boosted tree classifier (20 numeric + 2 STRING features, 50 rounds) is served by a real
``sqlml serve`` process on loopback; a load generator in another process sends requests over
keep-alive connections, bounded in count and time:

* latency: single-row and 100-row requests one after the other (p50, p99), and single-row
  requests with ``--log-table`` (each request's rows synced to the spool file before it is answered);
* throughput: single-row requests from several connections at once for a fixed time, and with
  ``--log-table`` (requests that arrive together share one sync of the spool: group commit).

The baseline is the same scoring called directly in Python (JSON instances → Arrow → the model →
rows, :mod:`sqlml.serve.scoring`), and LightGBM's ``Booster.predict`` on one row.
Targets (issue 10): p50 under 3 ms single-row; at least 1,000 requests/s on 2 cores.

Usage: python bench/bench_serve.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import sqlml
from bench_ml import create_data

NUMERIC = [f"f{i}" for i in range(20)]


def instance(i: int) -> dict:
    row = {name: ((i * 31 + k) % 2000) / 1000.0 - 1.0 for k, name in enumerate(NUMERIC)}
    row["s0"], row["s1"] = f"c{i % 8}", f"k{i % 40}"
    return row


def percentiles(latencies: list[float]) -> tuple[float, float]:
    values = np.array(latencies) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 99))


def latency_client(port: int, rows: int, count: int, seconds: float, out) -> None:
    """One keep-alive connection sending requests of ``rows`` instances one after the other."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"instances": [instance(i) for i in range(rows)]})
    headers = {"content-type": "application/json"}
    latencies, deadline = [], time.monotonic() + seconds
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/v1/models/ds.bt:predict", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        latencies.append(time.perf_counter() - started)
        if time.monotonic() > deadline:
            break
    out.put(latencies)


def throughput_client(port: int, connections: int, seconds: float, out) -> None:
    """``connections`` threads each sending single-row requests for ``seconds``; total answered."""
    body = json.dumps({"instances": [instance(1)]})
    done = [0] * connections
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop:
            connection.request("POST", "/v1/models/ds.bt:predict", body=body, headers={"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
            done[index] += response.status == 200

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(sum(done) / seconds)


def in_other_process(target, *args):
    """Run a load generator in its own process (not sharing this one's GIL) and return its result."""
    results = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(target=target, args=(*args, results))
    process.start()
    value = results.get(timeout=600)
    process.join()
    return value


def direct_baselines(folder: Path) -> dict[str, float]:
    """p50 ms of scoring one row in Python: sqlml's serving path, and Booster.predict alone; and of
    spooling one request's row (write and fdatasync, as ``--log-table`` does before answering)."""
    from sqlml.ml.runtime.model_cache import CACHE
    from sqlml.serve import scoring
    from sqlml.serve.spool import SpoolWriter
    from sqlml.store.records import ModelRef

    with sqlml.connect(folder / "wh", folder / "models") as con:
        model = CACHE.get(con.models, con.models.resolve(ModelRef("ds", "bt")))
    one, hundred = [instance(1)], [instance(i) for i in range(100)]
    X = model.features(scoring.instances_batch(model, one))
    booster = model.estimator.booster_
    spool = SpoolWriter(folder / "spool")
    record = {"request_id": "r", "model": "ds.bt", "model_version": 1, "inputs": one, "outputs": scoring.predict(model, scoring.instances_batch(model, one))}
    timings = {}
    for label, work in {
        "sqlml scoring, 1 row": lambda: scoring.predict(model, scoring.instances_batch(model, one)),
        "sqlml scoring, 100 rows": lambda: scoring.predict(model, scoring.instances_batch(model, hundred)),
        "Booster.predict, 1 row": lambda: booster.predict(X, num_threads=1),
        "spool append, 1 row": lambda: spool.append(record, default=scoring.json_default),
    }.items():
        samples = []
        for _ in range(500):
            started = time.perf_counter()
            work()
            samples.append(time.perf_counter() - started)
        timings[label] = statistics.median(samples) * 1000
    spool.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="server processes for the throughput run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with sqlml.connect(folder / "wh", folder / "models") as con:
            create_data(con, 100_000)
            con.query(
                "CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'], max_iterations=50, "
                "early_stop=FALSE, data_split_method='NO_SPLIT') AS SELECT * FROM ds.train"
            )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        sqlml_bin = shutil.which("sqlml", path=str(Path(sys.executable).parent)) or "sqlml"
        command = [sqlml_bin, "serve", "--warehouse", str(folder / "wh"), "--models", str(folder / "models"), "--model", "ds.bt"]
        with _server(command + ["--port", str(port)], port):
            single = in_other_process(latency_client, port, 1, 3000, args.seconds)
            batch = in_other_process(latency_client, port, 100, 1000, args.seconds)
            rate = in_other_process(throughput_client, port, 8, args.seconds)
        with _server(command + ["--port", str(port), "--workers", str(args.workers)], port):
            rate_workers = in_other_process(throughput_client, port, 8, args.seconds)
        with _server(command + ["--port", str(port), "--log-table", "ds.served"], port):
            logged = in_other_process(latency_client, port, 1, 3000, args.seconds)
            rate_logged = in_other_process(throughput_client, port, 8, args.seconds)
        direct = direct_baselines(folder)
    p50, p99 = percentiles(single)
    b50, b99 = percentiles(batch)
    l50, l99 = percentiles(logged)
    print("\n### Online serving (bench_serve.py, loopback, load generator in another process)\n")
    print("| measurement | sqlml serve | direct in Python | target |")
    print("|---|---:|---:|---|")
    print(f"| single-row request, p50 / p99 | {p50:.2f} / {p99:.2f} ms | {direct['sqlml scoring, 1 row']:.2f} ms (Booster.predict alone {direct['Booster.predict, 1 row']:.3f} ms) | p50 < 3 ms |")
    print(f"| 100-row request, p50 / p99 | {b50:.2f} / {b99:.2f} ms | {direct['sqlml scoring, 100 rows']:.2f} ms | report |")
    print(f"| single-row request with --log-table, p50 / p99 | {l50:.2f} / {l99:.2f} ms | spool append alone {direct['spool append, 1 row']:.3f} ms | report |")
    print(f"| single-row throughput, 8 connections, 1 server process | {rate:,.0f} requests/s | — | ≥ 1,000 requests/s |")
    print(f"| single-row throughput, 8 connections, --workers {args.workers} | {rate_workers:,.0f} requests/s | — | ≥ 1,000 requests/s |")
    print(f"| single-row throughput, 8 connections, 1 server process, --log-table | {rate_logged:,.0f} requests/s | — | report |")


@contextlib.contextmanager
def _server(command: list[str], port: int):
    """A ``sqlml serve`` process, ready, stopped with SIGTERM afterwards."""
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port)
        yield process
    finally:
        process.terminate()
        process.wait()


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


if __name__ == "__main__":
    main()
