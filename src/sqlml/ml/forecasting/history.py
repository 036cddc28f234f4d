"""The fitted series' history as data: written at CREATE MODEL, read by the ML.* functions.

ML.EXPLAIN_FORECAST's history rows and ML.DETECT_ANOMALIES without input data
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast,
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies)
need each series' regular history and its components. A model trained with
``decompose_time_series=TRUE`` (the default) keeps them; with FALSE it keeps none.

**Reading (the contract other modules use).** :func:`has_history` says whether a model kept its
history; :func:`series_history` gives series ``index`` of ``spec["time_series"]["series"]`` (a
fitted one: ``error`` is None) as a :class:`SeriesHistory` of NumPy arrays in the data's units,
on the regular grid, oldest first, with ``data == trend + Σ seasonal + holiday_effect +
spikes_and_dips + step_changes + residual`` point by point and ``holiday_effect == Σ
holiday_effects``. ``trend`` is the trend model's in-sample one-step-ahead fit (its centred moving
average when ``trend_smoothing_window_size`` is set, the residual taking the difference);
``fitted`` is the model's one-step-ahead prediction of ``data`` (trend fit + seasonal + holiday
effect + step changes: no spike, no residual) and :meth:`SeriesHistory.interval` its prediction
interval, for anomaly detection. Do not read the arrays below directly: their layout may change.

**Storage.** Everything of all series is concatenated into a few flat arrays (thousands of series
stay a handful of ``.npz`` members); each series' description (``spec["time_series"]["series"][i]``)
locates its part under ``"history"``::

    {"offset": o, "length": n, "start": <first timestamp, µs UTC>,
     "seasonal": {"WEEKLY": offset, …}, "runs": [offset, count], "holidays": [offset, count]}

Dense, ``[o, o + n)``: ``arima.history.data`` (the regular series: duplicates averaged, gaps
interpolated), ``arima.history.interpolated`` (bool), ``arima.history.trend`` (unsmoothed).
Per modelled period, ``[offset, offset + n)`` of ``arima.history.seasonal``. Spikes and dips, then
step changes, as runs of equal values (``arima.history.runs.start`` — position in the series —
and ``arima.history.runs.value``; the runs of one component start at position 0). Each holiday's
non-zero effects as ``arima.history.holiday.position`` / ``.holiday`` (index into the series'
``holiday_windows`` keys) / ``.value``. The timestamps follow from ``start``, ``length`` and the
series' ``frequency``; the residual from the identity. A model with forecast limits keeps all this
on its unbounded scale (:mod:`sqlml.ml.forecasting.limits`); the reader maps it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqlml.ml.forecasting.frequency import DataFrequency, grid_points
from sqlml.ml.forecasting.limits import Limits

#: The prefix of the history arrays among the model's arrays.
PREFIX = "arima.history."

#: The frequencies whose step is a fixed number of microseconds.
FIXED_STEPS = {DataFrequency.PER_MINUTE: 60_000_000, DataFrequency.HOURLY: 3_600_000_000,
               DataFrequency.DAILY: 86_400_000_000, DataFrequency.WEEKLY: 604_800_000_000}  # fmt: skip


@dataclass
class Components:
    """The parts of one series' history every form shares, oldest first.

    Attributes:
        data: the series on its regular grid (duplicates averaged, gaps interpolated).
        interpolated: True where no training row had that timestamp.
        trend: the trend (see the module docstring).
        seasonal: each modelled seasonal period's component, by BigQuery's name (``"WEEKLY"``…).
        holiday_effects: each modelled holiday's effect, by holiday name.
        spikes_and_dips: the spikes and dips taken out.
        step_changes: the step changes taken out (zero over the latest level).
    """

    data: np.ndarray
    interpolated: np.ndarray
    trend: np.ndarray
    seasonal: dict[str, np.ndarray]
    holiday_effects: dict[str, np.ndarray]
    spikes_and_dips: np.ndarray
    step_changes: np.ndarray


@dataclass
class HistoryParts(Components):
    """What training keeps of one series' history, on the modelling scale, the trend unsmoothed
    (written by :func:`pack_history`).

    Attributes:
        start: the first timestamp, µs UTC.
    """

    start: int = 0


@dataclass
class SeriesHistory(Components):
    """One series' history as :func:`series_history` reads it, in the data's units.

    Attributes:
        timestamps: the regular grid, int64 microseconds since the epoch, UTC.
        holiday_effect: the sum of ``holiday_effects`` (zeros without holidays).
        residual: what is left.
        fitted: the model's one-step-ahead prediction of ``data``.
        sigma: the trend model's residual standard deviation (on the modelling scale).
        limits: the model's forecast limits.
        scaled_fitted: ``fitted`` on the modelling scale (``fitted`` itself without limits).
    """

    timestamps: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    holiday_effect: np.ndarray = field(default_factory=lambda: np.empty(0))
    residual: np.ndarray = field(default_factory=lambda: np.empty(0))
    fitted: np.ndarray = field(default_factory=lambda: np.empty(0))
    sigma: float = 0.0
    limits: Limits = field(default_factory=Limits)
    scaled_fitted: np.ndarray | None = None

    @property
    def adjusted(self) -> np.ndarray:
        """``trend + Σ seasonal + holiday_effect``: ML.EXPLAIN_FORECAST's ``time_series_adjusted_data``."""
        return self.trend + sum(self.seasonal.values(), np.zeros(len(self.data))) + self.holiday_effect

    def interval(self, z: float) -> tuple[np.ndarray, np.ndarray]:
        """The prediction interval ``fitted ± z·sigma`` (mapped back inside the limits, if any).

        Args:
            z: the normal quantile of the confidence level (``scipy.stats.norm.ppf(0.5 + level / 2)``).
        """
        return self.limits.inverse(self.scaled_fitted - z * self.sigma), self.limits.inverse(self.scaled_fitted + z * self.sigma)

    def standard_error(self) -> np.ndarray:
        """``sigma`` per point in the data's units (delta method under forecast limits)."""
        return self.sigma * self.limits.slope(self.scaled_fitted)


def has_history(spec: dict) -> bool:
    """The model kept its series' history (it was trained with ``decompose_time_series=TRUE``)."""
    return all(item.get("history") is not None for item in spec["time_series"]["series"] if item["error"] is None)


def pack_history(parts: list[HistoryParts], holiday_names: list[list[str]]) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Many series' histories as their ``"history"`` descriptions and the flat ``arima.history.*`` arrays.

    Args:
        parts: one per fitted series.
        holiday_names: per series, its holiday names in the order of its ``holiday_windows``.
    """
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAYS}
    totals = dict.fromkeys(_ARRAYS, 0)
    described = []
    for part, names in zip(parts, holiday_names):
        encoded, n = _encode(part, names), len(part.data)
        described.append({
            "offset": totals["data"], "length": n, "start": part.start,
            "seasonal": {name: totals["seasonal"] + k * n for k, name in enumerate(part.seasonal)},
            "runs": [totals["runs.start"], len(encoded["runs.start"])],
            "holidays": [totals["holiday.value"], len(encoded["holiday.value"])],
        })  # fmt: skip
        for name, value in encoded.items():
            chunks[name].append(value)
            totals[name] += len(value)
    arrays = {PREFIX + name: np.concatenate(chunks[name] or [np.empty(0)]).astype(kind) for name, kind in _ARRAYS.items()}
    return described, arrays


def series_history(spec: dict, arrays: dict[str, np.ndarray], index: int) -> SeriesHistory:
    """Series ``index`` of ``spec["time_series"]["series"]`` as a :class:`SeriesHistory`.

    Args:
        spec: the model's spec.
        arrays: the model's arrays (with their ``arima.`` names).
        index: a fitted series' position in ``spec["time_series"]["series"]``.

    Raises:
        ValueError: that series has no stored history (failed, or ``decompose_time_series=FALSE``).
    """
    item = spec["time_series"]["series"][index]
    where = item.get("history") if item["error"] is None else None
    if where is None:
        raise ValueError(f"series {index} of the model has no stored history")
    o, n = where["offset"], where["length"]
    data = arrays[PREFIX + "data"][o : o + n]
    trend = arrays[PREFIX + "trend"][o : o + n]
    seasonal = {name: arrays[PREFIX + "seasonal"][at : at + n] for name, at in where["seasonal"].items()}
    spikes, steps = _runs(arrays, where["runs"], n)
    holidays = _holidays(arrays, where["holidays"], list(item.get("holiday_windows", {})), n)
    limits = Limits.from_options(spec["options"])
    residual = data - trend - sum(seasonal.values(), np.zeros(n)) - sum(holidays.values(), np.zeros(n)) - spikes - steps
    scaled_fitted = data - spikes - residual
    trend, *rest = limits.attribute([trend, *seasonal.values(), *holidays.values(), spikes, steps, residual])
    seasonal = dict(zip(seasonal, rest[: len(seasonal)]))
    holidays = dict(zip(holidays, rest[len(seasonal) : len(seasonal) + len(holidays)]))
    spikes, steps, residual = rest[-3:]
    smoothed = smooth_trend(trend, spec["options"].get("trend_smoothing_window_size"))
    return SeriesHistory(
        timestamps=grid_timestamps(where["start"], n, DataFrequency(item["frequency"])), data=limits.inverse(data), interpolated=arrays[PREFIX + "interpolated"][o : o + n],
        trend=smoothed, seasonal=seasonal, holiday_effects=holidays, holiday_effect=sum(holidays.values(), np.zeros(n)),
        spikes_and_dips=spikes, step_changes=steps, residual=residual + trend - smoothed, fitted=limits.inverse(scaled_fitted),
        sigma=float(np.sqrt(item["arima"]["sigma2"])), limits=limits, scaled_fitted=scaled_fitted,
    )  # fmt: skip


def grid_timestamps(start: int, length: int, frequency: DataFrequency) -> np.ndarray:
    """``length`` steps of ``frequency`` from ``start``, int64 µs UTC (the series' regular grid).

    Fixed steps (minutes to weeks) are plain arithmetic; calendar steps (months, quarters, years)
    are counted from ``start`` by :func:`~sqlml.ml.forecasting.frequency.grid_points`, so month
    ends stay month ends.
    """
    if frequency in FIXED_STEPS:
        return start + FIXED_STEPS[frequency] * np.arange(length, dtype=np.int64)
    return grid_points(pd.Timestamp(start, unit="us"), length, frequency).as_unit("us").asi8


def smooth_trend(trend: np.ndarray, window: int | None) -> np.ndarray:
    """The centred moving average of ``trend`` over ``window`` points (unchanged when None or 1).

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#trend_smoothing_window_size
    — "When the smoothing window is out of the boundary at the beginning or the end of the
    trend, the first element or the last element is padded to fill the smoothing window before
    the average is applied." An even window takes one point more before than after.
    """
    if not window or window <= 1 or len(trend) == 0:
        return trend
    before, after = window // 2, (window - 1) // 2
    padded = np.concatenate([np.full(before, trend[0]), trend, np.full(after, trend[-1])])
    sums = np.cumsum(np.concatenate([[0.0], padded]))
    return (sums[window:] - sums[:-window]) / window


#: The flat arrays and their dtypes (names after ``arima.history.``).
_ARRAYS = {
    "data": np.float64, "interpolated": np.bool_, "trend": np.float64, "seasonal": np.float64,
    "runs.start": np.int32, "runs.value": np.float64,
    "holiday.position": np.int32, "holiday.holiday": np.int16, "holiday.value": np.float64,
}  # fmt: skip


def _encode(part: HistoryParts, names: list[str]) -> dict[str, np.ndarray]:
    # One series' share of each flat array: dense parts, runs of the outlier components, holidays.
    encoded = {"data": part.data, "interpolated": part.interpolated, "trend": part.trend,
               "seasonal": np.concatenate([*part.seasonal.values(), np.empty(0)])}  # fmt: skip
    runs = [np.flatnonzero(np.diff(c, prepend=np.nan) != 0) for c in (part.spikes_and_dips, part.step_changes)]
    encoded["runs.start"] = np.concatenate(runs)
    encoded["runs.value"] = np.concatenate([part.spikes_and_dips[runs[0]], part.step_changes[runs[1]]])
    at = [np.flatnonzero(part.holiday_effects[name]) for name in names]
    encoded["holiday.position"] = np.concatenate([*at, np.empty(0, np.int32)])
    encoded["holiday.holiday"] = np.concatenate([np.full(len(a), k) for k, a in enumerate(at)] or [np.empty(0)])
    encoded["holiday.value"] = np.concatenate([part.holiday_effects[name][a] for name, a in zip(names, at)] or [np.empty(0)])
    return encoded


def _runs(arrays: dict[str, np.ndarray], where: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    # Spikes and dips, then step changes, back from their runs (each component's runs start at 0).
    starts = arrays[PREFIX + "runs.start"][where[0] : where[0] + where[1]]
    values = arrays[PREFIX + "runs.value"][where[0] : where[0] + where[1]]
    split = int(np.flatnonzero(starts == 0)[1])
    return tuple(np.repeat(v, np.diff(np.append(s, n))) for s, v in ((starts[:split], values[:split]), (starts[split:], values[split:])))


def _holidays(arrays: dict[str, np.ndarray], where: list[int], names: list[str], n: int) -> dict[str, np.ndarray]:
    # Each holiday's component back from its non-zero points.
    span = slice(where[0], where[0] + where[1])
    positions, holiday, values = (arrays[PREFIX + name][span] for name in ("holiday.position", "holiday.holiday", "holiday.value"))
    effects = {}
    for k, name in enumerate(names):
        effects[name] = np.zeros(n)
        effects[name][positions[holiday == k]] = values[holiday == k]
    return effects
