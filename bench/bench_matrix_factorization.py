"""CREATE MODEL … MATRIX_FACTORIZATION vs the same fit called directly, explicit and implicit.

Ratings: N (default 1,000,000) of 50,000 users × 10,000 items, a rank-8 structure plus noise
(explicit: ratings around 3; implicit: positive interaction strengths). Both models have 32
factors and run 10 iterations (``early_stop=FALSE``). In the same run, alternately:

  * explicit: ``CREATE OR REPLACE MODEL … OPTIONS(model_type='matrix_factorization', …)`` vs
    sqlml's own NumPy ALS (:class:`sqlml.ml.recommendation.als.ExplicitALS`, 10 sweeps) on the
    codes and ratings already in memory — the ``implicit`` library has no explicit ALS with
    intercepts to compare with;
  * implicit: the same statement with ``feedback_type='implicit'`` vs
    ``implicit.cpu.als.AlternatingLeastSquares.fit`` on the confidence matrix 1 + 40·r, with and
    without the library's own per-iteration loss (CREATE MODEL records it in ML.TRAINING_INFO).

CREATE MODEL's time includes reading the rows out of the warehouse, encoding users and items,
the stored metrics and saving the model. Target: ≤ 1.2× the direct fit. The implicit rows are
also given in process CPU seconds (every thread), which other work on a shared machine inflates
far less than wall time; the load average before and after the runs is printed with them, and
the per-pair ratios' medians (each pair ran back to back, under the same minutes' load); the
explicit rows likewise (both sides are NumPy in this process).

Usage: python bench/bench_matrix_factorization.py [--ratings 1000000] [--pairs 2] [--feedback both|explicit|implicit]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

import sqlml
from harness import Row, print_table
from sqlml.ml.recommendation import als, wals

USERS, ITEMS, FACTORS, ITERATIONS, ALPHA = 50_000, 10_000, 32, 10, 40.0
CREATE = ("CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='matrix_factorization', feedback_type='{feedback}', "
          "num_factors={factors}, max_iterations={iterations}, early_stop=FALSE) AS SELECT user, item, rating FROM ds.{table}")  # fmt: skip


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


def direct_explicit(user, item, rating) -> None:
    model = als.ExplicitALS(user, item, rating, (USERS, ITEMS), FACTORS, 1.0)
    for _ in range(ITERATIONS):
        model.sweep()


def direct_implicit(user, item, strength, with_loss: bool) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    confidences = sparse.csr_matrix((1 + ALPHA * strength, (user, item)), shape=(USERS, ITEMS)).astype(np.float32)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=FACTORS, regularization=1.0, iterations=ITERATIONS,
                                        calculate_training_loss=with_loss, random_state=wals.SEED)  # fmt: skip
        model.fit(confidences, show_progress=False)


def timed(work, cpu: list[float] | None = None) -> float:
    """Wall seconds of ``work()``; its process CPU seconds (every thread) appended to ``cpu``."""
    started, used = time.perf_counter(), time.process_time()
    work()
    if cpu is not None:
        cpu.append(time.process_time() - used)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--feedback", choices=("both", "explicit", "implicit"), default="both")
    args = parser.parse_args()
    user, item, explicit, implicit = ratings(args.ratings)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {key: [] for key in ("sql explicit", "numpy ALS", "sql implicit", "implicit", "implicit + loss")}
    cpu: dict[str, list[float]] = {key: [] for key in ("sql explicit", "numpy ALS", "sql implicit", "implicit", "implicit + loss")}
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(f"{folder}/w", f"{folder}/m", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("e", pd.DataFrame({"user": user, "item": item, "rating": explicit}))
        con.register("i", pd.DataFrame({"user": user, "item": item, "rating": implicit}))
        con.query("CREATE TABLE ds.explicit AS SELECT * FROM e; CREATE TABLE ds.implicit AS SELECT * FROM i")
        common = {"factors": FACTORS, "iterations": ITERATIONS}
        for _ in range(args.pairs):
            if args.feedback != "implicit":
                times["sql explicit"].append(timed(lambda: con.query(CREATE.format(name="e", feedback="explicit", table="explicit", **common)), cpu["sql explicit"]))
                times["numpy ALS"].append(timed(lambda: direct_explicit(user, item, explicit), cpu["numpy ALS"]))
            if args.feedback != "explicit":
                sql = CREATE.format(name="i", feedback="implicit", table="implicit", **common)
                times["sql implicit"].append(timed(lambda: con.query(sql), cpu["sql implicit"]))
                times["implicit"].append(timed(lambda: direct_implicit(user, item, implicit, False), cpu["implicit"]))
                times["implicit + loss"].append(timed(lambda: direct_implicit(user, item, implicit, True), cpu["implicit + loss"]))
    rows = []
    if args.feedback != "implicit":
        rows.append(Row("explicit: CREATE MODEL vs NumPy ALS", min(times["sql explicit"]), min(times["numpy ALS"]), "≤ 1.2×"))
        rows.append(Row("explicit, process CPU seconds: CREATE MODEL vs NumPy ALS", min(cpu["sql explicit"]), min(cpu["numpy ALS"]), "report"))
    if args.feedback != "explicit":
        kinds = ("sql implicit", "implicit", "implicit + loss")
        best, least = {key: min(times[key]) for key in kinds}, {key: min(cpu[key]) for key in kinds}
        rows += [
            Row("implicit: CREATE MODEL vs implicit (no loss)", best["sql implicit"], best["implicit"], "≤ 1.2×"),
            Row("implicit: CREATE MODEL vs implicit + its loss", best["sql implicit"], best["implicit + loss"], "≤ 1.2×"),
            Row("implicit, process CPU seconds: CREATE MODEL vs implicit (no loss)", least["sql implicit"], least["implicit"], "report"),
            Row("implicit, process CPU seconds: CREATE MODEL vs implicit + its loss", least["sql implicit"], least["implicit + loss"], "report"),
        ]
    title = (f"MATRIX_FACTORIZATION, {args.ratings:,} ratings of {USERS:,} users × {ITEMS:,} items, {FACTORS} factors, "
             f"{ITERATIONS} iterations, best of {args.pairs}")  # fmt: skip
    print_table(title, rows)
    print("all runs (s):", {key: [round(v, 2) for v in values] for key, values in times.items()})
    print("CPU (s):", {key: [round(v, 2) for v in values] for key, values in cpu.items()})
    # each pair ran back to back: its ratio shares the load of its minutes
    compared = [("sql explicit", "numpy ALS")] if args.feedback != "implicit" else []
    compared += [("sql implicit", "implicit"), ("sql implicit", "implicit + loss")] if args.feedback != "explicit" else []
    for measured, baseline in compared:
        for kind, values in (("wall", times), ("CPU", cpu)):
            ratios = [a / b for a, b in zip(values[measured], values[baseline])]
            print(f"per-pair {kind} ratios, {measured} vs {baseline}: {[round(r, 2) for r in ratios]}, median {np.median(ratios):.2f}")
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M %Z')}")

if __name__ == "__main__":
    main()
