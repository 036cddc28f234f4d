"""Hyperparameter tuning: VIZIER_DEFAULT (Optuna's TPE) against RANDOM_SEARCH, and parallel trials.

On a generated table (default 200k rows × 20 numeric + 2 STRING columns, a BOOL label), the
same 20-trial search of a BOOSTED_TREE_CLASSIFIER over learn_rate, max_tree_depth, subsample,
l1_reg and l2_reg runs with each algorithm under 5 sampler seeds. Printed: the best ROC AUC
(the default objective; on the eval split) reached after 10 and after 20 trials, averaged over
the seeds, and the wall time of 8 trials run 2 at a time vs one after the other.

The seed is the tuning module's sampler seed (``sqlml.ml.training.tuning.SEED``), set per run: BigQuery
has no option for it, and a benchmark needs runs that differ only in it.

Usage: python bench/bench_tuning.py [--rows 200000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import sqlml
import sqlml.ml.training.tuning as tuning
from bench_ml import create_data
from harness import Row, print_table

TRIALS = 20
SEARCH = (
    "learn_rate=HPARAM_RANGE(0.01, 0.6), max_tree_depth=HPARAM_RANGE(2, 10), subsample=HPARAM_RANGE(0.5, 1.0), "
    "l1_reg=HPARAM_RANGE(0, 10), l2_reg=HPARAM_RANGE(0, 10)"
)


def search(con: sqlml.Connection, algorithm: str, trials: int, parallel: int = 1) -> list[float]:
    """The ROC AUC of each trial, in trial order, of one tuned CREATE MODEL."""
    con.query(
        f"""CREATE OR REPLACE MODEL ds.tuned OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
            num_trials={trials}, max_parallel_trials={parallel}, hparam_tuning_algorithm='{algorithm}',
            max_iterations=20, {SEARCH}) AS SELECT * FROM ds.train"""
    )  # fmt: skip
    rows = con.query(
        "SELECT trial_id, hparam_tuning_evaluation_metrics.roc_auc AS auc, status FROM ML.TRIAL_INFO(MODEL ds.tuned) ORDER BY trial_id"
    ).fetchall()
    return [auc if auc is not None and status == "SUCCEEDED" else float("-inf") for _, auc, status in rows]


def best_after(aucs: list[float], n: int) -> float:
    return max(aucs[:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    con = sqlml.connect(":memory:")
    create_data(con, args.rows)

    best = {algorithm: {10: [], 20: []} for algorithm in ("VIZIER_DEFAULT", "RANDOM_SEARCH")}
    for seed in range(args.seeds):
        for algorithm in best:
            tuning.SEED = 1000 + seed
            aucs = search(con, algorithm, TRIALS)
            for n in (10, 20):
                best[algorithm][n].append(best_after(aucs, n))
            print(f"seed {seed} {algorithm}: best after 10 {best_after(aucs, 10):.5f}, after 20 {best_after(aucs, 20):.5f}", flush=True)

    print(f"\n### Tuning quality, {args.rows:,} rows, {TRIALS} trials, mean over {args.seeds} seeds (bench_tuning.py)\n")
    print("| algorithm | best ROC AUC after 10 trials | after 20 trials |")
    print("|---|---:|---:|")
    for algorithm, reached in best.items():
        print(f"| {algorithm} | {statistics.mean(reached[10]):.5f} | {statistics.mean(reached[20]):.5f} |")

    tuning.SEED = 1000
    started = time.perf_counter()
    search(con, "RANDOM_SEARCH", 8, parallel=2)
    parallel = time.perf_counter() - started
    started = time.perf_counter()
    search(con, "RANDOM_SEARCH", 8, parallel=1)
    sequential = time.perf_counter() - started
    print_table("Parallel trials (bench_tuning.py)", [Row("8 trials, max_parallel_trials=2 vs 1", parallel, sequential, "report")])
    con.close()


if __name__ == "__main__":
    main()
