"""Spikes and dips, and step changes, found in a regular series and returned as components.

BigQuery cleans spikes and dips (``clean_spikes_and_dips``) and detects and adjusts abrupt step
changes (``adjust_step_changes``) before it models seasonality and trend; ML.EXPLAIN_FORECAST shows
both as the ``spikes_and_dips`` and ``step_changes`` columns
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#time_series_modeling_pipeline).
BigQuery does not publish its detectors; these are robust, standard ones (MAD-scaled deviations
from a robust fit; a windowed difference of medians), each returning the component to subtract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A point is a spike or dip when it is this many robust standard deviations (1.4826 × MAD) off
#: the robust fit. 6 keeps ordinary heavy-tailed noise (a Gaussian's 6σ is one point in 5·10⁸).
SPIKE_THRESHOLD = 6.0

#: A step is kept when the difference of medians across it is this many of its own robust standard
#: deviations above the local baseline — and at least this many noise standard deviations tall.
STEP_THRESHOLD = 8.0
MIN_STEP_NOISE_SIGMAS = 3.0


def robust_scale(values: np.ndarray) -> float:
    """1.4826 × the median absolute deviation: the standard deviation of Gaussian noise, robustly."""
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


def noise_scale(deviation: np.ndarray) -> float:
    """The noise's standard deviation from successive differences (1.4826 × their MAD / √2).

    A robust fit hugs the bulk of the points (its robustness weights leave the tails to the
    residual), so the MAD of the deviations alone came out 0.63–0.80 of unit Gaussian noise and
    ordinary 4–5σ points passed :data:`SPIKE_THRESHOLD` (a fifth of 400-day weekly series of pure
    noise had a "spike"). Differences undo the fit's pull on neighbouring points; a spike moves two.
    """
    return robust_scale(np.diff(deviation)) / np.sqrt(2.0) if len(deviation) > 1 else 0.0


def spikes_and_dips(values: np.ndarray, fit: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """The spikes-and-dips component: each outlier's excess over ``fit``, zero elsewhere.

    Args:
        values: the regular series.
        fit: a robust fit of it (trend + seasonality + holidays) that outliers do not pull.
        keep: points never called outliers (holiday windows, whose effect is modelled instead).

    Returns:
        An array to subtract from ``values``: the outlying points come back onto ``fit``.
    """
    deviation = values - fit
    centre = float(np.median(deviation))
    scale = max(robust_scale(deviation), noise_scale(deviation))
    if scale == 0.0:
        return np.zeros_like(values)
    outlying = np.abs(deviation - centre) > SPIKE_THRESHOLD * scale
    if keep is not None:
        outlying &= ~keep
    return np.where(outlying, deviation - centre, 0.0)


def step_window(length: int) -> int:
    """The points on each side of a candidate step: a tenth of the series, between 5 and 30."""
    return int(min(30, max(5, length // 10)))


def step_changes(level: np.ndarray) -> np.ndarray:
    """The step-change component of a deseasonalised, despiked series.

    At each point the median of the next ``w`` points minus the median of the previous ``w``
    (w from :func:`step_window`) is compared with its own rolling median over ``6w`` points, which
    follows a trend's slope but not a step (a step moves the difference for fewer than ``2w``
    points). Each run of points above the threshold marks one step, at its largest difference.

    Returns:
        Per point, the total of the steps still to come, negated: zero over the last level, so
        subtracting it moves the history onto the series' current level, which forecasts continue.
    """
    n = len(level)
    w = step_window(n)
    if n < 4 * w:
        return np.zeros(n)
    diff = _median_difference(level, w)
    baseline = pd.Series(diff).rolling(6 * w, center=True, min_periods=1).median().to_numpy()
    excess = np.nan_to_num(diff - baseline)
    noise = noise_scale(level)
    spread = max(robust_scale(excess[w : n - w + 1]), noise * np.sqrt(np.pi / (2 * w)))
    floor = max(STEP_THRESHOLD * spread, MIN_STEP_NOISE_SIGMAS * noise)
    if floor == 0.0:
        return np.zeros(n)
    component = np.zeros(n)
    for start, stop in _runs(np.abs(excess) > floor):
        at = _best_split(level, max(start - w, 0), min(stop + w, n), start, stop)
        component[:at] -= excess[at]
    return component


def _median_difference(level: np.ndarray, w: int) -> np.ndarray:
    # diff[t] = median(level[t:t+w]) - median(level[t-w:t]); NaN where a window does not fit.
    medians = pd.Series(level).rolling(w).median().to_numpy()  # medians[i] = median(level[i-w+1 : i+1])
    diff = np.full(len(level), np.nan)
    t = np.arange(w, len(level) - w + 1)
    diff[t] = medians[t + w - 1] - medians[t - 1]
    return diff


def _best_split(level: np.ndarray, lo: int, hi: int, start: int, stop: int) -> int:
    # The t in [start, stop) where two constants fit level[lo:hi] best (least squares): the step.
    costs = [np.var(level[lo:t]) * (t - lo) + np.var(level[t:hi]) * (hi - t) for t in range(max(start, lo + 1), stop)]
    return max(start, lo + 1) + int(np.argmin(costs)) if costs else start


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    # The [start, stop) bounds of each run of True.
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
