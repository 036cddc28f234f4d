"""The ARIMA_PLUS family: BigQuery ML's univariate time-series model, one model per series.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series —
options, defaults and ranges (``../shared/reference/bigquery-ml.md`` §1.14); ML.FORECAST
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast)
returns each series' forecasts with their prediction intervals. The rows are read as series
(:mod:`sqlml.ml.forecasting.training`), prepared BigQuery's way and fitted by statsforecast;
the model keeps no estimator, only the fitted states as arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.models.base import ModelFamily, Source, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, option, table
from sqlml.ml.models.options import Kind

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from sqlml.ml.models.options import Option

#: BigQuery's data frequencies (AUTO_FREQUENCY infers one per series).
FREQUENCIES = ("AUTO_FREQUENCY", "PER_MINUTE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY")
#: The values of ``seasonalities``; AUTO and NO_SEASONALITY must stand alone.
SEASONALITIES = ("AUTO", "NO_SEASONALITY", "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY")
#: The ML.* functions that take a forecasting model (reference §4.0).
FORECASTING_FUNCTIONS = ("FORECAST", "EXPLAIN_FORECAST", "DETECT_ANOMALIES", "EVALUATE", "ARIMA_EVALUATE",
                         "ARIMA_COEFFICIENTS", "HOLIDAY_INFO", "TRAINING_INFO")  # fmt: skip
#: The largest ``horizon`` (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#horizon).
MAX_HORIZON = 10_000

ARIMA_PLUS_OPTIONS = [
    option("time_series_timestamp_col", Kind.STRING),
    option("time_series_data_col", Kind.STRING),
    option("time_series_id_col", Kind.STRING_OR_ARRAY),
    option("horizon", Kind.INT, 1000, low=1, high=MAX_HORIZON),
    option("auto_arima", Kind.BOOL, True),
    # the current page's default; models made before 2023 used 5
    option("auto_arima_max_order", Kind.INT, 2, low=1, high=5),
    option("auto_arima_min_order", Kind.INT, 0, low=0, high=4),
    option("non_seasonal_order", Kind.INT_TUPLE),
    option("data_frequency", Kind.ENUM, "AUTO_FREQUENCY", choices=FREQUENCIES),
    option("include_drift", Kind.BOOL, False),
    option("holiday_region", Kind.STRING_OR_ARRAY),
    option("clean_spikes_and_dips", Kind.BOOL, True),
    option("adjust_step_changes", Kind.BOOL, True),
    option("time_series_length_fraction", Kind.FLOAT, low=0, high=1, low_open=True, high_open=True),
    option("min_time_series_length", Kind.INT, 20, low=4),
    option("max_time_series_length", Kind.INT, low=4),
    option("trend_smoothing_window_size", Kind.INT, low=1),
    option("decompose_time_series", Kind.BOOL, True),
    option("forecast_limit_lower_bound", Kind.FLOAT),
    option("forecast_limit_upper_bound", Kind.FLOAT),
    option("seasonalities", Kind.STRING_ARRAY, ["AUTO"]),
    option("hierarchical_time_series_cols", Kind.STRING_ARRAY),
]


class ArimaPlusFamily(ModelFamily):
    """ARIMA_PLUS."""

    name = "arima_plus"
    model_types = (ModelType.ARIMA_PLUS,)
    source = Source.SERIES
    reports_eval_loss = False

    def target(self, model_type: str) -> Target:
        """Forecasting."""
        return Target.FORECASTING

    def functions(self, model_type: str) -> frozenset[str]:
        """The forecasting functions (https://cloud.google.com/bigquery/docs/e2e-journey-forecast)."""
        return frozenset(FORECASTING_FUNCTIONS)

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common options, then ARIMA_PLUS's own (no tuning: BigQuery tunes ARIMA by auto.ARIMA)."""
        return table(COMMON, ARIMA_PLUS_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """The rules between ARIMA_PLUS's options that the create-time-series page states (and
        the create-multivariate-time-series page, for ARIMA_PLUS_XREG, which shares them)."""
        for name in ("time_series_timestamp_col", "time_series_data_col"):
            if not options[name]:
                raise InvalidOptionError(
                    f"model_type='{str(model_type).upper()}' needs the option {name}.",
                    option=name,
                    hint=f"Name the training query's {'timestamp' if 'timestamp' in name else 'value'} column: {name}='…'.",
                )
        _check_orders(options, given)
        _check_lengths(options, given)
        _check_limits_and_seasonalities(options)

    def fit_series(self, model_type: str, options: dict, table: pa.Table, holidays: pa.Table | None) -> tuple[dict, dict[str, np.ndarray]]:
        """Each series read, prepared and fitted (:func:`sqlml.ml.forecasting.training.fit_table`)."""
        from sqlml.ml.forecasting.training import fit_table

        return fit_table(options, table, holidays)


def _check_orders(options: dict, given: set[str]) -> None:
    """auto.ARIMA's options against a fixed order (the page's "requires AUTO_ARIMA=…" rules)."""
    if options["auto_arima"]:
        if "non_seasonal_order" in given:
            raise InvalidOptionError("non_seasonal_order requires auto_arima=FALSE.", option="non_seasonal_order",
                                     hint="Set auto_arima=FALSE to fit the given order, or drop non_seasonal_order.")  # fmt: skip
        if "include_drift" in given:
            raise InvalidOptionError("include_drift requires auto_arima=FALSE (auto.ARIMA decides the drift itself).", option="include_drift",
                                     hint="Drop include_drift, or set auto_arima=FALSE with non_seasonal_order=(p, 1, q).")  # fmt: skip
        if options["auto_arima_min_order"] >= options["auto_arima_max_order"]:
            raise InvalidOptionError(
                f"auto_arima_min_order ({options['auto_arima_min_order']}) must be less than "
                f"auto_arima_max_order ({options['auto_arima_max_order']}).",
                option="auto_arima_min_order",
                hint="Lower auto_arima_min_order or raise auto_arima_max_order (at most 5).",
            )
        return
    if options["time_series_id_col"]:
        raise InvalidOptionError("auto_arima must be TRUE when time_series_id_col is set (each series gets its own orders).",
                                 option="auto_arima", hint="Drop auto_arima=FALSE and non_seasonal_order, or train one model per series.")  # fmt: skip
    for name in ("auto_arima_max_order", "auto_arima_min_order"):
        if name in given:
            raise InvalidOptionError(f"{name} requires auto_arima=TRUE.", option=name, hint=f"Drop {name}, or drop auto_arima=FALSE and non_seasonal_order.")
    order = options["non_seasonal_order"]
    if order is None:
        raise InvalidOptionError("auto_arima=FALSE needs non_seasonal_order=(p, d, q).", option="non_seasonal_order",
                                 hint="Add e.g. non_seasonal_order=(1, 1, 1), or drop auto_arima=FALSE to let auto.ARIMA choose.")  # fmt: skip
    if len(order) != 3 or not (0 <= order[0] <= 5 and 0 <= order[1] <= 2 and 0 <= order[2] <= 5):
        raise InvalidOptionError(
            f"non_seasonal_order must be (p, d, q) with p and q in [0, 5] and d in [0, 2]. Got {order} instead.",
            option="non_seasonal_order",
            hint="Write three integers, e.g. non_seasonal_order=(1, 1, 1).",
        )
    if options["include_drift"] and order[1] != 1:
        raise InvalidOptionError(f"include_drift=TRUE needs d = 1 in non_seasonal_order; got d = {order[1]}.", option="include_drift",
                                 hint=f"Set non_seasonal_order=({order[0]}, 1, {order[2]}), or drop include_drift.")  # fmt: skip


def _check_lengths(options: dict, given: set[str]) -> None:
    """``max_time_series_length`` excludes the fraction pair; ``min_…`` needs the fraction."""
    if "max_time_series_length" in given and ({"time_series_length_fraction", "min_time_series_length"} & given):
        raise InvalidOptionError(
            "max_time_series_length cannot be combined with time_series_length_fraction or min_time_series_length.",
            option="max_time_series_length",
            hint="Keep either max_time_series_length or time_series_length_fraction (with min_time_series_length).",
        )
    if "min_time_series_length" in given and "time_series_length_fraction" not in given:
        raise InvalidOptionError("min_time_series_length requires time_series_length_fraction.", option="min_time_series_length",
                                 hint="Add time_series_length_fraction (in (0, 1)), or drop min_time_series_length.")  # fmt: skip


def _check_limits_and_seasonalities(options: dict) -> None:
    lower, upper = options["forecast_limit_lower_bound"], options["forecast_limit_upper_bound"]
    if lower is not None and upper is not None and lower >= upper:
        raise InvalidOptionError(
            f"forecast_limit_lower_bound ({lower}) must be less than forecast_limit_upper_bound ({upper}).",
            option="forecast_limit_lower_bound",
            hint="Swap the two bounds, or drop one of them.",
        )
    seasonalities = [value.upper() for value in options["seasonalities"]]
    unknown = [value for value in seasonalities if value not in SEASONALITIES]
    if unknown or not seasonalities:
        raise InvalidOptionError(
            f"seasonalities takes {', '.join(SEASONALITIES)}. Got {options['seasonalities']} instead.", option="seasonalities"
        )
    if len(seasonalities) > 1 and {"AUTO", "NO_SEASONALITY"} & set(seasonalities):
        raise InvalidOptionError("seasonalities: AUTO and NO_SEASONALITY must stand alone.", option="seasonalities")
