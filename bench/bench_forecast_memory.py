"""Forecasting memory: peak RSS of CREATE MODEL … ARIMA_PLUS as the number of series grows.

Each size runs in a child process (a clean heap): N daily series of 100 points are generated in
DuckDB, then the peak-memory window is reset and CREATE MODEL fits them all
(``time_series_id_col``; ``auto_arima_max_order=1``, at most six candidates a series, so that
10,000 series fit in minutes: the candidate search changes the time per series, not what is held). It
reports the calling process's RSS before, its peak during the statement, and each worker
process's peak (the workers exist only for the fit, so their whole-life peak is the fit's).

Target: the calling process grows about linearly with the data (the training rows, the series
as read, and what each fitted series keeps), the workers stay flat whatever N is (they only
ever hold a few chunks of series).

Usage: python bench/bench_forecast_memory.py [--series 1000,5000,10000] [--points 100]
"""

from __future__ import annotations

import argparse
import json
import sys

import psutil

import sqlml
from harness import measure_peak, peak_rss_of

CREATE = """CREATE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='y',
            time_series_id_col='id', auto_arima_max_order=1) AS SELECT id, day, y FROM ds.sales"""


def child(series: int, points: int) -> None:
    """Child process: build the table, fit the model, print one JSON line of measurements."""
    con = sqlml.connect(":memory:")
    con.dialect = "duckdb"
    con.query("CREATE SCHEMA ds")
    con.query(f"""CREATE TABLE ds.sales AS
        SELECT i AS id, DATE '2024-01-01' + j::INTEGER AS day,
               50 + 10 * (i % 7) + 4 * sin(2 * pi() * j / 7) + 0.02 * j + (hash(i * 100003 + j) % 1000) / 250.0 AS y
        FROM range({series}) s(i), range({points}) p(j)""")
    con.dialect = "bigquery"
    measured = measure_peak(lambda: con.query(CREATE))
    workers = [_peak_mib(process) for process in psutil.Process().children(recursive=True)]
    con.close()
    print(json.dumps({"series": series, **measured, "workers_mib": workers}))


def _peak_mib(process: psutil.Process) -> float:
    # A worker's VmHWM: its own peak resident memory.
    with open(f"/proc/{process.pid}/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="1000,5000,10000")
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.points)
        return
    print(f"\n### Peak memory of CREATE MODEL ARIMA_PLUS ({args.points} points a series, child process per size)\n")
    print("| series | rows | RSS before | peak RSS during CREATE MODEL | growth | growth per series | worker peaks | seconds |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|")
    for series in (int(n) for n in args.series.split(",")):
        result = peak_rss_of(__file__, "--child", str(series), "--points", str(args.points))
        growth = result["peak_mib"] - result["before_mib"]
        workers = ", ".join(f"{mib:,.0f}" for mib in result["workers_mib"]) or "none (serial)"
        print(f"| {series:,} | {series * args.points:,} | {result['before_mib']:,.0f} MiB | {result['peak_mib']:,.0f} MiB | "
              f"{growth:,.0f} MiB | {growth * 1024 / series:,.1f} KiB | {workers} MiB | {result['seconds']:,.1f} |")  # fmt: skip
        sys.stdout.flush()


if __name__ == "__main__":
    main()
