"""ML.ARIMA_EVALUATE, ML.ARIMA_COEFFICIENTS and ML.HOLIDAY_INFO: what a forecasting model fitted.

Each reads the model's ``time_series`` description (:mod:`sqlml.ml.forecasting.training`) and
its stored ARIMA states; nothing is refitted. The tables are built by public functions
(:func:`evaluation_table`, :func:`coefficients_table`, :func:`holiday_table`) so that every
family stored the same way (ARIMA_PLUS, ARIMA_PLUS_XREG) answers with the same columns:

- https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-arima-evaluate
- https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-arima-coefficients
- https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-holiday-info

The id columns come first with their training names and types; series are sorted by id
ascending, NULL first (BigQuery's ORDER BY … ASC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.model import arrow_type_from_string

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from sqlml.ml.forecasting.state import ArimaState

#: The models these functions take, for :meth:`Call.require`'s message.
FORECASTING_MODELS = "an ARIMA_PLUS or ARIMA_PLUS_XREG model"

#: ML.ARIMA_EVALUATE's columns after the id columns (``AIC`` is upper-case on the page).
EVALUATE_SCHEMA = pa.schema([
    ("non_seasonal_p", pa.int64()), ("non_seasonal_d", pa.int64()), ("non_seasonal_q", pa.int64()),
    ("has_drift", pa.bool_()), ("log_likelihood", pa.float64()), ("AIC", pa.float64()), ("variance", pa.float64()),
    ("seasonal_periods", pa.list_(pa.string())), ("has_holiday_effect", pa.bool_()),
    ("has_spikes_and_dips", pa.bool_()), ("has_step_changes", pa.bool_()), ("error_message", pa.string()),
])  # fmt: skip

#: ML.ARIMA_COEFFICIENTS' columns after the id columns.
COEFFICIENTS_SCHEMA = pa.schema([
    ("ar_coefficients", pa.list_(pa.float64())), ("ma_coefficients", pa.list_(pa.float64())),
    ("intercept_or_drift", pa.float64()),
])  # fmt: skip

#: The columns ML.ARIMA_COEFFICIENTS adds for external regressors (ML.WEIGHTS' columns).
WEIGHT_SCHEMA = pa.schema([
    ("processed_input", pa.string()), ("weight", pa.float64()),
    ("category_weights", pa.list_(pa.struct([("category", pa.string()), ("weight", pa.float64())]))),
])  # fmt: skip

#: ML.HOLIDAY_INFO's columns.
HOLIDAY_SCHEMA = pa.schema([
    ("region", pa.string()), ("holiday_name", pa.string()), ("primary_date", pa.date32()),
    ("preholiday_days", pa.int64()), ("postholiday_days", pa.int64()),
])  # fmt: skip

#: The per-series decomposition flags ML.ARIMA_EVALUATE reports: "If true, <component> is a part of
#: time series decomposition result" (the API's ArimaSingleModelForecastingMetrics,
#: https://cloud.google.com/bigquery/docs/reference/rest/v2/models), so NULL when the model was
#: trained with decompose_time_series=FALSE (``../shared/reference/bigquery-ml.md`` §4.18).
FLAGS = ("has_holiday_effect", "has_spikes_and_dips", "has_step_changes")

#: ``seasonal_periods`` of a series without seasonality.
NO_SEASONALITY = "NO_SEASONALITY"


@function("ARIMA_EVALUATE")
def arima_evaluate(call: Call) -> pa.Table:
    """``ML.ARIMA_EVALUATE(MODEL m [, STRUCT(show_all_candidate_models)])``.

    ``show_all_candidate_models`` defaults to TRUE for a single-series model and FALSE for a
    model of many series (the page's Arguments section).
    """
    model = call.require(FORECASTING_MODELS)
    single = not model.spec["time_series"]["id_cols"]
    show_all = call.settings({"show_all_candidate_models": bool}).get("show_all_candidate_models", single)
    return evaluation_table(model.spec, show_all)


@function("ARIMA_COEFFICIENTS")
def arima_coefficients(call: Call) -> pa.Table:
    """``ML.ARIMA_COEFFICIENTS(MODEL m)``: one row per fitted series."""
    model = call.require(FORECASTING_MODELS)
    call.settings({})
    return coefficients_table(model.spec, model.arrays)


@function("HOLIDAY_INFO")
def holiday_info(call: Call) -> pa.Table:
    """``ML.HOLIDAY_INFO(MODEL m)``: the holidays the model's series were fitted with."""
    model = call.require(FORECASTING_MODELS)
    call.settings({})
    return holiday_table(model.spec)


def evaluation_table(spec: dict, show_all: bool) -> pa.Table:
    """ML.ARIMA_EVALUATE's rows: each fitted series' candidate models as training ranked them (the
    chosen one, lowest AIC, first: :class:`sqlml.ml.forecasting.fit.TrendFit`), or only the chosen
    one; a failed series gives one row with its ``error_message`` and NULL elsewhere, whatever
    ``show_all`` says.

    Args:
        spec: the model's description (its ``time_series`` part and ``options``).
        show_all: every candidate model, or only the chosen one.
    """
    series = spec["time_series"]
    decomposed = spec["options"].get("decompose_time_series", True)
    rows = []
    for item in sorted(series["series"], key=id_key):
        ids = dict(zip(series["id_cols"], item["id"]))
        if item["error"] is not None:
            rows.append({**ids, "error_message": item["error"]})
            continue
        flags = {flag: item.get(flag) if decomposed else None for flag in FLAGS}
        shared = {"seasonal_periods": list(item["seasonal_periods"]) or [NO_SEASONALITY], **flags}
        for candidate in item["candidates"] if show_all else item["candidates"][:1]:
            rows.append({**ids, **_metrics(candidate), **shared, "error_message": None})
    return pa.Table.from_pylist(rows, schema=_with_ids(series, EVALUATE_SCHEMA))


def coefficients_table(spec: dict, arrays: dict[str, np.ndarray]) -> pa.Table:
    """ML.ARIMA_COEFFICIENTS' rows: each fitted series' AR and MA coefficients and its constant
    (the intercept when d = 0, the drift when d = 1, 0 when d = 2, as the page defines
    ``intercept_or_drift``); failed series have no row.

    A model with external regressors (ARIMA_PLUS_XREG) adds ``processed_input``, ``weight`` and
    ``category_weights``: one row per series and regressor, then ``__INTERCEPT__``, each repeating
    the series' ARIMA columns (the page lists the columns but not the rows; this is ML.WEIGHTS'
    one row per input, from :func:`sqlml.ml.forecasting.regressors.weight_rows`).

    Args:
        spec: the model's description (its ``time_series`` part, and ``xreg`` if any).
        arrays: the model's arrays (``arima.*``, as :func:`sqlml.ml.forecasting.state.pack` wrote them;
            ``xreg.*``).
    """
    from sqlml.ml.forecasting.regressors import has_regressors, weight_rows
    from sqlml.ml.forecasting.state import unpack

    series = spec["time_series"]
    fitted = [(index, item) for index, item in enumerate(series["series"]) if item["error"] is None]
    states = unpack([item["arima"] for _, item in fitted], {name.removeprefix("arima."): value for name, value in arrays.items() if name.startswith("arima.")})
    xreg = has_regressors(spec)
    rows = []
    for (index, item), state in sorted(zip(fitted, states), key=lambda pair: id_key(pair[0][1])):
        row = {**dict(zip(series["id_cols"], item["id"])), **_arima_coefficients(state)}
        rows.extend([{**row, **weight} for weight in weight_rows(spec, arrays, index)] if xreg else [row])
    schema = pa.schema([*COEFFICIENTS_SCHEMA, *(WEIGHT_SCHEMA if xreg else [])])
    return pa.Table.from_pylist(rows, schema=_with_ids(series, schema))


def _arima_coefficients(state: ArimaState) -> dict:
    """A fitted state's ``ar_coefficients``, ``ma_coefficients`` and ``intercept_or_drift``."""
    coef = dict(zip(state.coef_names, state.coef.tolist()))
    p, d, q = state.order
    return {
        "ar_coefficients": [coef[f"ar{k}"] for k in range(1, p + 1)],
        "ma_coefficients": [coef[f"ma{k}"] for k in range(1, q + 1)],
        "intercept_or_drift": {0: coef.get("intercept", 0.0), 1: coef.get("drift", 0.0)}.get(d, 0.0),
    }


def holiday_table(spec: dict) -> pa.Table:
    """ML.HOLIDAY_INFO's rows: each occurrence of a modelled holiday whose window touches the
    training span, by region, name and date; empty when no series has a holiday effect ("The
    function returns the list of holidays only if it detects a holiday effect in the model.
    Otherwise, the function returns an empty result set."; "Results returned by ML.HOLIDAY_INFO
    only indicate the holiday information used during model fitting").

    The modelled holidays are those with an effect in some series (its ``holiday_windows``); the
    dates come from the calendar training used (:func:`sqlml.ml.forecasting.holiday_projection.spec_calendar`:
    the built-in regions recomputed, the custom rows from the spec).

    Args:
        spec: the model's description (its ``time_series`` part).
    """
    import pandas as pd

    from sqlml.ml.forecasting.holiday_projection import spec_calendar

    modelled = [(item, span) for item in spec["time_series"]["series"] if (span := _holiday_span(item)) is not None]
    if not modelled:
        return HOLIDAY_SCHEMA.empty_table()
    names = {name for item, _ in modelled for name in item["holiday_windows"]}
    first, last = min(start for _, (start, _) in modelled), max(end for _, (_, end) in modelled)
    days = spec_calendar(spec, first, last)
    pre, post = (pd.to_timedelta(days[column], unit="D") for column in ("preholiday_days", "postholiday_days"))
    touches = (days["primary_date"] - pre < last) & (days["primary_date"] + post >= first) & days["holiday_name"].isin(names)
    days = days[touches].drop_duplicates().sort_values(["region", "holiday_name", "primary_date"])
    return pa.Table.from_pandas(days.assign(primary_date=days["primary_date"].dt.date), schema=HOLIDAY_SCHEMA, preserve_index=False)


def _holiday_span(item: dict) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """[first point, end of the last point) of a fitted series with a holiday effect, else None."""
    import pandas as pd

    from sqlml.ml.forecasting.frequency import STEPS, DataFrequency

    if item["error"] is not None or not item.get("has_holiday_effect"):
        return None
    last = pd.Timestamp(item["last_timestamp"], unit="us")
    return pd.Timestamp(item["first_timestamp"], unit="us"), last + STEPS[DataFrequency(item["frequency"])]


def id_key(item: dict) -> list[tuple[bool, object]]:
    """A series description's sort key: its id ascending, NULL first (BigQuery's ORDER BY … ASC)."""
    # (False, None) sorts before (True, value) and is never compared with a value.
    return [(value is not None, value) for value in item["id"]]


def _metrics(candidate: dict) -> dict:
    """A stored candidate model as ML.ARIMA_EVALUATE's metric columns."""
    return {
        "non_seasonal_p": candidate["non_seasonal_p"], "non_seasonal_d": candidate["non_seasonal_d"],
        "non_seasonal_q": candidate["non_seasonal_q"], "has_drift": candidate["has_drift"],
        "log_likelihood": candidate["log_likelihood"], "AIC": candidate["aic"], "variance": candidate["variance"],
    }  # fmt: skip


def _with_ids(series: dict, schema: pa.Schema) -> pa.Schema:
    """``schema`` after the id columns, with their training names and types."""
    ids = [pa.field(name, arrow_type_from_string(kind)) for name, kind in zip(series["id_cols"], series["id_types"])]
    return pa.schema([*ids, *schema])
