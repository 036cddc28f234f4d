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
repeating it, as statsforecast's MSTL forecasts its seasonal components), the frequency and the
last timestamp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.forecasting.fit import fit_trend
from sqlml.ml.forecasting.parallel import map_series
from sqlml.ml.forecasting.preparation import PreparationOptions, PreparedSeries, prepare
from sqlml.ml.forecasting.series import RawSeries, series_columns, split_series
from sqlml.ml.forecasting.state import ArimaState, pack

#: Options accepted by CREATE MODEL whose effect is not implemented yet (issue 17's later parts).
NOT_YET = ("forecast_limit_lower_bound", "forecast_limit_upper_bound", "hierarchical_time_series_cols")


@dataclass
class FittedSeries:
    """One series' outcome: its description for the spec and, when fitted, its state and
    seasonal cycles."""

    described: dict
    state: ArimaState | None = None
    cycles: list[np.ndarray] | None = None


def fit_table(options: dict, table: pa.Table, holidays: pa.Table | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The spec and arrays of an ARIMA_PLUS model fitted to ``table``'s series.

    Raises:
        InvalidOptionError: an option this version cannot honour yet.
        InvalidModelInputError: a column is missing or mistyped, or no series could be fitted
            (the first failure's reason is given).
    """
    for name in NOT_YET:
        if options.get(name) is not None:
            raise InvalidOptionError(f"The option {name} is not supported by sqlml yet.", option=name,
                                     hint=f"Remove {name} from OPTIONS(…).")  # fmt: skip
    columns = series_columns(table, options)
    preparation = _preparation_options(options, holidays)
    fitted = map_series(partial(fit_one, options=options, preparation=preparation, single=not columns.ids), split_series(table, columns))
    ok = [item for item in fitted if item.state is not None]
    if not ok:
        first = fitted[0].described["error"] if fitted else "the training query returned no rows with a timestamp"
        raise InvalidModelInputError(f"No time series could be fitted: {first}", hint="Check the training query's rows.")
    described, arrays = pack([item.state for item in ok])
    for item, state_described in zip(ok, described):
        item.described["arima"] = state_described
    arrays["seasonal_cycles"] = np.concatenate([c for item in ok for c in item.cycles] or [np.empty(0)])
    spec = {
        "model_type": options["model_type"],
        "options": options,
        "time_series": {
            "timestamp_col": columns.timestamp,
            "data_col": columns.data,
            "id_cols": columns.ids,
            "id_types": [str(kind) for kind in columns.id_types],
            "series": [item.described for item in fitted],
        },
    }
    return spec, {f"arima.{name}": value for name, value in arrays.items()}


def _preparation_options(options: dict, holidays: pa.Table | None) -> PreparationOptions:
    return PreparationOptions(
        data_frequency=options["data_frequency"],
        clean_spikes_and_dips=options["clean_spikes_and_dips"],
        adjust_step_changes=options["adjust_step_changes"],
        holiday_region=options["holiday_region"],
        custom_holidays=holidays.to_pandas() if holidays is not None else None,
        seasonalities=options["seasonalities"],
    )


def fit_one(raw: RawSeries, *, options: dict, preparation: PreparationOptions, single: bool) -> FittedSeries:
    """One series prepared and fitted; a failure is kept as its reason (raised for a single series)."""
    described = {"id": list(raw.key), "error": None}
    try:
        prepared = prepare(raw.timestamps, raw.values, preparation)
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
        last_timestamp=int(prepared.timestamps[-1].value // 1000),  # microseconds since the epoch, UTC
        seasonal_periods=dict(prepared.seasonal_periods),
        candidates=[_candidate(state) for state in trend.candidates],
    )
    return FittedSeries(described, trend.best, _last_cycles(prepared))


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

