"""Compiled tree prediction (issue 19.1): ML.PREDICT of a boosted tree vs LightGBM's Booster.predict.

Measures, in one run (default 1M rows × 20 numeric + 2 STRING columns, the bench_ml.py data), for
boosted trees of 50 and 200 rounds (max_tree_depth 6, trained on the first 200k rows):
  * compiling the model (cold, empty cache directory): seconds per tree;
  * ML.PREDICT CTAS scoring through the compiled model (warm cache) vs ``Booster.predict`` on the
    model's own feature matrix of the same rows — target ≤ 0.6×, stretch ≤ 0.4×; and the same
    CTAS with SQLML_COMPILE=off (today's LightGBM path), in the same alternation;
  * the first ML.PREDICT in a process whose cache is empty (it compiles in the background after
    500k rows, at the lowest CPU priority) vs SQLML_COMPILE=off — must not be slower;
  * the bare kernels: the compiled forest vs ``Booster.predict`` on the matrix;
  * the largest difference between ML.PREDICT's probabilities and Booster.predict's.
Ratios are medians of per-pair ratios, the runs alternating.

Usage: python bench/bench_compiled_predict.py [--rows 1000000] [--rounds 50,200] [--pairs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time

import lightgbm as lgb
import numpy as np

import sqlml
from bench_ml import create_data
from sqlml.ml.compiled import predictor
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

CTAS = "CREATE OR REPLACE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.bt{rounds}, TABLE ds.train)"


def wait_for_compiler() -> None:
    for thread in [t for t in threading.enumerate() if t.name == "sqlml-compile"]:
        thread.join()


def forget_compiled() -> None:
    """A new process's state: nothing compiled in memory (the disk cache is the caller's)."""
    predictor._ready.clear(), predictor._rows.clear(), predictor._looked_up.clear()


def ratio(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs), statistics.median(a / b for a, b in pairs)


def off(work):
    def run():
        os.environ["SQLML_COMPILE"] = "off"
        try:
            return work()
        finally:
            os.environ.pop("SQLML_COMPILE")

    return run


def bench_model(con, rounds: int, pairs: int, cache_root: str) -> list[str]:
    con.query(
        f"""CREATE OR REPLACE MODEL ds.bt{rounds} OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
            data_split_method='NO_SPLIT', max_iterations={rounds}, early_stop=FALSE, max_tree_depth=6)
            AS SELECT * FROM ds.train LIMIT 200000"""
    )  # fmt: skip
    model = CACHE.get(con.models, con.models.resolve(ModelRef.parse(f"ds.bt{rounds}")))
    booster = lgb.Booster(model_str=model.estimator.scorer_.text)
    table = con.query("SELECT * FROM ds.train").arrow()
    X = np.vstack([model.features(batch) for batch in table.to_batches(max_chunksize=200_000)])
    lines = []

    first = first_statement(con, rounds, pairs, cache_root)
    lines.append(f"| first ML.PREDICT CTAS, empty cache (compiles in the background) vs SQLML_COMPILE=off, {rounds} rounds | {first[0]:.2f} s | {first[1]:.2f} s | {first[2]:.2f} |")

    started = time.perf_counter()
    compiled = predictor.build(booster, model.estimator.scorer_.text, model.estimator.scorer_.checksum + "-timing")
    seconds = time.perf_counter() - started
    lines.append(f"| compiling {len(booster.dump_model()['tree_info'])} trees (cold) | {seconds:.2f} s | — | {seconds / rounds * 1000:.0f} ms/tree |")

    forget_compiled()  # a new process: the compiled form comes from the disk cache
    con.query(CTAS.format(rounds=rounds))
    wait_for_compiler()
    sql = lambda: con.query(CTAS.format(rounds=rounds))  # noqa: E731
    raw = lambda: booster.predict(X)  # noqa: E731
    sql(), raw(), off(sql)()  # warm-up
    compiled_pairs, off_pairs = [], []
    for _ in range(pairs):  # alternating: compiled CTAS, LightGBM, CTAS with SQLML_COMPILE=off
        a = timed(sql)
        b = timed(raw)
        c = timed(off(sql))
        compiled_pairs.append((a, b))
        off_pairs.append((c, b))
    ours, theirs, median_ratio = ratio(compiled_pairs)
    lines.append(f"| ML.PREDICT CTAS compiled (warm cache) vs Booster.predict, {len(X):,} rows, {rounds} rounds | {ours:.2f} s | {theirs:.2f} s | **{median_ratio:.2f}** |")
    ours, theirs, median_ratio = ratio(off_pairs)
    lines.append(f"| ML.PREDICT CTAS SQLML_COMPILE=off vs Booster.predict, same | {ours:.2f} s | {theirs:.2f} s | {median_ratio:.2f} |")
    kernel = [(timed(lambda: compiled.predict(X, os.cpu_count())), timed(raw)) for _ in range(pairs)]
    ours, theirs, median_ratio = ratio(kernel)
    lines.append(f"| bare kernel: compiled forest vs Booster.predict on the matrix | {ours:.2f} s | {theirs:.2f} s | {median_ratio:.2f} |")
    scored = con.query("SELECT predicted_label_probs FROM ds.scored").arrow().column(0).to_pylist()
    probability = np.array([next(p["prob"] for p in row if p["label"] in (True, "true")) for row in scored])
    lines.append(f"| max |ML.PREDICT − Booster.predict| | {np.abs(probability - booster.predict(X)).max():.1e} | | |")
    return lines


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def first_statement(con, rounds: int, pairs: int, cache_root: str) -> tuple[float, float, float]:
    """A process's first ML.PREDICT of the model with nothing cached, bracketed by two runs with
    SQLML_COMPILE=off (their mean is the pair's baseline, so the order favours neither side)."""
    query, results = CTAS.format(rounds=rounds), []
    for _ in range(pairs):
        before = timed(off(lambda: con.query(query)))
        os.environ["SQLML_COMPILE_CACHE"] = tempfile.mkdtemp(dir=cache_root)  # empty: this statement compiles
        forget_compiled()
        cold = timed(lambda: con.query(query))
        after = timed(off(lambda: con.query(query)))
        wait_for_compiler()
        results.append((cold, (before + after) / 2))
    return ratio(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", default="50,200")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache_root:
        con = sqlml.connect(":memory:")
        create_data(con, args.rows)
        print("| measurement | sqlml | baseline | ratio |\n|---|---:|---:|---:|")
        for rounds in map(int, args.rounds.split(",")):
            for line in bench_model(con, rounds, args.pairs, cache_root):
                print(line, flush=True)
        con.close()


if __name__ == "__main__":
    main()
