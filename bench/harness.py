"""Shared helpers for the benchmarks: best-of-N timing, peak memory of a child process, a results table.

Every benchmark compares sqlml with the raw library doing the same work in the same run, and prints
ratios, so the numbers mean the same on any machine.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


def best_of(work: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """The fastest of ``repeat`` runs of ``work`` in seconds, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def per_call(work: Callable[[], object], calls: int, repeat: int = 5) -> float:
    """Seconds per call of ``work``, the best of ``repeat`` batches of ``calls`` calls."""

    def batch():
        for _ in range(calls):
            work()

    return best_of(batch, repeat=repeat) / calls


def alternate(ours: Callable[[], object], theirs: Callable[[], object], pairs: int) -> list[tuple[float, float]]:
    """Time ``ours`` and ``theirs`` one after the other ``pairs`` times (after one untimed run of each).

    Alternating run by run puts both sides under the same machine load, so the per-pair ratios
    hold still where two back-to-back best-of-N series drift apart.
    """
    ours()
    theirs()
    timings = []
    for _ in range(pairs):
        started = time.perf_counter()
        ours()
        middle = time.perf_counter()
        theirs()
        timings.append((middle - started, time.perf_counter() - middle))
    return timings


def peak_rss_of(script: str, *args: str) -> dict:
    """Run ``python script args`` in a child process and return the JSON object it prints last.

    The child measures its own peak memory (:func:`own_peak_rss_mib`); a child process gives each
    measurement a clean heap, so the peak is the work's own.
    """
    completed = subprocess.run([sys.executable, script, *args], check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def reset_peak_rss() -> None:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def own_peak_rss_mib() -> float:
    """This process's peak resident memory in MiB.

    Linux's ``VmHWM`` belongs to the process's own address space; ``getrusage``'s ``ru_maxrss``
    survives ``execve``, so a child started by a large parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_peak(work: Callable[[], object]) -> dict:
    """Run ``work`` once in a fresh peak-memory window: its seconds, and this process's resident
    memory before it and at its peak (MiB), as a child process of :func:`peak_rss_of` prints them."""
    reset_peak_rss()
    before = own_peak_rss_mib()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return {"before_mib": before, "peak_mib": own_peak_rss_mib(), "seconds": seconds}


def network_inputs(table, features: int):
    """The ``x0 … x{features-1}`` columns of ``table`` standardized as sqlml's preprocessing gives
    them to a network (mean 0, sample standard deviation 1), as float32."""
    import numpy as np

    X = np.column_stack([table.column(f"x{i}").to_numpy() for i in range(features)])
    return ((X - X.mean(axis=0)) / X.std(axis=0, ddof=1)).astype(np.float32)


@dataclass
class Row:
    """One comparison: what was measured, sqlml's time, the baseline's time, and the target."""

    name: str
    sqlml: float
    baseline: float
    target: str = ""
    unit: str = "s"

    @property
    def ratio(self) -> float:
        """sqlml's time over the baseline's time (1.00 = same speed, lower is better)."""
        return self.sqlml / self.baseline if self.baseline else float("inf")


def time_on_engines(prefix: str, rounds: int, run: Callable[[object, bool], dict[str, float]]) -> tuple[dict[str, list[tuple[float, float]]], float]:
    """Run a project on DuckDB and on Spark local[2], ``rounds`` times alternating (DuckDB first),
    each engine with its own warehouse and model store in a new temporary folder.

    ``run(connection, on_spark)`` returns each step's seconds. Returns ``step → [(duckdb, spark), …]``
    (for :func:`engine_rows`) and the seconds Spark's session took to start (timed apart, once).
    """
    import os
    import tempfile
    from pathlib import Path

    import sqlml

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python: this one, which has sqlml
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    started = time.perf_counter()
    spark = sqlml.connect(folder / "spark", folder / "models-spark", engine="spark")
    spark.query("SELECT 1").arrow()
    start_seconds = time.perf_counter() - started
    duck = sqlml.connect(folder / "duckdb", folder / "models-duckdb")
    timings: dict[str, list[tuple[float, float]]] = {}
    try:
        for round_index in range(rounds):
            print(f"round {round_index + 1}: DuckDB", flush=True)
            on_duckdb = run(duck, False)
            print(f"round {round_index + 1}: Spark local[2]", flush=True)
            on_spark = run(spark, True)
            for step, seconds in on_duckdb.items():
                timings.setdefault(step, []).append((seconds, on_spark[step]))
    finally:
        duck.close()
        spark.close()
    return timings, start_seconds


def engine_rows(timings: dict[str, list[tuple[float, float]]], target: str) -> list[Row]:
    """Rows of a project's steps timed on DuckDB and on Spark (``step → [(duckdb, spark), …]`` over
    alternating rounds): Spark as the "sqlml" column, DuckDB as the baseline, each the median, then
    the whole project as the sum of the medians."""
    rows = [Row(step, statistics.median(s for _, s in pairs), statistics.median(d for d, _ in pairs), target) for step, pairs in timings.items()]
    rows.append(Row("whole project", sum(r.sqlml for r in rows), sum(r.baseline for r in rows), "ratio reported"))
    return rows


def local_spark(folder: Path) -> object:
    """A Spark ``local[2]`` session (no UI, 2 GB driver) with its warehouse in ``folder``."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(folder / "spark-warehouse")).config("spark.driver.memory", "2g").getOrCreate()
    )  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def print_table(title: str, rows: list[Row]) -> None:
    """Print the comparisons as a Markdown table, ready to paste into bench/README.md."""
    print(f"\n### {title}\n")
    print("| measurement | sqlml | baseline | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row.name} | {_fmt(row.sqlml, row.unit)} | {_fmt(row.baseline, row.unit)} | {row.ratio:.2f}× | {row.target} |")
    sys.stdout.flush()


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.3f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:,.1f} {unit}"
