"""Training data for the model tests: generated deterministically and registered as tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sqlml


def make_frame(n: int = 1200, seed: int = 7) -> pd.DataFrame:
    """Numeric, string, boolean and NULL-bearing features with regression and class labels."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(2.0, 3.0, size=n)
    plan = rng.choice(["basic", "plus", "pro"], size=n, p=[0.5, 0.3, 0.2])
    active = rng.random(n) < 0.6
    score = 1.5 * x1 - 0.4 * x2 + np.where(plan == "pro", 1.0, 0.0) + 0.5 * active + rng.normal(0, 0.5, n)
    frame = pd.DataFrame({
        "x1": x1,
        "x2": x2,
        "plan": plan,
        "active": active,
        "target": 3.0 * x1 + 2.0 * x2 + np.where(plan == "plus", 4.0, 0.0) + rng.normal(0, 0.3, n),
        "churned": score > 0.3,
        "tier": np.select([score < -0.8, score < 0.9], ["bronze", "silver"], "gold"),
    })  # fmt: skip
    frame.loc[rng.random(n) < 0.05, "x2"] = np.nan
    return frame


@pytest.fixture(scope="module")
def ml_con(tmp_path_factory):
    """A connection with ds.train (1,200 rows) and ds.fresh (300 unseen rows)."""
    root = tmp_path_factory.mktemp("ml")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("train_frame", make_frame())
        con.register("fresh_frame", make_frame(300, seed=11))
        con.query("CREATE TABLE ds.train AS SELECT * FROM train_frame; CREATE TABLE ds.fresh AS SELECT * FROM fresh_frame")
        yield con
