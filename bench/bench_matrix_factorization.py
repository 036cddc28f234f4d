"""CREATE MODEL … MATRIX_FACTORIZATION vs the same fit called directly, explicit and implicit,
each side in its own child process with the same pinned thread settings.

Ratings: N (default 1,000,000) of 50,000 users × 10,000 items, a rank-8 structure plus noise
(explicit: ratings around 3; implicit: positive interaction strengths). Both models have 32
factors and run 10 iterations (``early_stop=FALSE``). The sides:

  * ``sql implicit``: ``CREATE OR REPLACE MODEL … OPTIONS(model_type='matrix_factorization',
    feedback_type='implicit', …)`` — reading the rows out of the warehouse, encoding users and
    items, ML.TRAINING_INFO's per-iteration loss, the stored metrics and saving included;
  * ``implicit``: ``implicit.cpu.als.AlternatingLeastSquares.fit`` on the confidence matrix
    1 + 40·r built from the arrays in memory, the library's defaults (``num_threads=0``: every
    core) and the one-thread BLAS it asks for (``threadpool_limits(1, "blas")``);
  * ``implicit + loss``: the same with the library's own per-iteration loss
    (``calculate_training_loss=True``: the work ML.TRAINING_INFO needs);
  * ``sql explicit`` vs ``numpy ALS``: the explicit statement vs sqlml's own NumPy ALS
    (:class:`sqlml.ml.recommendation.als.ExplicitALS`, 10 sweeps) — ``implicit`` has no explicit
    ALS with intercepts to compare with.

Why child processes: in one process the statement and the bare fit share libgomp's and OpenBLAS's
thread pools (whoever starts them first owns them) and one heap. Here each side is a long-lived
child started with the same environment, which fixes the thread counts to what an unconfigured
user gets — ``OMP_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` set to the core
count, their defaults, written out so the caller's shell cannot change them; sqlml is measured as
its users run it (it passes ``num_threads`` = the core count to the library and limits BLAS to one
thread during the fit, as the bare side does). ``--wait-policy passive`` adds
``OMP_WAIT_POLICY=PASSIVE`` (libgomp's idle threads sleep at once instead of spinning; sqlml does
not set it: it is process-wide and LightGBM's OpenMP loops in the same process want the spin) to
both children, to show how much of the bare fit's spread is spinning. Each child runs one untimed
warm-up (JIT kernels, libgomp's pool, page cache), then the parent asks for one run of each side
per pair, rotating which side goes first, ``--pairs`` times. A child times its own run: wall
seconds and process CPU seconds (every thread of that child, spinning included).

Printed: every run, each side's median and spread (max ÷ min) in wall and CPU, the per-pair ratios
of the statement to each baseline with their median, and the load average before and after. On a
loaded machine CPU is the figure that matters (wall waits for other work); target ≤ 1.2× the bare
fit, judged by the per-pair median.

Usage: python bench/bench_matrix_factorization.py [--ratings 1000000] [--pairs 11]
       [--feedback implicit|explicit|both] [--wait-policy default|passive]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

USERS, ITEMS, FACTORS, ITERATIONS, ALPHA = 50_000, 10_000, 32, 10, 40.0
CREATE = ("CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='matrix_factorization', feedback_type='{feedback}', "
          "num_factors={factors}, max_iterations={iterations}, early_stop=FALSE) AS SELECT user, item, rating FROM ds.{table}")  # fmt: skip
#: (statement, baselines) per feedback type; a side's name is also its child's role.
COMPARED = {"implicit": ("sql implicit", ("implicit", "implicit + loss")), "explicit": ("sql explicit", ("numpy ALS",))}


def ratings(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (user, item) pairs with explicit ratings and implicit strengths."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, USERS * ITEMS, int(n * 1.01)))[:n]
    rng.shuffle(keys)
    user, item = keys // ITEMS, keys % ITEMS
    u, v = rng.normal(size=(USERS, 8)) / 2, rng.normal(size=(ITEMS, 8)) / 2
    signal = np.einsum("ij,ij->i", u[user], v[item])
    explicit = np.clip(np.round(3 + signal + rng.normal(0, 0.5, n)), 1, 5)
    implicit = np.exp(signal / 2) * rng.random(n)
    return user, item, explicit, implicit


def child_environment(wait_policy: str) -> dict[str, str]:
    """The environment both children start with: thread counts fixed at their defaults (the core
    count), libgomp's wait policy left to its default or made passive."""
    cores = str(os.cpu_count() or 1)
    env = {**os.environ, "OMP_NUM_THREADS": cores, "OPENBLAS_NUM_THREADS": cores, "MKL_NUM_THREADS": cores}
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    if wait_policy == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def work_of(side: str, n: int, folder: str):
    """The function one run of ``side`` calls (its data made here, outside the timings)."""
    from scipy import sparse
    from threadpoolctl import threadpool_limits

    user, item, explicit, implicit = ratings(n)
    if side.startswith("sql "):
        import pandas as pd

        import sqlml

        feedback = side.split()[1]
        con = sqlml.connect(f"{folder}/w", f"{folder}/m", idle_release=0)
        con.query("CREATE SCHEMA ds")
        con.register("r", pd.DataFrame({"user": user, "item": item, "rating": explicit if feedback == "explicit" else implicit}))
        con.query("CREATE TABLE ds.r AS SELECT * FROM r")
        sql = CREATE.format(name="m", feedback=feedback, table="r", factors=FACTORS, iterations=ITERATIONS)
        return lambda: con.query(sql)
    if side == "numpy ALS":
        from sqlml.ml.recommendation import als

        def explicit_fit() -> None:
            model = als.ExplicitALS(user, item, explicit, (USERS, ITEMS), FACTORS, 1.0)
            for _ in range(ITERATIONS):
                model.sweep()

        return explicit_fit
    from implicit.cpu.als import AlternatingLeastSquares

    from sqlml.ml.recommendation import wals

    def implicit_fit() -> None:
        confidences = sparse.csr_matrix((1 + ALPHA * implicit, (user, item)), shape=(USERS, ITEMS)).astype(np.float32)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(factors=FACTORS, regularization=1.0, iterations=ITERATIONS,
                                            calculate_training_loss=side == "implicit + loss", random_state=wals.SEED)  # fmt: skip
            model.fit(confidences, show_progress=False)

    return implicit_fit


def child(side: str, n: int) -> None:
    """Serve runs of ``side``: one untimed warm-up, then a JSON line {wall, cpu} per line read."""
    import gc

    with tempfile.TemporaryDirectory() as folder:
        work = work_of(side, n, folder)
        work()
        print("ready", flush=True)
        for _ in sys.stdin:
            gc.collect()
            started, used = time.perf_counter(), time.process_time()
            work()
            print(json.dumps({"wall": time.perf_counter() - started, "cpu": time.process_time() - used}), flush=True)


def start(side: str, n: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, __file__, "--child", side, "--ratings", str(n)], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    return process


def run(process: subprocess.Popen) -> dict[str, float]:
    process.stdin.write("run\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}, min {min(values):.2f}, max {max(values):.2f} (spread {max(values) / min(values):.2f}×)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=11)
    parser.add_argument("--feedback", choices=("both", "explicit", "implicit"), default="implicit")
    parser.add_argument("--wait-policy", choices=("default", "passive"), default="default")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.ratings)
        return
    feedbacks = ("implicit", "explicit") if args.feedback == "both" else (args.feedback,)
    env = child_environment(args.wait_policy)
    load_before, began = os.getloadavg(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for feedback in feedbacks:
        measured, baselines = COMPARED[feedback]
        sides = (measured, *baselines)
        children = {side: start(side, args.ratings, env) for side in sides}
        try:
            for process in children.values():  # started together, warmed up each in turn as they come ready
                if process.stdout.readline().strip() != "ready":
                    raise SystemExit(f"a child failed to start (exit code {process.wait()})")
            runs: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
            for pair in range(args.pairs):
                shift = pair % len(sides)  # each side goes first in turn
                for side in sides[shift:] + sides[:shift]:
                    runs[side].append(run(children[side]))
                done = ", ".join(f"{side} {runs[side][-1]['wall']:.2f} s / {runs[side][-1]['cpu']:.2f} CPU-s" for side in sides)
                print(f"  pair {pair + 1}: {done}; load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
        finally:
            for process in children.values():
                process.stdin.close()
                process.wait()
        print(f"\nMATRIX_FACTORIZATION {feedback}, {args.ratings:,} ratings of {USERS:,} users × {ITEMS:,} items, {FACTORS} factors, "
              f"{ITERATIONS} iterations; {args.pairs} pairs, a child process per side, OMP_WAIT_POLICY {args.wait_policy}")  # fmt: skip
        for side in sides:
            for kind in ("wall", "cpu"):
                values = [r[kind] for r in runs[side]]
                print(f"  {side:>16} {kind:>4} s: {summary(values)}; runs {[round(v, 2) for v in values]}")
        for baseline in baselines:
            for kind in ("wall", "cpu"):
                ratios = [a[kind] / b[kind] for a, b in zip(runs[measured], runs[baseline])]
                print(f"  per-pair {kind} ratios, {measured} / {baseline}: {[round(r, 2) for r in ratios]}, "
                      f"median {statistics.median(ratios):.2f}×")  # fmt: skip
    print(f"\n{began} → {time.strftime('%H:%M UTC', time.gmtime())}; load average (1, 5, 15 min) before {load_before}, after {os.getloadavg()}")


if __name__ == "__main__":
    main()
