"""A throwaway standalone Spark cluster on the loopback address, started from pyspark's own jars
(``spark-class`` runs ``deploy.master.Master`` and ``deploy.worker.Worker``; nothing is
downloaded): what the tests and the benchmarks run a project on to show that the SQL, the model
store and the trained models behave on a real cluster as on ``local[2]`` — executors in their own
JVMs and Python workers, the rows never on the driver. Also a way to try a cluster on a laptop.

The processes it starts are the only ones it stops.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from sqlml.errors import WarehouseError

__all__ = ["spark_environment", "standalone_cluster"]


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spark_environment() -> dict[str, str]:
    """The environment a cluster's processes (and a driver of it) run with: pyspark's folder as
    ``SPARK_HOME``, loopback as the address, this Python for the executors' Python workers."""
    import pyspark

    home = os.path.dirname(pyspark.__file__)
    return {**os.environ, "SPARK_HOME": home, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable}  # fmt: skip


def _alive_workers(ui_port: int) -> int:
    """The workers the master's status page lists as ALIVE (-1 while it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as response:
            return sum(worker["state"] == "ALIVE" for worker in json.load(response)["workers"])
    except OSError:
        return -1


@contextlib.contextmanager
def standalone_cluster(folder: Path, workers: int = 2, *, cores: int = 1, memory: str = "1g", timeout: float = 180) -> Iterator[str]:
    """Start a master and ``workers`` workers (``cores`` cores and ``memory`` each) on
    127.0.0.1, logging into ``folder``; yield the master URL once every worker has registered;
    stop them on leaving.

    Raises:
        WarehouseError: the workers did not register within ``timeout`` seconds (the master's log
            tail says why).
    """
    env = spark_environment()
    spark_class = str(Path(env["SPARK_HOME"]) / "bin" / "spark-class")
    port, ui_port = _free_port(), _free_port()
    started: list[subprocess.Popen] = []

    def start(*args: str, log: str) -> None:
        with open(folder / log, "wb") as out:
            started.append(subprocess.Popen([spark_class, *args], env=env, stdout=out, stderr=subprocess.STDOUT))

    master = f"spark://127.0.0.1:{port}"
    try:
        start("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port), log="master.log")
        for index in range(workers):
            work = folder / f"worker{index}"
            work.mkdir(exist_ok=True)
            start("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
                  "--webui-port", str(_free_port()), "--work-dir", str(work), master, log=f"worker{index}.log")  # fmt: skip
        deadline = time.monotonic() + timeout
        while _alive_workers(ui_port) < workers:
            if time.monotonic() > deadline:
                raise WarehouseError(
                    f"The standalone Spark cluster's {workers} worker(s) did not register within {timeout:.0f} s.",
                    hint=f"See the logs in {folder}: {(folder / 'master.log').read_text()[-500:]}",
                )
            time.sleep(0.25)  # a worker registers a few seconds after its start: poll often, answer soon
        yield master
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
