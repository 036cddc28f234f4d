"""The regression's part of an ARIMA_PLUS_XREG model's rows, per regressor and in total.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-explain-forecast —
an ARIMA_PLUS_XREG model adds one ``attribution_<regressor>`` column per external regressor
(weight × value) and ``time_series_data`` gains their sum. The model's stored history and
forecast are those of the regression's residual (:mod:`sqlml.ml.forecasting.regressors`); the
regression comes back here: its intercept into ``trend`` (so that the page's identities hold with
the attributions as the only extra terms), each regressor's attribution as its own column. In the
history the attributions are the training rows'; in the forecast, the future rows' given to the
call, matched by id and timestamp exactly as ML.FORECAST matches them. The history's total
(:func:`history_regression_total`) is what ML.DETECT_ANOMALIES and ML.EVALUATE add back to the
stored history to put it in data units.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sqlml.ml.forecasting import regressors
from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor


def attribution_column(name: str) -> str:
    """The ``attribution_<regressor>`` column of a regressor (its name as the training query wrote it)."""
    return f"attribution_{name}"


def history_regression(spec: dict, arrays: dict[str, np.ndarray], index: int, timestamps: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The intercept and each regressor's attribution over a series' history grid.

    Args:
        spec: the model's spec.
        arrays: the model's arrays.
        index: the series' position in ``spec["time_series"]["series"]``.
        timestamps: the history grid, int64 µs UTC.
    """
    return float(arrays["xreg.intercepts"][index]), regressors.history_attributions(spec, arrays, index, timestamps)


def history_regression_total(spec: dict, arrays: dict[str, np.ndarray], index: int, timestamps: np.ndarray) -> np.ndarray | float:
    """The regression part (weights · training regressors + intercept) over a series' history grid.

    An ARIMA_PLUS_XREG model's stored history is its regression's residual; adding this puts the
    history (and its fit) back in data units.

    Args:
        spec: the model's spec.
        arrays: the model's arrays.
        index: the series' position in ``spec["time_series"]["series"]``.
        timestamps: the history grid, int64 µs UTC.

    Returns:
        The part at each timestamp; 0.0 for a model without regressors.
    """
    if not regressors.has_regressors(spec):
        return 0.0
    intercept, parts = history_regression(spec, arrays, index, timestamps)
    return sum(parts.values(), np.zeros(len(timestamps))) + intercept


def future_regression(spec: dict, arrays: dict[str, np.ndarray], keys: pa.Table, future: pa.Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The intercept and each regressor's attribution at each forecast row.

    Each part is ML.FORECAST's regression (:func:`sqlml.ml.forecasting.regressors.add_regression`)
    with every weight but that regressor's set to zero, so rows are matched, and missing ones
    refused, by the same code as ML.FORECAST.

    Args:
        spec: the model's spec.
        arrays: the model's arrays.
        keys: the forecast rows: the id columns and ``forecast_timestamp``.
        future: the future regressors given to the call.

    Raises:
        InvalidModelInputError: a column is missing or mistyped, or a forecast row has no future row.
    """
    zeros = pa.array(np.zeros(keys.num_rows))
    base = keys
    for name in regressors.SHIFTED_COLUMNS:
        base = base.append_column(name, zeros)
    weights = arrays["xreg.weights"]
    groups = Preprocessor.from_state(spec["xreg"]["preprocessing"]).groups
    parts = {}
    for name, columns in groups.items():
        only = np.zeros_like(weights)
        only[:, columns] = weights[:, columns]
        alone = {**arrays, "xreg.weights": only, "xreg.intercepts": np.zeros_like(arrays["xreg.intercepts"])}
        parts[name] = regressors.add_regression(spec, alone, base, future).column("forecast_value").to_numpy()
    total = regressors.add_regression(spec, arrays, base, future).column("forecast_value").to_numpy()
    return total - sum(parts.values(), np.zeros(keys.num_rows)), parts
