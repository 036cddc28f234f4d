"""The ARIMA_PLUS_XREG family: ARIMA_PLUS with linear external regressors, one model per series.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-multivariate-time-series —
"an ARIMA_PLUS model with linear external regressors": every column of the training query other
than the timestamp, data and id columns is a regressor; the data column is regressed on them
(``l2_reg``) and the residual goes through ARIMA_PLUS's pipeline (``../shared/reference/bigquery-ml.md``
§1.15). Its options are a subset of ARIMA_PLUS's with the same defaults, plus ``l2_reg``; the rules
between them are ARIMA_PLUS's. ML.FORECAST then needs the regressors' future values
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.ml.models.arima_plus import ARIMA_PLUS_OPTIONS, ArimaPlusFamily
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, option, table
from sqlml.ml.models.options import Kind

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from sqlml.ml.models.options import Option

#: ARIMA_PLUS's options that ARIMA_PLUS_XREG takes too (the create-multivariate-time-series page's list).
SHARED_OPTIONS = ("time_series_timestamp_col", "time_series_data_col", "time_series_id_col", "horizon", "auto_arima",
                  "auto_arima_max_order", "auto_arima_min_order", "non_seasonal_order", "data_frequency",
                  "include_drift", "holiday_region", "clean_spikes_and_dips", "adjust_step_changes",
                  "time_series_length_fraction", "min_time_series_length", "max_time_series_length",
                  "trend_smoothing_window_size")  # fmt: skip

ARIMA_PLUS_XREG_OPTIONS = [
    *(declared for declared in ARIMA_PLUS_OPTIONS if declared.name in SHARED_OPTIONS),
    # The page gives no default; 0 (no penalty) as LINEAR_REG's l2_reg.
    option("l2_reg", Kind.FLOAT, 0.0, low=0),
]

#: ARIMA_PLUS's defaults for the options ARIMA_PLUS_XREG does not take: its pipeline runs with them.
ARIMA_PLUS_DEFAULTS = {declared.name: declared.default for declared in ARIMA_PLUS_OPTIONS}


def arima_options(options: dict) -> dict:
    """The options as ARIMA_PLUS's pipeline reads them: ARIMA_PLUS_XREG's, and ARIMA_PLUS's
    defaults for the ones it does not take (``seasonalities``, ``decompose_time_series``…)."""
    return {**ARIMA_PLUS_DEFAULTS, **options}


class ArimaPlusXregFamily(ArimaPlusFamily):
    """ARIMA_PLUS_XREG: ARIMA_PLUS's target, functions and option rules, its own option table
    and fit."""

    name = "arima_plus_xreg"
    model_types = (ModelType.ARIMA_PLUS_XREG,)

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common options, ARIMA_PLUS's shared ones and ``l2_reg``."""
        return table(COMMON, ARIMA_PLUS_XREG_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """ARIMA_PLUS's rules (the two column options, orders, lengths), on the options with
        ARIMA_PLUS's defaults for those ARIMA_PLUS_XREG does not take."""
        super().check_options(model_type, arima_options(options), given)

    def fit_series(self, model_type: str, options: dict, table: pa.Table, holidays: pa.Table | None) -> tuple[dict, dict[str, np.ndarray]]:
        """The regression on the regressors, then ARIMA_PLUS on each series' residual
        (:func:`sqlml.ml.forecasting.regressors.fit_with_regressors`)."""
        from sqlml.ml.forecasting.regressors import fit_with_regressors

        return fit_with_regressors(arima_options(options), table, holidays)
