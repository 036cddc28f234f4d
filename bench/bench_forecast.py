"""Forecasting: CREATE MODEL … ARIMA_PLUS + ML.FORECAST against statsforecast doing the same work.

Measures, in one run (default 1,000 daily series × 3 years = 1,095,000 training rows):
  * CREATE MODEL (model_type='ARIMA_PLUS', time_series_id_col, BigQuery's default options) plus
    ML.FORECAST(horizon 30, 95 % intervals) vs the closest direct call of the same library:
    statsforecast's ``MSTL(season_length=[7, 365], trend_forecaster=AutoARIMA())`` fitting and
    forecasting every series with ``n_jobs`` = the cores (target: at most 1.2× its time);
  * accuracy: the mean MASE over the series on the 30 days held back after the training years
    (scale: the in-sample weekly seasonal naive), sqlml vs the direct call (target: within 2 %);
  * optionally (``--matched``) the same baseline with its STL given the LOESS jumps sqlml's
    decomposition uses for the yearly period, to show what the STL settings are worth.

Usage: python bench/bench_forecast.py [--series 1000] [--days 1095] [--matched]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

import sqlml
from harness import Row, print_table

HORIZON = 30
CREATE = """CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='ARIMA_PLUS', time_series_timestamp_col='day',
            time_series_data_col='y', time_series_id_col='id', horizon={horizon}) AS SELECT id, day, y FROM ds.sales"""


def generate(series: int, days: int, seed: int = 0) -> pd.DataFrame:
    """``series`` daily series of ``days + HORIZON`` days: level, trend, weekly and yearly patterns,
    a slowly wandering level (random walk) and noise, each series with its own scales."""
    rng = np.random.default_rng(seed)
    total = days + HORIZON
    t = np.arange(total)
    shape = (series, 1)
    level = rng.uniform(50, 150, shape) + rng.uniform(-0.02, 0.05, shape) * t
    weekly = rng.uniform(2, 10, shape) * np.sin(2 * np.pi * (t + rng.integers(0, 7, shape)) / 7)
    yearly = rng.uniform(5, 20, shape) * np.sin(2 * np.pi * (t + rng.integers(0, 365, shape)) / 365.25)
    wander = np.cumsum(rng.normal(0, 0.3, (series, total)), axis=1)
    values = level + weekly + yearly + wander + rng.normal(0, 1, (series, total)) * rng.uniform(1, 4, shape)
    stamps = pd.date_range("2021-01-01", periods=total, freq="D")
    return pd.DataFrame({
        "unique_id": np.repeat(np.arange(series), total),
        "ds": np.tile(stamps.to_numpy(), series),
        "y": values.ravel(),
    })  # fmt: skip


def split(frame: pd.DataFrame, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training years and the held-back horizon."""
    cut = frame["ds"].min() + pd.Timedelta(days=days)
    return frame[frame["ds"] < cut].reset_index(drop=True), frame[frame["ds"] >= cut].reset_index(drop=True)


def mase(train: pd.DataFrame, test: pd.DataFrame, forecast: pd.DataFrame) -> float:
    """The mean over series of MASE: the forecast's mean absolute error over the in-sample mean
    absolute error of the weekly seasonal naive forecast."""
    scores = []
    truth = test.set_index(["unique_id", "ds"])["y"]
    predicted = forecast.set_index(["unique_id", "ds"])["yhat"]
    for key, history in train.groupby("unique_id"):
        y = history["y"].to_numpy()
        scale = np.mean(np.abs(y[7:] - y[:-7]))
        error = np.mean(np.abs(truth.loc[key].to_numpy() - predicted.loc[key].to_numpy()))
        scores.append(error / scale)
    return float(np.mean(scores))


def run_sqlml(train: pd.DataFrame) -> tuple[float, float, pd.DataFrame]:
    """CREATE MODEL and ML.FORECAST timed; the forecasts in the baseline's layout."""
    con = sqlml.connect(":memory:")
    con.query("CREATE SCHEMA ds")
    con.register("train_frame", train.rename(columns={"unique_id": "id", "ds": "day"}))
    con.query("CREATE TABLE ds.sales AS SELECT id::BIGINT AS id, day::DATE AS day, y FROM train_frame")
    started = time.perf_counter()
    con.query(CREATE.format(horizon=HORIZON))
    created = time.perf_counter()
    table = con.query(f"SELECT * FROM ML.FORECAST(MODEL ds.m, STRUCT({HORIZON} AS horizon, 0.95 AS confidence_level))").arrow()
    forecast_seconds = time.perf_counter() - created
    frame = table.to_pandas()
    con.close()
    result = pd.DataFrame({"unique_id": frame["id"], "ds": frame["forecast_timestamp"].dt.tz_localize(None), "yhat": frame["forecast_value"]})
    return created - started, forecast_seconds, result


def run_statsforecast(train: pd.DataFrame, stl_kwargs: dict | None = None) -> tuple[float, pd.DataFrame]:
    """statsforecast's MSTL with AutoARIMA on the trend, fitted and forecast on every core."""
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA

    model = MSTL(season_length=[7, 365], trend_forecaster=AutoARIMA(), stl_kwargs=stl_kwargs)
    started = time.perf_counter()
    forecast = StatsForecast(models=[model], freq="D", n_jobs=os.cpu_count()).forecast(df=train, h=HORIZON, level=[95])
    seconds = time.perf_counter() - started
    return seconds, forecast.rename(columns={"MSTL": "yhat"})[["unique_id", "ds", "yhat"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--matched", action="store_true", help="also the baseline with sqlml's yearly STL jumps")
    args = parser.parse_args()
    frame = generate(args.series, args.days)
    train, test = split(frame, args.days)
    print(f"{args.series:,} series × {args.days:,} days = {len(train):,} training rows; load average {os.getloadavg()[0]:.1f}")
    create_seconds, forecast_seconds, ours = run_sqlml(train)
    print(f"sqlml: CREATE MODEL {create_seconds:.1f} s, ML.FORECAST {forecast_seconds:.2f} s; load {os.getloadavg()[0]:.1f}")
    sys.stdout.flush()
    theirs_seconds, theirs = run_statsforecast(train)
    print(f"statsforecast: {theirs_seconds:.1f} s; load {os.getloadavg()[0]:.1f}")
    ours_mase, theirs_mase = mase(train, test, ours), mase(train, test, theirs)
    print(f"mean MASE: sqlml {ours_mase:.4f}, statsforecast {theirs_mase:.4f} ({ours_mase / theirs_mase - 1:+.2%})")
    rows = [
        Row(f"CREATE MODEL + ML.FORECAST(30), {args.series:,} series × {args.days:,} days vs statsforecast MSTL+AutoARIMA",
            create_seconds + forecast_seconds, theirs_seconds, "≤ 1.2×"),  # fmt: skip
        Row("mean MASE on the 30 held-back days (sqlml / statsforecast)", ours_mase, theirs_mase, "≤ 1.02×", unit="MASE"),
    ]
    if args.matched:
        from sqlml.ml.forecasting.decomposition import stl_settings

        jumps = {k: v for k, v in stl_settings(365, 15).items() if k in ("trend_jump", "low_pass_jump")}
        matched_seconds, matched = run_statsforecast(train, jumps)
        rows.append(Row(f"same, baseline's STL with sqlml's yearly jumps {jumps}", create_seconds + forecast_seconds, matched_seconds, "report"))
        rows.append(Row("mean MASE, baseline with those jumps", ours_mase, mase(train, test, matched), "report", unit="MASE"))
    print_table("Forecasting (bench_forecast.py)", rows)


if __name__ == "__main__":
    main()
