"""On a shared tabular dataset, AUTOML reaches the best single default model of the other
families within 2%, given the time those default models took (slow: it trains every family).

bikeshare_hourly.csv (../shared/data, ISLP's BSD-style licence): ``bikers`` from the hour, day and
weather columns (not its parts ``casual`` and ``registered``), every third row (2,882), split
TRAIN / VALIDATE / TEST by a fingerprint of the row number. Each family's default model trains on
the TRAIN rows (VALIDATE as its eval split); AUTOML gets the same split and, as ``budget_hours``,
the time the default models took together. Both are scored by RMSE on the TEST rows, where AutoML's
must not be above the best default's by more than 2% (:data:`TOLERANCE`): the TEST rows are ~290,
and two models this close differ there by chance (a run measured an ensemble 2.3% better than the
best default on the folds of 2,300 rows and 1.5% worse on the TEST rows).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sqlml
from sqlml.ml.models.catalog import canonical_name

BIKESHARE = Path("/work/shared/data/bikeshare_hourly.csv")
SPLIT = "CASE MOD(ABS(FARM_FINGERPRINT(CAST(rid AS STRING))), 10) WHEN 0 THEN 'VALIDATE' WHEN 1 THEN 'TEST' ELSE 'TRAIN' END"
FEATURES = "season, mnth, day, hr, holiday, weekday, workingday, weathersit, temp, atemp, hum, windspeed"
FAMILIES = ("LINEAR_REG", "BOOSTED_TREE_REGRESSOR", "RANDOM_FOREST_REGRESSOR", "DNN_REGRESSOR")
TOLERANCE = 1.02


def _test_rmse(con, model: str) -> float:
    rows = con.query(f"SELECT bikers, predicted_bikers FROM ML.PREDICT(MODEL {model}, (SELECT * FROM ds.p WHERE part = 'TEST'))").df()
    return float(np.sqrt(np.mean((rows.bikers - rows.predicted_bikers) ** 2)))


@pytest.mark.slow
def test_automl_reaches_the_best_default_model_in_the_same_time(tmp_path):
    with sqlml.connect(tmp_path / "w", tmp_path / "m", idle_release=0) as con:
        frame = pd.read_csv(BIKESHARE, dtype={"hr": str}).iloc[::3].drop(columns=["casual", "registered"])
        frame.insert(0, "rid", range(len(frame)))
        con.register("bikeshare", frame)
        con.query(f"CREATE SCHEMA ds; CREATE TABLE ds.p AS SELECT *, {SPLIT} AS part FROM bikeshare")
        defaults, seconds = {}, 0.0
        for model_type in (f for f in FAMILIES if canonical_name(f)):
            started = time.perf_counter()
            con.query(
                f"CREATE OR REPLACE MODEL ds.single OPTIONS(model_type='{model_type}', input_label_cols=['bikers'], "
                f"data_split_method='CUSTOM', data_split_col='is_eval') AS SELECT {FEATURES}, bikers, part = 'VALIDATE' AS is_eval "
                "FROM ds.p WHERE part != 'TEST'"
            )
            seconds += time.perf_counter() - started
            defaults[model_type] = _test_rmse(con, "ds.single")
        con.query(
            f"CREATE MODEL ds.auto OPTIONS(model_type='AUTOML_REGRESSOR', input_label_cols=['bikers'], "
            f"budget_hours={max(seconds / 3600, 0.0001)!r}, data_split_col='part') AS SELECT {FEATURES}, bikers, part FROM ds.p"
        )
        assert _test_rmse(con, "ds.auto") <= TOLERANCE * min(defaults.values()), defaults
