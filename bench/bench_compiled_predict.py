"""Compiled tree prediction (issue 19.1): ML.PREDICT of a boosted tree vs LightGBM's Booster.predict.

Measures, in one run (default 1M rows × 20 numeric + 2 STRING columns, the bench_ml.py data), for
boosted trees of 50 and 200 rounds (max_tree_depth 6, trained on the first 200k rows):
  * compiling the model (cold, empty cache directory): seconds per tree;
  * ML.PREDICT CTAS scoring through the compiled model (warm cache) vs ``Booster.predict`` on the
    model's own feature matrix of the same rows — target ≤ 0.6×, stretch ≤ 0.4×; and the same
    CTAS with SQLML_COMPILE=off (today's LightGBM path), in the same alternation;
  * the first ML.PREDICT in a process whose cache is empty (``--cold-rows``, each size a table of
    the first rows), which takes the path ``ml/compiled/decision.py`` decides — compiled in the
    statement's process (its estimated rows repay the whole compile within it), in an idle
    background process (they repay its CPU only), or nothing — vs the same CTAS with
    SQLML_COMPILE=off, and (``--parts firstraw``) vs Booster.predict on the model's matrix of those
    rows; the compile's CPU after the statement (this process's, and the background child's) is
    reported beside it;
  * the cost model's inputs (``--parts threshold``): CPU seconds of the whole compile, and of
    LightGBM and the compiled kernel per row (one thread each), against the constants;
  * the bare kernels: the compiled forest vs ``Booster.predict`` on the matrix;
  * the largest difference between ML.PREDICT's probabilities and Booster.predict's;
  * peak memory (RSS) of the compiled CTAS in a child process per size (``--memory-rows``).
Ratios are medians of per-pair ratios, the runs alternating, in wall time and in CPU time (all
threads of this process): on a machine other work shares, CPU time is what the load disturbs least.

Usage: python bench/bench_compiled_predict.py [--rows 1000000] [--rounds 50,200] [--pairs 3]
           [--parts first,firstraw,warm,off,kernel,threshold] [--cold-rows 100000,1000000]
           [--memory-rows 1000000,10000000,20000000] [--assume-spare-core]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import threading
import time

import lightgbm as lgb
import numpy as np

import sqlml
from bench_ml import create_data
from harness import measure_peak, peak_rss_of
from sqlml.ml.compiled import background, machine, predictor
from sqlml.ml.compiled.codegen import forest_ir
from sqlml.ml.compiled.forest import read_forest
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

CTAS = "CREATE OR REPLACE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.bt{rounds}, TABLE ds.{table})"


#: Seconds the first-statement runs wait for a build to end before going on without it.
BACKGROUND_WAIT = 120.0


def wait_for_compiler(timeout: float | None = None) -> bool:
    """Wait for the builds under way (at most ``timeout`` seconds): whether they are done."""
    deadline = None if timeout is None else time.perf_counter() + timeout
    for thread in [t for t in threading.enumerate() if t.name == "sqlml-compile"]:
        thread.join(None if deadline is None else max(deadline - time.perf_counter(), 0))
    return not [t for t in threading.enumerate() if t.name == "sqlml-compile"]


def forget_compiled() -> None:
    """A new process's state: nothing compiled in memory (the disk cache is the caller's)."""
    predictor._ready.clear(), predictor._rows.clear(), predictor._looked_up.clear(), predictor._used.clear()
    predictor._compiling.clear(), predictor._start_after.clear(), predictor._cached_elsewhere.clear()


def stop_background() -> None:
    """End the background compilers still running (an idle-priority child on a busy machine may
    not have run at all), so the next run starts from nothing."""
    for child in _children:
        if child.poll() is None:
            child.kill()
    _children.clear()
    wait_for_compiler()


_children: list = []
_start_child = background.start
background.start = lambda text: _children.append(_start_child(text)) or _children[-1]


def ratio(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs), statistics.median(a / b for a, b in pairs)


def both(pairs: list[tuple[tuple[float, float], tuple[float, float]]]) -> str:
    """Table cells ``sqlml | baseline | ratio`` of (wall, CPU) pairs: wall / CPU in each cell."""
    wall, cpu = ratio([(a[0], b[0]) for a, b in pairs]), ratio([(a[1], b[1]) for a, b in pairs])
    return f"{wall[0]:.2f} / {cpu[0]:.2f} s | {wall[1]:.2f} / {cpu[1]:.2f} s | **{wall[2]:.2f}** / **{cpu[2]:.2f}**"


def off(work):
    def run():
        os.environ["SQLML_COMPILE"] = "off"
        try:
            return work()
        finally:
            os.environ.pop("SQLML_COMPILE")

    return run


def bench_model(con, rounds: int, pairs: int, cache_root: str, parts: set[str], cold_rows: list[int]) -> list[str]:
    con.query(
        f"""CREATE OR REPLACE MODEL ds.bt{rounds} OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
            data_split_method='NO_SPLIT', max_iterations={rounds}, early_stop=FALSE, max_tree_depth=6)
            AS SELECT * FROM ds.train LIMIT 200000"""
    )  # fmt: skip
    model = CACHE.get(con.models, con.models.resolve(ModelRef.parse(f"ds.bt{rounds}")))
    booster = lgb.Booster(model_str=model.estimator.scorer_.text)
    X = feature_matrix(con, model)
    lines, rows = [], f"{len(X):,} rows, {rounds} rounds"

    if "threshold" in parts:
        lines += threshold(booster, model.estimator.scorer_, X[:200_000])
    if "first" in parts:
        for count in cold_rows:
            table = "train" if count >= len(X) else f"rows_{count}"
            con.query(f"CREATE OR REPLACE TABLE ds.{table} AS SELECT * FROM ds.train LIMIT {count}")
            for line in first_statement(con, rounds, pairs, cache_root, table, X[:count], booster, "firstraw" in parts):
                print(line, flush=True)
        scorer = model.estimator.scorer_
        lines.append(f"| (the model: a compile repays from {scorer.repay_rows():,} rows; a statement compiles in its process from {scorer.statement_rows(os.cpu_count() or 1):,}) | | | |")

    if not parts & {"warm", "off", "kernel"}:
        return lines
    started = time.perf_counter()
    compiled = predictor.build(booster, model.estimator.scorer_.text, model.estimator.scorer_.checksum + "-timing")
    seconds = time.perf_counter() - started
    lines.append(f"| compiling {len(booster.dump_model()['tree_info'])} trees (cold) | {seconds:.2f} s | — | {seconds / rounds * 1000:.0f} ms/tree |")

    forget_compiled()  # a new process: compiled (once) into the disk cache, and loaded from it
    model.estimator.scorer_.prepare()
    assert model.estimator.scorer_.wait() is not None, "the model did not compile"
    forget_compiled()
    con.query(CTAS.format(rounds=rounds, table="train"))  # the first statement loads it while LightGBM scores
    wait_for_compiler()
    sql = lambda: con.query(CTAS.format(rounds=rounds, table="train"))  # noqa: E731
    raw = lambda: booster.predict(X)  # noqa: E731
    sql(), raw()  # warm-up
    compiled_pairs, off_pairs = [], []
    for _ in range(pairs):  # alternating: compiled CTAS, LightGBM, CTAS with SQLML_COMPILE=off
        a = timed(sql) if "warm" in parts else None
        b = timed(raw)
        c = timed(off(sql)) if "off" in parts else None
        compiled_pairs.append((a, b))
        off_pairs.append((c, b))
    if "warm" in parts:
        lines.append(f"| ML.PREDICT CTAS compiled (warm cache) vs Booster.predict, {rows} | {both(compiled_pairs)} |")
    if "off" in parts:
        lines.append(f"| ML.PREDICT CTAS SQLML_COMPILE=off vs Booster.predict, {rows} | {both(off_pairs)} |")
    if "kernel" in parts:
        kernel = [(timed(lambda: compiled.predict(X, os.cpu_count())), timed(raw)) for _ in range(pairs)]
        lines.append(f"| bare kernel: compiled forest vs Booster.predict on the matrix, {rows} | {both(kernel)} |")
    first, second = (f"predicted_label_probs[OFFSET({i})]" for i in (0, 1))  # row by row: a subquery's join would reorder the rows
    probability = con.query(f"SELECT IF({first}.label, {first}.prob, {second}.prob) FROM ds.scored").arrow().column(0).to_numpy()
    lines.append(f"| max \\|ML.PREDICT − Booster.predict\\| | {np.abs(probability - booster.predict(X)).max():.1e} | | |")
    return lines


def feature_matrix(con, model) -> np.ndarray:
    """The model's feature matrix of ds.train (what Booster.predict is given), filled batch by
    batch: at 10M rows neither the table nor the matrix is held twice."""
    rows = con.query("SELECT COUNT(*) FROM ds.train").scalar()
    X, start = None, 0
    for batch in con.query("SELECT * FROM ds.train").reader(200_000):
        features = model.features(batch)
        if X is None:
            X = np.empty((rows, features.shape[1]))
        X[start : start + len(features)] = features
        start += len(features)
    return X


def timed(work) -> tuple[float, float]:
    """Wall and CPU seconds (every thread of this process) of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def first_statement(con, rounds: int, pairs: int, cache_root: str, table: str, X: np.ndarray, booster, bare: bool) -> list[str]:
    """A process's first ML.PREDICT of the model with nothing cached, bracketed by two runs with
    SQLML_COMPILE=off (their mean is the pair's baseline, so the order favours neither side), and
    (``bare``) Booster.predict on the matrix of the same rows, run before the pair. The cold run's
    wall and CPU time are the statement's; what the compile costs after it — this process's CPU
    until the build is done, and the background compiler's (a child process, counted once reaped)
    — is reported beside them, and the next run starts only once the build is done (waiting at
    most :data:`BACKGROUND_WAIT` seconds: an idle-priority child on a busy machine may not run)."""
    query, results, raw, modes, after_cpu, unfinished, seconds = CTAS.format(rounds=rounds, table=table), [], [], [], [], 0, []
    start = predictor.BoosterScorer._start

    def spy(self, key, compile_here=False, elsewhere=False, load=True):
        modes[-1].append("background" if elsewhere else "now" if compile_here else "load")
        return start(self, key, compile_here, elsewhere, load)

    predictor.BoosterScorer._start = spy
    try:
        for _ in range(pairs):
            baseline = timed(lambda: booster.predict(X)) if bare else None
            before = timed(off(lambda: con.query(query)))
            os.environ["SQLML_COMPILE_CACHE"] = tempfile.mkdtemp(dir=cache_root)  # empty: nothing cached
            forget_compiled()
            modes.append([])
            children, cpu, wall = _children_cpu(), time.process_time(), time.perf_counter()
            con.query(query)
            cold = (time.perf_counter() - wall, time.process_time() - cpu)
            unfinished += not wait_for_compiler(BACKGROUND_WAIT)
            modes[-1] += ["cached for the next statement"] * len(predictor._cached_elsewhere)
            stop_background()
            after_cpu.append(time.process_time() - cpu - cold[1] + _children_cpu() - children)
            seconds.append(timed(lambda: con.query(query)))  # the next statement: loads what the child cached
            after = timed(off(lambda: con.query(query)))
            results.append((cold, tuple((x + y) / 2 for x, y in zip(before, after))))
            if bare:
                raw.append((cold, baseline))
    finally:
        predictor.BoosterScorer._start = start
    per_pair = ", ".join(f"{a[0] / b[0]:.2f}/{a[1] / b[1]:.2f}" for a, b in results)
    what = f"{len(X):,} rows, {rounds} rounds, compiled: {', '.join('+'.join(m) or 'nothing' for m in modes)}; per pair wall/CPU {per_pair}"
    lines = [
        f"| first CTAS, empty cache, vs SQLML_COMPILE=off, {what} | {both(results)} |",
        f"| … its compile's CPU after the statement (this process + background child; {unfinished} of {pairs} not done within {BACKGROUND_WAIT} s) "
        f"| {statistics.median(after_cpu):.2f} s | | |",
        f"| … the statement after it (the same process), vs SQLML_COMPILE=off | {both([(s, b) for s, (_, b) in zip(seconds, results)])} |",
    ]  # fmt: skip
    if bare:
        lines.append(f"| first CTAS, empty cache, vs Booster.predict on the matrix, {what} | {both(raw)} |")
    return lines


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def threshold(booster, scorer, X: np.ndarray) -> list[str]:
    """The cost model's inputs on this model (``ml/compiled/decision.py``), CPU time: the whole
    compile (``predictor.build`` of a key not cached: IR text, code generation, loading, the probe
    check), and LightGBM's and the compiled kernel's time per row on one thread; then the rows a
    compile repays and a statement needs, measured and from the constants."""
    from sqlml.ml.compiled import decision

    forest = read_forest(scorer.text)
    leaves = [len(tree.leaf_value) for tree in forest.trees]
    levels = sum(math.log2(max(n, 2)) for n in leaves)
    started = time.process_time()
    compiled = predictor.build(booster, scorer.text, f"{scorer.checksum}-threshold-{time.time()}")
    compile_cpu = time.process_time() - started
    lightgbm, kernel = [], []
    for _ in range(3):
        started = time.thread_time()
        booster.predict(X, num_threads=1)
        middle = time.thread_time()
        compiled.predict(X, 1)
        lightgbm.append((middle - started) / len(X))
        kernel.append((time.thread_time() - middle) / len(X))
    measured = decision.Costs(compile_cpu, statistics.median(lightgbm), statistics.median(kernel))
    model = scorer.costs()
    threads = os.cpu_count() or 1
    return [
        f"| cost model: compile CPU, {sum(leaves):,} leaves | {measured.compile:.2f} s | — | constants {model.compile:.2f} s |",
        f"| cost model: LightGBM CPU a row, one thread ({levels:,.0f} levels, {len(X):,} rows) | {measured.lightgbm * 1e6:.3f} µs | — | constants {model.lightgbm * 1e6:.3f} µs |",
        f"| cost model: compiled CPU a row, one thread | {measured.compiled * 1e6:.3f} µs | — | constants {model.compiled * 1e6:.3f} µs |",
        f"| cost model: rows a compile repays / a statement needs ({threads} threads), measured vs constants | "
        f"{decision.repay_rows(measured):,} / {decision.statement_rows(measured, threads):,} | — | "
        f"{decision.repay_rows(model):,} / {decision.statement_rows(model, threads):,} |",
    ]  # fmt: skip


def memory_child(rows: int) -> None:
    """Child process: score ``rows`` rows of a file warehouse (DuckDB memory_limit=1GB) with the
    50-round model already compiled; print the peak RSS of the scoring alone."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ["SQLML_COMPILE_CACHE"] = f"{folder}/compiled"
        con = sqlml.connect(f"{folder}/wh", f"{folder}/models", config={"memory_limit": "1GB"})
        create_data(con, rows)
        con.query(
            """CREATE MODEL ds.bt OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'],
               data_split_method='NO_SPLIT', max_iterations=50, early_stop=FALSE, max_tree_depth=6)
               AS SELECT * FROM ds.train LIMIT 200000"""
        )  # fmt: skip
        scorer = CACHE.get(con.models, con.models.resolve(ModelRef.parse("ds.bt"))).estimator.scorer_
        scorer.compiled(scorer.repay_rows())
        assert scorer.wait() is not None, "the model did not compile"
        # the window covers the scoring only, not building the table, the model or its code
        measured = measure_peak(lambda: con.query("CREATE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.bt, TABLE ds.train)"))
        con.close()
    print(json.dumps({"rows": rows, **measured}))


def bench_memory(sizes: list[int]) -> None:
    print("\n| rows scored (compiled, 50 rounds) | RSS before scoring | peak RSS while scoring | rows/s |\n|---:|---:|---:|---:|")
    for rows in sizes:
        result = peak_rss_of(__file__, "--memory-child", str(rows))
        print(f"| {rows:,} | {result['before_mib']:,.0f} MiB | {result['peak_mib']:,.0f} MiB | {rows / result['seconds']:,.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", default="50,200")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--parts", default="first,firstraw,warm,off,kernel", help="comma-separated: first,firstraw,warm,off,kernel,threshold")
    parser.add_argument("--cold-rows", default="", help="comma-separated row counts for the first statement (default: --rows)")
    parser.add_argument("--memory-rows", default="", help="comma-separated row counts for the peak-memory children")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--assume-spare-core", action="store_true",
        help="take the machine's cores as free (cores_to_spare), so a loaded machine's first statement takes the quiet path: its CPU ratio",
    )  # fmt: skip
    args = parser.parse_args()
    if args.assume_spare_core:
        predictor.cores_to_spare = lambda: True
    if args.memory_child:
        memory_child(args.memory_child)
        return
    parts = set(args.parts.split(","))
    cold_rows = [int(n) for n in args.cold_rows.split(",")] if args.cold_rows else [args.rows]
    with tempfile.TemporaryDirectory() as cache_root:
        con = sqlml.connect(":memory:")
        create_data(con, args.rows)
        print("| measurement | sqlml (wall / CPU) | baseline (wall / CPU) | ratio (wall / CPU) |\n|---|---:|---:|---:|")
        for rounds in map(int, filter(None, args.rounds.split(","))):
            for line in bench_model(con, rounds, args.pairs, cache_root, parts, cold_rows):
                print(line, flush=True)
        con.close()
    if args.memory_rows:
        bench_memory([int(n) for n in args.memory_rows.split(",")])


if __name__ == "__main__":
    main()
