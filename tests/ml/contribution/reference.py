"""Rows with a planted change, and the same insights computed directly with pandas.

The reference (:func:`reference_insights`) is written from the ML.GET_INSIGHTS page's formulas
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output),
one pandas ``groupby`` per subset of the dimensions, with the Aumann-Shapley attribution integrated
numerically; it shares no code with sqlml.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd

DIMENSIONS = ["region", "continent", "device", "tier", "member"]
CONTINENTS = {"EU": "Europe", "US": "America", "APAC": "Asia"}


def make_rows(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Sales rows, half test and half control; region='EU' AND device='mobile' sells three times
    as much in the test rows. Continent is a function of region (its segments are redundant)."""
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame({
        "region": rng.choice(list(CONTINENTS), n, p=[0.4, 0.35, 0.25]),
        "device": rng.choice(["mobile", "desktop"], n, p=[0.6, 0.4]),
        "tier": rng.integers(1, 4, n),
        "member": rng.random(n) < 0.3,
        "is_test": rng.random(n) < 0.5,
        "sales": rng.integers(1, 100, n).astype(float),
        "clicks": rng.integers(1, 20, n).astype(float),
        "month": rng.choice(["jan", "feb", "mar", "apr"], n),
    })  # fmt: skip
    rows["continent"] = rows["region"].map(CONTINENTS)
    planted = (rows.region == "EU") & (rows.device == "mobile") & rows.is_test
    rows.loc[planted, "sales"] *= 3
    return rows


def _sums(rows: pd.DataFrame, keys: list[str], kind: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Per segment of ``keys``: test and control sums (x, y) or distinct categories (n)."""
    out = []
    for flag, side in ((True, "1"), (False, "0")):
        part = rows[rows.is_test == flag]
        aggregations = {f"x{side}": (columns[0], "sum")}
        if kind == "summable_ratio":
            aggregations[f"y{side}"] = (columns[1], "sum")
        if kind == "summable_by_category":
            aggregations[f"n{side}"] = (columns[1], "nunique")
        if keys:
            out.append(part.groupby(keys).agg(**aggregations))
        else:
            out.append(pd.DataFrame({name: [getattr(part[col], how)()] for name, (col, how) in aggregations.items()}))
    joined = out[0].join(out[1], how="outer") if keys else pd.concat(out, axis=1)
    return joined.reset_index() if keys else joined


def _divide(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.nan, a / np.where(b == 0, 1, b))


def _shapley_integrals(a0, a1, b0, b1, points=200_001):
    """∫ dt / B(t) and ∫ A(t) / B(t)² dt along the straight path, by the trapezoid rule."""
    t = np.linspace(0.0, 1.0, points)
    big_a, big_b = a0 + t * (a1 - a0), b0 + t * (b1 - b0)
    return np.trapezoid(1 / big_b, t), np.trapezoid(big_a / big_b**2, t)


def _metrics(seg: pd.DataFrame, pop: pd.Series, kind: str, shapley) -> pd.DataFrame:
    x1, x0 = seg.x1.fillna(0).to_numpy(), seg.x0.fillna(0).to_numpy()
    out = pd.DataFrame(index=seg.index)
    support = np.maximum(_divide(x1, pop.x1), _divide(x0, pop.x0))
    if kind == "summable":
        ct, cc = pop.x1 - x1, pop.x0 - x0
        ratio = np.where((ct == 0) & (cc == 0), 1.0, _divide(ct, cc))
        expected = x0 * ratio
        out["metric_test"], out["metric_control"] = x1, x0
        out["difference"] = x1 - x0
        out["relative_difference"] = _divide(x1 - x0, x0)
        out["unexpected_difference"] = x1 - expected
        out["relative_unexpected_difference"] = _divide(x1 - expected, expected)
        out["apriori_support"], out["contribution"] = support, np.abs(x1 - x0)
    elif kind == "summable_ratio":
        y1, y0 = seg.y1.fillna(0).to_numpy(), seg.y0.fillna(0).to_numpy()
        mt, mc = _divide(x1, y1), _divide(x0, y0)
        i1, i2 = shapley
        out["metric_test"], out["metric_control"] = mt, mc
        out["metric_test_over_metric_control"] = _divide(mt, mc)
        out["metric_test_over_complement"] = _divide(mt, _divide(pop.x1 - x1, pop.y1 - y1))
        out["metric_control_over_complement"] = _divide(mc, _divide(pop.x0 - x0, pop.y0 - y0))
        out["aumann_shapley_attribution"] = (x1 - x0) * i1 - (y1 - y0) * i2
        out["apriori_support"], out["contribution"] = support, np.abs(out["aumann_shapley_attribution"])
    else:
        mt, mc = _divide(x1, seg.n1.fillna(0)), _divide(x0, seg.n0.fillna(0))
        out["metric_test"], out["metric_control"] = mt, mc
        out["difference"] = mt - mc
        out["relative_difference"] = _divide(mt - mc, mc)
        out["metric_test_over_population"] = _divide(mt, pop.x1 / pop.n1)
        out["metric_control_over_population"] = _divide(mc, pop.x0 / pop.n0)
        out["apriori_support"], out["contribution"] = support, np.abs(mt - mc)
    return out


_SEGMENTS: dict[tuple, list[dict]] = {}


def all_segments(rows, dims, kind, columns) -> list[dict]:
    """Every segment's insight (cached per rows, dimensions and metric)."""
    key = (id(rows), tuple(dims), kind, tuple(columns))
    if key not in _SEGMENTS:
        kept = rows.dropna(subset=dims)
        pop = _sums(kept, [], kind, columns).iloc[0]
        shapley = _shapley_integrals(pop.x0, pop.x1, pop.y0, pop.y1) if kind == "summable_ratio" else None
        insights = []
        for size in range(len(dims) + 1):
            for keys in combinations(dims, size):
                seg = _sums(kept, list(keys), kind, columns)
                items = seg[list(keys)].to_dict("records") if keys else [{}]
                insights += [{"items": item, "k": size, **values} for item, values in zip(items, _metrics(seg, pop, kind, shapley).to_dict("records"))]
        _SEGMENTS[key] = insights
    return _SEGMENTS[key]


def reference_insights(rows, dims, kind, columns, threshold=0.1, top_k=None, prune=False) -> list[dict]:
    """ML.GET_INSIGHTS's rows computed directly: one dict per insight, with ``items`` (the fixed
    dimension → value), ``k`` and the metric columns, in BigQuery's order."""
    insights = all_segments(rows, dims, kind, columns)
    if top_k is None:
        insights = [r for r in insights if r["k"] == 0 or r["apriori_support"] >= threshold]
        assert all(abs(r["apriori_support"] - threshold) > 1e-9 for r in insights if r["k"])  # no tie at the threshold
    if prune:
        insights = [r for r in insights if r["k"] == 0 or not any(_redundant(r, t) for t in insights)]
    if top_k is not None:
        insights = sorted(insights, key=lambda r: (r["k"] != 0, -r["apriori_support"], r["k"], -_or_inf(r["contribution"]), _values(r, dims)))[:top_k]
    return sorted(insights, key=lambda r: (-_or_inf(r["contribution"]), r["k"], _values(r, dims)))


def _redundant(row: dict, other: dict) -> bool:
    if other["k"] <= row["k"] or any(other["items"].get(key) != value for key, value in row["items"].items()):
        return False
    return all(_same(row[name], other[name]) for name in ("metric_test", "metric_control"))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (not math.isnan(a) and not math.isnan(b) and math.isclose(a, b, rel_tol=1e-12))


def _or_inf(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def _values(row: dict, dims: list[str]) -> tuple:
    return tuple((0,) if key not in row["items"] else (1, row["items"][key]) for key in dims)


def contributors(row: dict, dims: list[str]) -> list[str]:
    """``name=value`` items in dimension order (``['all']`` for the population)."""
    items = [f"{key}={_text(row['items'][key])}" for key in dims if key in row["items"]]
    return items or ["all"]


def _text(value) -> str:
    return str(value).lower() if isinstance(value, (bool, np.bool_)) else str(value)
