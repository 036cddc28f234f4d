"""ML.RECOMMEND: every user's top 10 items through SQL vs a direct NumPy top-k, and its memory.

A MATRIX_FACTORIZATION model of 10,000 users × 5,000 items with 32 factors is trained by CREATE
MODEL itself (two ALS sweeps over 50,000 ratings — every user rates 5 items, every item is rated
10 times — so training stays a few seconds; the factors' values do not change the work of
recommending). Then, in the same run, alternately:

  * sqlml: ``SELECT … FROM ML.RECOMMEND(MODEL m) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id
    ORDER BY predicted_rating DESC) <= 10`` through ``sqlml.query``, the result read as Arrow;
  * NumPy: the same model's factors, ``U @ V.T`` + intercepts, ``argpartition`` per row, values
    gathered — the whole 10,000 × 5,000 matrix at once.

The tutorial's ``ARRAY_AGG(… ORDER BY predicted_rating DESC LIMIT 10) … GROUP BY user_id`` is
timed too, the QUALIFY query over ``WITH recs AS (SELECT * FROM ML.RECOMMEND(MODEL m))``, each
item's top 10 users (``PARTITION BY item_id``, against NumPy's ``argpartition`` down the
columns), and the QUALIFY query with the top-k push-down defeated (a ``WHERE TRUE`` before the
ranking, so ML.RECOMMEND streams all 50 M rows and DuckDB ranks them). Peak memory (RSS growth
during the statement) is measured in a child process per statement.

Usage: python bench/bench_recommend.py [--users 10000] [--items 5000] [--factors 32] [--pairs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sqlml
from harness import Row, alternate, own_peak_rss_mib, peak_rss_of, print_table, reset_peak_rss

K = 10
QUERIES = {
    "qualify": "SELECT user_id, item_id, predicted_rating FROM ML.RECOMMEND(MODEL d.m) "
    f"QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= {K}",
    "array_agg": "SELECT user_id, ARRAY_AGG(STRUCT(item_id, predicted_rating) ORDER BY predicted_rating DESC "
    f"LIMIT {K}) AS top FROM ML.RECOMMEND(MODEL d.m) GROUP BY user_id",
    "unpushed": "SELECT user_id, item_id, predicted_rating FROM ML.RECOMMEND(MODEL d.m) WHERE TRUE "
    f"QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= {K}",
    "every_row": "SELECT COUNT(*) AS n, SUM(predicted_rating) AS total FROM ML.RECOMMEND(MODEL d.m)",
    "with_query": "WITH recs AS (SELECT * FROM ML.RECOMMEND(MODEL d.m)) SELECT user_id, item_id, predicted_rating FROM recs "
    f"QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= {K}",
    "per_item": "SELECT item_id, user_id, predicted_rating FROM ML.RECOMMEND(MODEL d.m) "
    f"QUALIFY ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY predicted_rating DESC) <= {K}",
}


def connect(folder: Path) -> sqlml.Connection:
    return sqlml.connect(folder / "warehouse", folder / "models", idle_release=0)


def train(folder: Path, users: int, items: int, factors: int) -> float:
    """Create the ratings and the model; the seconds CREATE MODEL took."""
    with connect(folder) as con:
        con.query(
            f"CREATE SCHEMA d; CREATE TABLE d.ratings AS SELECT u AS user_id, MOD(u * 5 + j, {items}) AS item_id, "
            f"CAST(1 + MOD(u * 31 + j * 17, 5) AS FLOAT64) AS rating FROM range({users}) AS a(u), range(5) AS b(j)"
        )
        started = time.perf_counter()
        con.query(
            f"CREATE MODEL d.m OPTIONS(model_type='matrix_factorization', user_col='user_id', item_col='item_id', "
            f"rating_col='rating', num_factors={factors}, max_iterations=2) AS SELECT * FROM d.ratings"
        )
        return time.perf_counter() - started


def factorization(con: sqlml.Connection):
    from sqlml.ml.recommendation.stored import factorization_of
    from sqlml.ml.runtime.model_cache import CACHE
    from sqlml.store.records import ModelRef

    return factorization_of(CACHE.get(con.models, con.models.resolve(ModelRef.parse("d.m"))))


def numpy_top_k(f, per_item: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each user's K best item rows (each item's K best user rows) and their predictions, from
    the whole score matrix."""
    scores = f.user_factors @ f.item_factors.T
    scores += f.user_intercepts[:, None]
    scores += f.item_intercepts[None, :]
    scores += f.global_intercept
    axis = 0 if per_item else 1
    best = np.argpartition(scores, scores.shape[axis] - K, axis=axis)
    best = best[-K:, :].T if per_item else best[:, -K:]
    return best, np.take_along_axis(scores.T if per_item else scores, best, axis=1)


def child(folder: Path, query: str) -> None:
    """Print RSS before and the peak during one statement (or the NumPy top-k), as JSON."""
    with connect(folder) as con:
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.m, (SELECT 0 AS user_id))").arrow()  # the model loaded
        f = factorization(con)
        reset_peak_rss()
        before = own_peak_rss_mib()
        started = time.perf_counter()
        rows = numpy_top_k(f)[0].size if query == "numpy" else con.query(QUERIES[query]).arrow().num_rows
        seconds = time.perf_counter() - started
        print(json.dumps({"before_mib": before, "peak_mib": own_peak_rss_mib(), "rows": rows, "seconds": seconds}))


def same_answer(con: sqlml.Connection, f) -> None:
    """The SQL's (user, item) pairs are NumPy's (the predictions have no ties here), per user
    directly and through a WITH query, and per item."""
    users, items = f.users.to_numpy(), f.items.to_numpy()
    best, _ = numpy_top_k(f)
    per_user = set(zip(np.repeat(users, K).tolist(), items[best.ravel()].tolist()))
    best, _ = numpy_top_k(f, per_item=True)
    per_item = set(zip(users[best.ravel()].tolist(), np.repeat(items, K).tolist()))
    for query, expected in (("qualify", per_user), ("with_query", per_user), ("per_item", per_item)):
        got = con.query(QUERIES[query]).arrow()
        assert set(zip(got["user_id"].to_pylist(), got["item_id"].to_pylist())) == expected, f"{query}: top-10 differs from NumPy's"


def paired(name: str, timings: list[tuple[float, float]]) -> Row:
    """A row of the median times of alternating (sqlml, NumPy) runs."""
    return Row(name, statistics.median(s for s, _ in timings), statistics.median(t for _, t in timings), "≤ 1.5×")


def pair_ratio(timings: list[tuple[float, float]]) -> float:
    """The median of each pair's sqlml / NumPy ratio (both sides of a pair ran under the same load)."""
    return statistics.median(s / t for s, t in timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--factors", type=int, default=32)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "QUERY"))
    args = parser.parse_args()
    if args.child:
        return child(Path(args.child[0]), args.child[1])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        training = train(folder, args.users, args.items, args.factors)
        print(f"CREATE MODEL ({args.users:,} users, {args.items:,} items, {args.factors} factors, 2 sweeps): {training:.2f} s")
        with connect(folder) as con:
            f = factorization(con)
            same_answer(con, f)
            qualify = alternate(lambda: con.query(QUERIES["qualify"]).arrow(), lambda: numpy_top_k(f), args.pairs)
            array_agg = alternate(lambda: con.query(QUERIES["array_agg"]).arrow(), lambda: numpy_top_k(f), args.pairs)
            with_query = alternate(lambda: con.query(QUERIES["with_query"]).arrow(), lambda: numpy_top_k(f), args.pairs)
            per_item = alternate(lambda: con.query(QUERIES["per_item"]).arrow(), lambda: numpy_top_k(f, per_item=True), args.pairs)
            started = time.perf_counter()
            con.query(QUERIES["unpushed"]).arrow()
            unpushed = time.perf_counter() - started
        grid = f"{args.users:,} × {args.items:,}"
        numpy_median = statistics.median(t for _, t in qualify + array_agg)
        print_table(f"ML.RECOMMEND top {K} per user, {grid}, {args.factors} factors ({args.pairs} alternating pairs; medians)", [
            paired(f"QUALIFY ROW_NUMBER() … <= {K} vs NumPy matmul + argpartition", qualify),
            paired(f"ARRAY_AGG(… ORDER BY … LIMIT {K}) GROUP BY user vs NumPy", array_agg),
            paired(f"WITH recs AS (SELECT * FROM ML.RECOMMEND(…)) … QUALIFY … <= {K} vs NumPy", with_query),
            paired(f"QUALIFY ROW_NUMBER() OVER (PARTITION BY item_id …) <= {K} vs NumPy down the columns", per_item),
            Row("QUALIFY without the push-down (WHERE TRUE: 50 M rows streamed and ranked) vs NumPy", unpushed, numpy_median, "report"),
        ])  # fmt: skip
        ratios = ", ".join(f"{name} {pair_ratio(t):.2f}×" for name, t in (("QUALIFY", qualify), ("ARRAY_AGG", array_agg), ("WITH", with_query), ("per item", per_item)))
        print(f"(median of the per-pair ratios: {ratios}; load average {os.getloadavg()[0]:.1f})")
        print(f"\n### Peak memory ({grid}; child process per statement, the model loaded first)\n")
        print("| statement | rows out | RSS before | peak RSS | growth | seconds |")
        print("|---|---:|---:|---:|---:|---:|")
        for name in ("qualify", "array_agg", "with_query", "per_item", "every_row", "unpushed", "numpy"):
            result = peak_rss_of(__file__, "--child", str(folder), name)
            growth = result["peak_mib"] - result["before_mib"]
            print(f"| {name} | {result['rows']:,} | {result['before_mib']:.0f} MiB | {result['peak_mib']:.0f} MiB | {growth:.0f} MiB | {result['seconds']:.2f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
