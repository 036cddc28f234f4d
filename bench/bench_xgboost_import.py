"""Imported XGBoost models: ML.PREDICT and one served request against XGBoost called directly.

Measures, in one run (default 1M rows × 10 numeric columns, a 100-round binary booster):
  * ML.PREDICT materialized with CREATE TABLE AS vs ``Booster.predict(DMatrix(X))`` on the same
    matrix (the booster as imported; the predictions are checked equal first);
  * ML.PREDICT of one row (a served request's size) vs ``Booster.predict`` of one row.

Usage: python bench/bench_xgboost_import.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import xgboost as xgb

import sqlml
from harness import Row, alternate, per_call, print_table

FEATURES = [f"f{i}" for i in range(10)]
ROUNDS = 100
PAIRS = 3


def booster_and_data(rows: int) -> tuple[xgb.Booster, np.ndarray]:
    """A binary booster trained on 20,000 rows, and ``rows`` rows (5% missing) to score."""
    rng = np.random.default_rng(0)
    train = rng.normal(size=(20_000, len(FEATURES)))
    label = (train[:, 0] + train[:, 1] * train[:, 2] > 0).astype(float)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6}, xgb.DMatrix(train, label, feature_names=FEATURES), ROUNDS)
    X = rng.normal(size=(rows, len(FEATURES)))
    X[rng.random(X.shape) < 0.05] = np.nan
    return booster, X


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    booster, X = booster_and_data(rows)
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(Path(folder) / "wh", Path(folder) / "models") as con:
        booster.save_model(str(Path(folder) / "model.ubj"))
        con.query("CREATE SCHEMA ds")
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{Path(folder) / 'model.ubj'}')")
        con.register("rows", pa.table({name: pa.array(X[:, i], from_pandas=True) for i, name in enumerate(FEATURES)}))  # NaN → NULL
        con.query("CREATE TABLE ds.rows AS SELECT * FROM rows")
        scored = con.query("SELECT predicted_label FROM ML.PREDICT(MODEL ds.x, TABLE ds.rows)").arrow().column(0).to_numpy()
        direct = booster.predict(xgb.DMatrix(X, feature_names=FEATURES)).astype(np.float64)
        assert np.array_equal(scored, direct), "ML.PREDICT differs from Booster.predict"
        pairs = alternate(
            lambda: con.query("CREATE OR REPLACE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.x, TABLE ds.rows)"),
            lambda: booster.predict(xgb.DMatrix(X, feature_names=FEATURES)),
            PAIRS,
        )
        one = X[:1]
        values = ", ".join(f"{'NULL' if np.isnan(v) else repr(float(v))} AS {n}" for v, n in zip(one[0], FEATURES))
        sql_one = f"SELECT * FROM ML.PREDICT(MODEL ds.x, (SELECT {values}))"
        rows_out = [
            Row(f"ML.PREDICT CTAS, {rows:,} rows", statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs), "report"),
            Row("ML.PREDICT, 1 row", per_call(lambda: con.query(sql_one).arrow(), 50), per_call(lambda: booster.predict(xgb.DMatrix(one, feature_names=FEATURES)), 50), "report"),
        ]
    print_table("Imported XGBOOST vs xgboost.Booster.predict", rows_out)


if __name__ == "__main__":
    main()
