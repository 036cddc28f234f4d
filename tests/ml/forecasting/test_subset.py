"""sqlml.ml.forecasting.subset: a stored model cut down to one series (a roll-up with its leaves) gives the
whole model's ML.EVALUATE and ML.DETECT_ANOMALIES rows for that series' input — what lets Spark's
workers compute them one series at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.forecasting.anomalies import detect_new
from sqlml.ml.forecasting.evaluation import evaluation_rows
from sqlml.ml.forecasting.subset import SeriesSubsets
from sqlml.ml.runtime.forecast import series_id_types
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

DAYS = pd.date_range("2024-01-01", periods=60, freq="D")
STORES = (("CA", "LA", 50.0), ("CA", "SF", 30.0), ("NY", "NYC", 80.0))
#: Every series of the model: the leaves, each state's roll-up and the total.
KEYS = [("CA", "LA"), ("CA", "SF"), ("NY", "NYC"), ("CA", None), ("NY", None), (None, None)]


def _sales(days: pd.DatetimeIndex, shift: float) -> pd.DataFrame:
    step = np.arange(len(days))
    frames = [pd.DataFrame({"state": state, "city": city, "day": days.date,
                            "sales": level + shift + 2 * np.sin(2 * np.pi * step / 7) + 0.1 * step + np.cos(step * level)})
              for state, city, level in STORES]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def model():
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds")
        con.register("sales_frame", _sales(DAYS, 0.0))
        con.query(
            "CREATE MODEL ds.stores OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day', time_series_data_col='sales', "
            "time_series_id_col=['state', 'city'], hierarchical_time_series_cols=['state', 'city'], horizon=7) AS SELECT * FROM sales_frame"
        )
        yield CACHE.get(con.models, con.models.resolve(ModelRef.parse("ds.stores")))


def _new_rows() -> pa.Table:
    """The last training days and the forecast's week of every series, roll-ups as the sums of their leaves."""
    leaves = _sales(pd.date_range("2024-02-25", periods=11, freq="D"), 1.5)
    states = leaves.groupby(["state", "day"], as_index=False)["sales"].sum().assign(city=None)
    total = leaves.groupby("day", as_index=False)["sales"].sum().assign(state=None, city=None)
    frame = pd.concat([leaves, states, total], ignore_index=True)
    return pa.table({"state": frame["state"], "city": frame["city"], "day": pa.array(frame["day"], pa.date32()), "sales": frame["sales"]})


def _of_series(table: pa.Table, key: tuple) -> pa.Table:
    mask = [(state, city) == key for state, city in zip(table.column("state").to_pylist(), table.column("city").to_pylist())]
    return table.filter(pa.array(mask))


def test_a_roll_up_is_cut_out_with_its_leaves_and_an_unknown_series_with_nothing(model):
    subsets = SeriesSubsets(model.spec, model.arrays)
    spec, arrays = subsets.model_of([("CA", None)])
    in_model_order = [tuple(item["id"]) for item in model.spec["time_series"]["series"] if item["id"][0] == "CA"]
    assert [tuple(item["id"]) for item in spec["time_series"]["series"]] == in_model_order and len(in_model_order) == 3
    coefficients = sum(len(item["arima"]["coef_names"]) for item in spec["time_series"]["series"])
    assert len(arrays["arima.coef"]) == coefficients < len(model.arrays["arima.coef"])
    spec, arrays = subsets.model_of([("TX", "Austin")])
    assert spec["time_series"]["series"] == [] and len(arrays["arima.a"]) == 0


@pytest.mark.parametrize("aggregate", [True, False])
def test_each_series_cut_out_evaluates_as_the_whole_model(model, aggregate):
    table, id_types = _new_rows(), series_id_types(model.spec)
    whole = evaluation_rows(model.spec, model.arrays, table, 7, 0.9, aggregate, id_types)
    subsets = SeriesSubsets(model.spec, model.arrays)
    parts = [evaluation_rows(*subsets.model_of([key]), _of_series(table, key), 7, 0.9, aggregate, id_types) for key in KEYS]
    order = [("state", "ascending"), ("city", "ascending")] + ([] if aggregate else [("day", "ascending")])
    assert pa.concat_tables(parts).sort_by(order).to_pylist() == whole.sort_by(order).to_pylist()
    assert len(whole) == (len(KEYS) if aggregate else table.num_rows)


def test_each_series_cut_out_detects_anomalies_as_the_whole_model(model):
    table, id_types = _new_rows(), series_id_types(model.spec)
    whole = detect_new(model.spec, model.arrays, table, 0.9, id_types)
    subsets = SeriesSubsets(model.spec, model.arrays)
    parts = pa.concat_tables([detect_new(*subsets.model_of([key]), _of_series(table, key), 0.9, id_types) for key in KEYS])
    order = [("state", "ascending"), ("city", "ascending"), ("day", "ascending")]
    assert parts.sort_by(order).to_pylist() == whole.sort_by(order).to_pylist()
    assert whole.column("anomaly_probability").null_count < whole.num_rows  # the forecast's week is scored
