"""CREATE MODEL … CONTRIBUTION_ANALYSIS + ML.GET_INSIGHTS vs pandas computing the same segments (issue 21).

1M rows × 5 dimensions (10 regions, 3 devices, 5 channels, 40 products, 200 stores), a summable
metric, min_apriori_support=0.05 (``--support``). The baseline is what a pandas user writes: one ``groupby`` per
subset of the dimensions (31 and the population), test and control sums side by side, the
documented formulas, the support threshold — on categorical columns already in memory, while sqlml
reads its rows from the warehouse. The two results are checked equal before timing.

    python bench_contribution.py [--rows 1000000] [--pairs 5] [--support 0.05]
"""

from __future__ import annotations

import argparse
import statistics
from itertools import combinations

import numpy as np
import pandas as pd

import sqlml
from harness import alternate

DIMENSIONS = ["region", "device", "channel", "product", "store"]


def make_rows(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame({
        "region": rng.choice([f"region_{i}" for i in range(10)], n),
        "device": rng.choice(["mobile", "desktop", "tablet"], n, p=[0.5, 0.35, 0.15]),
        "channel": rng.choice(["web", "app", "store", "phone", "partner"], n),
        "product": rng.choice([f"product_{i}" for i in range(40)], n),
        "store": rng.integers(0, 200, n),
        "is_test": rng.random(n) < 0.5,
        "sales": rng.integers(1, 500, n).astype(float),
    })  # fmt: skip
    planted = (rows.region == "region_3") & (rows.device == "mobile") & rows.is_test
    rows.loc[planted, "sales"] *= 2
    return rows


def pandas_insights(rows: pd.DataFrame, support: float) -> pd.DataFrame:
    """Every segment's summable insight from pandas groupbys, then the threshold and the order."""
    totals = rows.groupby("is_test")["sales"].sum()
    test_total, control_total = totals[True], totals[False]
    frames = []
    for size in range(len(DIMENSIONS) + 1):
        for keys in combinations(DIMENSIONS, size):
            if keys:
                sums = rows.groupby([*keys, "is_test"], observed=True, sort=False)["sales"].sum().unstack("is_test", fill_value=0.0)
                frame = sums.reset_index().rename(columns={True: "metric_test", False: "metric_control"})
            else:
                frame = pd.DataFrame({"metric_test": [test_total], "metric_control": [control_total]})
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    mt, mc = out["metric_test"], out["metric_control"]
    ct, cc = test_total - mt, control_total - mc
    expected = mc * np.where((ct == 0) & (cc == 0), 1.0, ct / cc.where(cc != 0))
    out["difference"] = mt - mc
    out["relative_difference"] = out["difference"] / mc.where(mc != 0)
    out["unexpected_difference"] = mt - expected
    out["relative_unexpected_difference"] = out["unexpected_difference"] / expected.where(expected != 0)
    out["apriori_support"] = np.maximum(mt / test_total, mc / control_total)
    out["contribution"] = out["difference"].abs()
    dims = out[DIMENSIONS]
    out = out[(dims.isna().all(axis=1)) | (out["apriori_support"] >= support)]
    return out.sort_values("contribution", ascending=False, kind="stable")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--support", type=float, default=0.05)
    args = parser.parse_args()
    rows = make_rows(args.rows)
    frame = rows.astype({name: "category" for name in DIMENSIONS if name != "store"})
    with sqlml.connect(":memory:") as con:
        con.register("sales_frame", rows)
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.sales AS SELECT * FROM sales_frame")
        con.unregister("sales_frame")
        statement = (
            "CREATE OR REPLACE MODEL ds.ca OPTIONS(model_type='CONTRIBUTION_ANALYSIS', contribution_metric='SUM(sales)', "
            f"dimension_id_cols={DIMENSIONS}, is_test_col='is_test', min_apriori_support={args.support}) AS SELECT * FROM ds.sales"
        )

        def ours():
            con.query(statement)
            return con.query("SELECT * FROM ML.GET_INSIGHTS(MODEL ds.ca)").df()

        got, expected = ours(), pandas_insights(frame, args.support)
        assert len(got) == len(expected), (len(got), len(expected))
        np.testing.assert_allclose(got["contribution"].to_numpy(), expected["contribution"].to_numpy(), rtol=1e-9)
        np.testing.assert_allclose(np.sort(got["unexpected_difference"]), np.sort(expected["unexpected_difference"]), rtol=1e-9)
        timings = alternate(ours, lambda: pandas_insights(frame, args.support), args.pairs)
    ratios = [a / b for a, b in timings]
    print(f"{args.rows:,} rows × {len(DIMENSIONS)} dimensions, {len(got)} insights (support ≥ {args.support})")
    print(f"sqlml CREATE MODEL + ML.GET_INSIGHTS  median {statistics.median(a for a, _ in timings):.3f} s")
    print(f"pandas groupby per segment subset     median {statistics.median(b for _, b in timings):.3f} s")
    print(f"ratio (median of {args.pairs} pairs)  {statistics.median(ratios):.2f}×  (target ≤ 0.5×)")


if __name__ == "__main__":
    main()
