"""A stored forecasting model cut down to a few of its series, for work done one series at a time.

ML.EVALUATE and ML.DETECT_ANOMALIES of new data run per time series where the data is (Spark's
executors, :mod:`sqlml.ml.functions.distributed_forecasting`): each group of input rows needs the
model of its own series only. :meth:`SeriesSubsets.model_of` gives a spec and arrays holding just
those series — what the whole model would hold for them, re-indexed — so the one-process code
(:func:`~sqlml.ml.forecasting.forecast.forecast_table`, :func:`~sqlml.ml.forecasting.anomalies.detect_new`,
:func:`~sqlml.ml.forecasting.evaluation.evaluation_rows`) runs unchanged on it and gives the
whole model's numbers for them:

* the ARIMA states (``arima.coef``, ``Z``, ``a``, ``P``, ``T``, ``V``: one run per fitted series,
  :func:`~sqlml.ml.forecasting.state.pack`) and the seasonal cycles, sliced per series;
* the history arrays stay whole (each series' description holds its offsets into them);
* an ARIMA_PLUS_XREG model's per-series regression rows (weights, intercepts, training
  attributions), sliced and re-numbered;
* a roll-up of ``hierarchical_time_series_cols`` brings the leaves below it (its forecast is
  their sum, :mod:`sqlml.ml.forecasting.hierarchy`).

The offsets are computed once per model (a worker keeps the :class:`SeriesSubsets` of the models it
serves), so cutting out one series costs its own size, not the model's.
"""

from __future__ import annotations

import numpy as np

from sqlml.ml.forecasting.hierarchy import leaves
from sqlml.ml.forecasting.state import KALMAN

#: The arrays with one run of values per fitted series, in fitted order (without ``arima.``).
STATE_ARRAYS = ("coef", *KALMAN, "seasonal_cycles")
#: An ARIMA_PLUS_XREG model's arrays with one row per series (in the spec's order).
XREG_ROWS = ("xreg.weights", "xreg.intercepts")
#: Its arrays with one row per series and training timestamp, sorted by series.
XREG_HISTORY = ("xreg.history_series", "xreg.history_timestamps", "xreg.history_attributions")


class SeriesSubsets:
    """The series of a stored forecasting model, ready to be cut out a few at a time.

    Args:
        spec: the model's description.
        arrays: the model's arrays.
    """

    def __init__(self, spec: dict, arrays: dict[str, np.ndarray]) -> None:
        self.spec, self.arrays = spec, arrays
        series = spec["time_series"]["series"]
        self.positions = {tuple(item["id"]): index for index, item in enumerate(series)}
        self.spans: dict[int, dict[str, slice]] = {}
        at = dict.fromkeys(STATE_ARRAYS, 0)
        for index, item in enumerate(series):
            if item["error"] is None:
                self.spans[index] = {name: slice(at[name], at[name] + size) for name, size in _state_sizes(item).items()}
                at = {name: span.stop for name, span in self.spans[index].items()}
        hierarchy = spec["time_series"].get("hierarchy") or []
        id_cols = spec["time_series"]["id_cols"]
        self.below = leaves([item["id"] for item in series], [id_cols.index(name) for name in hierarchy]) if hierarchy else {}

    def model_of(self, keys: list[tuple]) -> tuple[dict, dict[str, np.ndarray]]:
        """The spec and arrays of the model cut down to the series with id values ``keys`` (and,
        for a roll-up, the leaves below it), in the model's order; keys it lacks are left out."""
        found = {self.positions[key] for key in keys if key in self.positions}
        chosen = sorted(found.union(*(self.below.get(index, ()) for index in found)))
        series = self.spec["time_series"]["series"]
        spec = {**self.spec, "time_series": {**self.spec["time_series"], "series": [series[index] for index in chosen]}}
        arrays = dict(self.arrays)
        fitted = [self.spans[index] for index in chosen if index in self.spans]
        for name in STATE_ARRAYS:
            whole = self.arrays[f"arima.{name}"]
            arrays[f"arima.{name}"] = np.concatenate([whole[spans[name]] for spans in fitted] or [whole[:0]])
        if "xreg.weights" in self.arrays:
            arrays.update(self._regression_of(chosen))
        return spec, arrays

    def _regression_of(self, chosen: list[int]) -> dict[str, np.ndarray]:
        """The regression arrays of the ``chosen`` series, numbered by their new positions."""
        arrays = {name: self.arrays[name][chosen] for name in XREG_ROWS}
        numbers = self.arrays["xreg.history_series"]
        rows = [np.arange(*np.searchsorted(numbers, [index, index + 1])) for index in chosen]
        taken = np.concatenate(rows or [np.empty(0, np.int64)])
        for name in XREG_HISTORY[1:]:
            arrays[name] = self.arrays[name][taken]
        arrays["xreg.history_series"] = np.repeat(np.arange(len(chosen), dtype=np.int64), [len(part) for part in rows])
        return arrays


def _state_sizes(item: dict) -> dict[str, int]:
    """How many values of each :data:`STATE_ARRAYS` array a fitted series holds (as
    :func:`~sqlml.ml.forecasting.state.pack` and training lay them out)."""
    dim = item["arima"]["dim"]
    sizes = {"coef": len(item["arima"]["coef_names"]), "Z": dim, "a": dim, "P": dim * dim, "T": dim * dim, "V": dim * dim}
    return sizes | {"seasonal_cycles": sum(item["seasonal_periods"].values())}
