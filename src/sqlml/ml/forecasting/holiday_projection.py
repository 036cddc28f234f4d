"""Holiday effects carried into the forecast: each holiday's effect by day of its window, and its future dates.

BigQuery models holiday effects and forecasts them: the effect a holiday had in the history
recurs at its next occurrences (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#holiday_region,
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast —
``holiday_effect`` on forecast rows). At training :func:`window_effects` reduces each holiday's
history component to one effect per day of its window; at forecast time :func:`project` lays
those effects on the dates the calendar gives for the forecast's years (built-in regions
recomputed by :mod:`sqlml.ml.forecasting.holidays`, custom rows from the model's spec).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from sqlml.ml.forecasting import holidays

#: How far from a grid a holiday's primary date can be and its window still touch it (a window
#: is at most 30 days; a weekly point covers 7).
MARGIN = pd.Timedelta(days=40)


def spec_custom_holidays(table: pa.Table | None) -> list[dict]:
    """The rows of a ``custom_holiday AS (…)`` query, checked and completed, as JSON-ready dicts.

    Raises:
        InvalidOptionError: a row breaks BigQuery's custom holiday rules (see
            :func:`sqlml.ml.forecasting.holidays.custom_calendar`).
    """
    if table is None or table.num_rows == 0:
        return []
    frame = holidays.custom_calendar(table.to_pandas())
    frame["primary_date"] = frame["primary_date"].dt.strftime("%Y-%m-%d")
    return [{key: (int(value) if key.endswith("_days") else value) for key, value in row.items()} for row in frame.to_dict("records")]


def calendar(regions: Sequence[str], custom: pd.DataFrame | None, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The holidays of ``regions`` (built-in and ``custom`` rows) whose windows may touch ``[first, last]``."""
    years = range(first.year - 1, last.year + 2)  # windows reach across New Year
    return holidays.holiday_calendar(holidays.parse_regions(list(regions)), years, custom)


def spec_calendar(spec: dict, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """:func:`calendar` of a model's ``holiday_regions`` and ``custom_holidays`` (its spec)."""
    series = spec["time_series"]
    rows = series.get("custom_holidays") or []
    return calendar(series.get("holiday_regions") or [], pd.DataFrame(rows) if rows else None, first, last)


def history_positions(regions: Sequence[str], custom: pd.DataFrame | None, grid: pd.DatetimeIndex) -> dict[str, list[tuple[int, int]]]:
    """Where each holiday's window days fall on a history ``grid`` (:func:`calendar` of ``regions``
    and ``custom`` rows over its years), remembered for the next series on the same grid.

    Holidays are modelled on daily and weekly series only, whose grids have a fixed step.
    """
    rows = None if custom is None else (tuple(custom.columns), tuple(custom.itertuples(index=False, name=None)))
    return _positions(tuple(regions), rows, grid[0].value, grid[-1].value, len(grid))


@functools.lru_cache(maxsize=16)
def _positions(regions: tuple[str, ...], rows: tuple | None, first: int, last: int, length: int) -> dict[str, list[tuple[int, int]]]:
    # The many series of one model usually share their grid; their calendar positions are computed once.
    custom = None if rows is None else pd.DataFrame(list(rows[1]), columns=list(rows[0]))
    step = (last - first) // max(length - 1, 1)
    grid = pd.DatetimeIndex((first + step * np.arange(length, dtype=np.int64)).astype("datetime64[ns]"))
    return holidays.holiday_positions(grid, calendar(regions, custom, grid[0], grid[-1]))


def window_effects(positions: dict[str, list[tuple[int, int]]], effects: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Each holiday's effect per day of its window, from its history component.

    The component at a grid point is the sum of the effects of the window days that fall on it
    (:func:`sqlml.ml.forecasting.holidays.holiday_effects`), so each day gets its share of the
    point and the median over occurrences; a day that never fell on the grid gets 0.

    Args:
        positions: where each holiday's window days fall on the history (:func:`history_positions`).
        effects: each holiday's component on the history's grid.
    """
    windows = {}
    for name, component in effects.items():
        pairs = positions.get(name, [])
        shares = Counter(slot for slot, _ in pairs)
        by_day: dict[int, list[float]] = {}
        for slot, offset in pairs:
            by_day.setdefault(offset, []).append(component[slot] / shares[slot])
        length = max(by_day, default=-1) + 1
        windows[name] = [float(np.median(by_day[day])) if day in by_day else 0.0 for day in range(length)]
    return windows


def future_positions(grid: pd.DatetimeIndex, days: pd.DataFrame) -> dict[str, list[tuple[int, int]]]:
    """Where each holiday's window days fall on the future ``grid`` (holidays far from it skipped).

    Args:
        grid: the forecast's timestamps.
        days: the calendar covering ``grid`` (:func:`spec_calendar`).
    """
    near = days["primary_date"].between(grid[0] - MARGIN, grid[-1] + MARGIN)
    return holidays.holiday_positions(grid, days[near]) if near.any() else {}


def project(windows: dict[str, list[float]], positions: dict[str, list[tuple[int, int]]], length: int) -> dict[str, np.ndarray]:
    """Each holiday's effect on the future grid, from its per-day effects.

    Args:
        windows: :func:`window_effects`' result, as the spec keeps it.
        positions: :func:`future_positions` on that grid.
        length: the grid's length.
    """
    projected = {}
    for name, effect in windows.items():
        component = np.zeros(length)
        for slot, offset in positions.get(name, []):
            if offset < len(effect):
                component[slot] += effect[offset]
        projected[name] = component
    return projected
