"""Small LightGBM boosters on generated rows with NaNs, zeros and a categorical feature."""

from __future__ import annotations

import numpy as np


def rows(n: int = 3000, features: int = 6, seed: int = 0) -> np.ndarray:
    """Normal features with feature 2 a category code (0..39), 10% NaN and 10% exact zeros."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    X[:, 2] = rng.integers(0, 40, n)
    X[rng.random(X.shape) < 0.1] = 0.0
    X[rng.random(X.shape) < 0.1] = np.nan
    return X


def target(X: np.ndarray) -> np.ndarray:
    """A label that depends on the numeric features, on NaN-ness and on the category."""
    rng = np.random.default_rng(1)
    return 2 * np.nan_to_num(X[:, 0]) + np.isnan(X[:, 1]) + (np.nan_to_num(X[:, 2]) % 5 == 1) * 3 + rng.normal(0, 0.3, len(X))


def train(params: dict, label: np.ndarray, X: np.ndarray, rounds: int = 12, categorical: list[int] | None = None):
    """A small LightGBM booster (8 leaves) on ``X`` with feature 2 categorical by default."""
    import lightgbm as lgb

    base = {"verbose": -1, "num_leaves": 8, "min_data_in_leaf": 5, "num_threads": 1, "seed": 3}
    data = lgb.Dataset(X, label, categorical_feature=[2] if categorical is None else categorical)
    return lgb.train({**base, **params}, data, rounds)
