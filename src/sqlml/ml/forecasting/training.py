"""CREATE MODEL … model_type='ARIMA_PLUS': every series read, prepared, fitted and stored as data.

Each series goes through :func:`sqlml.ml.forecasting.preparation.prepare` (BigQuery's pipeline:
frequency, duplicates, gaps, spikes and dips, step changes, holidays, seasonal decomposition),
then its trend (``PreparedSeries.adjusted``) gets an ARIMA model by
:func:`sqlml.ml.forecasting.fit.fit_trend`. A series that cannot be prepared or fitted is kept
with its reason (ML.ARIMA_EVALUATE's ``error_message``) and the others go on, as BigQuery skips
failing series; the statement fails only when no series is left, so a failed CREATE OR
REPLACE keeps the previous model.

What a forecast needs is stored, never the training rows: each fitted ARIMA's state
(:func:`sqlml.ml.forecasting.state.pack`), each seasonal component's last cycle (forecast by
repeating it, as statsforecast's MSTL forecasts its seasonal components), each holiday's effect
per day of its window (:mod:`sqlml.ml.forecasting.holiday_projection`), the frequency and the last
timestamp; with ``decompose_time_series=TRUE`` also the regular history and its components
(:mod:`sqlml.ml.forecasting.history`). With forecast limits the series is fitted on the
unbounded scale of :mod:`sqlml.ml.forecasting.limits`; with ``hierarchical_time_series_cols`` the
roll-up series are added to the training rows and fitted too (:mod:`sqlml.ml.forecasting.hierarchy`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError
from sqlml.ml.forecasting import holiday_projection, holidays
from sqlml.ml.forecasting.fit import fit_trend
from sqlml.ml.forecasting.hierarchy import add_rollups, hierarchy_columns
from sqlml.ml.forecasting.history import HistoryParts, pack_history
from sqlml.ml.forecasting.limits import Limits
from sqlml.ml.forecasting.parallel import map_series
from sqlml.ml.forecasting.preparation import PreparationOptions, PreparedSeries, prepare
from sqlml.ml.forecasting.series import RawSeries, series_columns, split_series
from sqlml.ml.forecasting.state import ArimaState, pack


@dataclass
class FittedSeries:
    """One series' outcome: its description for the spec and, when fitted, its state and
    seasonal cycles."""

    described: dict
    state: ArimaState | None = None
    cycles: list[np.ndarray] | None = None
    history: HistoryParts | None = None


def fit_table(options: dict, table: pa.Table, holidays_table: pa.Table | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The spec and arrays of an ARIMA_PLUS model fitted to ``table``'s series.

    Raises:
        InvalidOptionError: ``hierarchical_time_series_cols`` names a column that is not an id
            column, or comes with forecast limits.
        InvalidModelInputError: a column is missing or mistyped, or no series could be fitted
            (the first failure's reason is given).
    """
    started = time.monotonic()
    columns = series_columns(table, options)
    hierarchy = hierarchy_columns(options, columns)
    if hierarchy:
        table = add_rollups(table, columns, hierarchy)
    preparation = _preparation_options(options, holidays_table)
    fitted = map_series(partial(fit_one, options=options, preparation=preparation, single=not columns.ids), split_series(table, columns))
    ok = [item for item in fitted if item.state is not None]
    if not ok:
        first = fitted[0].described["error"] if fitted else "the training query returned no rows with a timestamp"
        raise InvalidModelInputError(f"No time series could be fitted: {first}", hint="Check the training query's rows.")
    described, arrays = pack([item.state for item in ok])
    for item, state_described in zip(ok, described):
        item.described["arima"] = state_described
    arrays["seasonal_cycles"] = np.concatenate([c for item in ok for c in item.cycles] or [np.empty(0)])
    arrays = {f"arima.{name}": value for name, value in arrays.items()}
    if options.get("decompose_time_series", True):
        kept, history_arrays = pack_history([item.history for item in ok], [list(item.described["holiday_windows"]) for item in ok])
        for item, where in zip(ok, kept):
            item.described["history"] = where
        arrays.update(history_arrays)
    spec = {
        "model_type": options["model_type"],
        "options": options,
        "time_series": {
            "timestamp_col": columns.timestamp,
            "data_col": columns.data,
            "id_cols": columns.ids,
            "id_types": [str(kind) for kind in columns.id_types],
            "holiday_regions": list(holidays.parse_regions(options.get("holiday_region"))),
            "custom_holidays": holiday_projection.spec_custom_holidays(holidays_table),
            "hierarchy": hierarchy,
            "series": [item.described for item in fitted],
        },
        "training_seconds": round(time.monotonic() - started, 3),  # ML.TRAINING_INFO's duration_ms
    }
    return spec, arrays


def _preparation_options(options: dict, custom: pa.Table | None) -> PreparationOptions:
    return PreparationOptions(
        data_frequency=options["data_frequency"],
        clean_spikes_and_dips=options["clean_spikes_and_dips"],
        adjust_step_changes=options["adjust_step_changes"],
        holiday_region=options["holiday_region"],
        custom_holidays=custom.to_pandas() if custom is not None else None,
        seasonalities=options["seasonalities"],
    )


def fit_one(raw: RawSeries, *, options: dict, preparation: PreparationOptions, single: bool) -> FittedSeries:
    """One series prepared and fitted; a failure is kept as its reason (raised for a single series)."""
    described = {"id": list(raw.key), "error": None, "history": None}
    try:
        prepared = prepare(raw.timestamps, _inside_limits(raw.values, Limits.from_options(options)), preparation)
    except InvalidModelInputError as error:
        if single:
            raise
        described["error"] = error.message
        return FittedSeries(described)
    trend = fit_trend(_trend_window(prepared.adjusted, options), options)
    if trend.best is None:
        if single:
            raise InvalidModelInputError(f"The time series could not be fitted: {trend.error}")
        described["error"] = trend.error
        return FittedSeries(described)
    described.update(
        frequency=prepared.frequency.value,
        first_timestamp=int(prepared.timestamps[0].value // 1000),
        last_timestamp=int(prepared.timestamps[-1].value // 1000),  # microseconds since the epoch, UTC
        seasonal_periods=dict(prepared.seasonal_periods),
        candidates=[_candidate(state) for state in trend.candidates],
        has_holiday_effect=bool(prepared.holiday_effect.any()),
        has_spikes_and_dips=bool(prepared.spikes_and_dips.any()),
        has_step_changes=bool(prepared.step_changes.any()),
        holiday_windows=_holiday_windows(prepared, preparation),
    )
    history = _history(prepared, trend.best) if options.get("decompose_time_series", True) else None
    trend.best.residuals = None  # kept in the history; the state needs none
    return FittedSeries(described, trend.best, _last_cycles(prepared), history)


def _inside_limits(values: np.ndarray, limits: Limits) -> np.ndarray:
    """The values on the limits' unbounded scale, points at or beyond a bound left out (NaN).

    Raises:
        InvalidModelInputError: every point with a value is at or beyond a bound.
    """
    scaled = limits.transform(values)
    if limits.active and not np.isfinite(scaled).any() and np.isfinite(values).any():
        raise InvalidModelInputError(
            f"Every value of the time series is at or beyond the forecast limits ({limits.describe()}); "
            "points at or beyond a bound are left out of training, so none is left to fit.",
            hint="Widen forecast_limit_lower_bound / forecast_limit_upper_bound, or leave the series out.",
        )
    return scaled


def _holiday_windows(prepared: PreparedSeries, preparation: PreparationOptions) -> dict[str, list[float]]:
    """Each modelled holiday's effect per day of its window (for forecasts)."""
    if not prepared.holiday_effects:
        return {}
    regions = holidays.parse_regions(preparation.holiday_region)
    positions = holiday_projection.history_positions(regions, preparation.custom_holidays, prepared.timestamps)
    return holiday_projection.window_effects(positions, prepared.holiday_effects)


def _history(prepared: PreparedSeries, state: ArimaState) -> HistoryParts:
    """The history to keep: the trend is the ARIMA's in-sample fit where it was fitted (the
    decomposition's trend before a ``time_series_length_fraction`` window)."""
    trend = prepared.trend.copy()
    fitted = slice(len(trend) - state.nobs, None)
    trend[fitted] = prepared.adjusted[fitted] - state.residuals
    return HistoryParts(
        start=int(prepared.timestamps[0].value // 1000), data=prepared.values, interpolated=prepared.interpolated,
        trend=trend, seasonal=dict(prepared.seasonal), holiday_effects=dict(prepared.holiday_effects),
        spikes_and_dips=prepared.spikes_and_dips, step_changes=prepared.step_changes,
    )  # fmt: skip


def _trend_window(values: np.ndarray, options: dict) -> np.ndarray:
    """The most recent points the trend is fitted on (``time_series_length_fraction`` with its
    floor ``min_time_series_length``, or ``max_time_series_length``; all points by default)."""
    if options.get("max_time_series_length"):
        return values[-options["max_time_series_length"] :]
    if options.get("time_series_length_fraction"):
        keep = max(options["min_time_series_length"], math.ceil(options["time_series_length_fraction"] * len(values)))
        return values[-keep:]
    return values


def _last_cycles(prepared: PreparedSeries) -> list[np.ndarray]:
    """Each seasonal component's last full period, in ``seasonal_periods`` order."""
    return [np.asarray(prepared.seasonal[name][-period:], dtype=np.float64) for name, period in prepared.seasonal_periods.items()]


def _candidate(state: ArimaState) -> dict:
    """A candidate model as ML.ARIMA_EVALUATE shows it."""
    p, d, q = state.order
    return {"non_seasonal_p": p, "non_seasonal_d": d, "non_seasonal_q": q, "has_drift": state.has_drift,
            "log_likelihood": state.log_likelihood, "aic": state.aic, "variance": state.sigma2}  # fmt: skip

