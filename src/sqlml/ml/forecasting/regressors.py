"""ARIMA_PLUS_XREG's external regressors: a linear regression per series, ARIMA_PLUS on its residual.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-multivariate-time-series —
"an ARIMA_PLUS model with linear external regressors": every training column other than the
timestamp, data and id columns is a regressor. The regressors are preprocessed once over the
whole table (``../shared/reference/bigquery-ml.md`` §1.15: NULLs mean-imputed over the whole
column, across series; a non-numeric column is dummy-encoded, as ML.ARIMA_COEFFICIENTS describes
its ``category_weights``: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-arima-coefficients),
then each series' data column is regressed on them (scikit-learn, ``l2_reg`` as the ridge
penalty; ordinary least squares when it is 0) and the residual series goes through ARIMA_PLUS
(:func:`sqlml.ml.forecasting.training.fit_table`).

Stored as data: the preprocessing state and regressor names in the spec's ``xreg`` part, the
weights (``xreg.weights``, one row per series in ``time_series.series`` order) and intercepts
(``xreg.intercepts``) as arrays. A forecast is the residual's ARIMA_PLUS forecast plus the
regression on the future regressors at each forecast timestamp
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-forecast).
"""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.columns import column_named
from sqlml.ml.forecasting.parallel import map_series
from sqlml.ml.forecasting.series import SeriesColumns, series_columns
from sqlml.ml.forecasting.training import fit_table
from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor, is_numeric_type

#: ML.FORECAST's columns that move with the regression part (the standard error does not: the
#: future regressors are given, not forecast).
SHIFTED_COLUMNS = ("forecast_value", "prediction_interval_lower_bound", "prediction_interval_upper_bound",
                   "confidence_interval_lower_bound", "confidence_interval_upper_bound")  # fmt: skip
#: The regressor types: numbers (a weight each) and STRING / BOOL (dummy-encoded categories).
REGRESSOR_TYPES = "INT64, NUMERIC, BIGNUMERIC, FLOAT64, STRING or BOOL"
#: The most processed features (BigQuery's "feature cardinality" limit of ARIMA_PLUS_XREG,
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-multivariate-time-series#limitations).
MAX_FEATURES = 10_000


def has_regressors(spec: dict) -> bool:
    """Whether a time-series model was fitted with external regressors (ARIMA_PLUS_XREG)."""
    return "xreg" in spec


def regressor_columns(table: pa.Table, columns: SeriesColumns) -> list[str]:
    """The training query's regressors: every column but the timestamp, data and id columns.

    Raises:
        InvalidModelInputError: there is none, or one is of a type that cannot be a regressor.
    """
    used = {name.lower() for name in (columns.timestamp, columns.data, *columns.ids)}
    names = [name for name in table.column_names if name.lower() not in used]
    if not names:
        raise InvalidModelInputError(
            f"model_type='ARIMA_PLUS_XREG' needs at least one external regressor column besides "
            f"{', '.join(sorted(used))}; the training query has none.",
            hint="Select the regressor columns in the training query, or use model_type='ARIMA_PLUS'.",
        )
    for name in names:
        check_regressor_type(name, table.schema.field(name).type, "training query")
    return names


def check_regressor_type(name: str, kind: pa.DataType, source: str) -> None:
    """A regressor column must be a number, a STRING or a BOOL.

    Raises:
        InvalidModelInputError: naming the column, its type and the fix.
    """
    if is_numeric_type(kind) or _is_categorical(kind):
        return
    raise InvalidModelInputError(
        f"The column {name} of the {source} is an external regressor of ARIMA_PLUS_XREG and must be "
        f"{REGRESSOR_TYPES}; it is {kind}.",
        column=name,
        hint=f"CAST {name} AS FLOAT64 or AS STRING in the {source}, or leave it out with SELECT * EXCEPT({name}).",
    )


def _check_cardinality(table: pa.Table, names: list[str]) -> None:
    """At most :data:`MAX_FEATURES` processed features: one per number, one per category but the
    dropped one (NULL is a category) — counted before any encoding is built."""
    width = 0
    for name in names:
        column = table.column(name)
        width += 1 if is_numeric_type(column.type) else max(pc.count_distinct(column, mode="all").as_py() - 1, 1)
    if width > MAX_FEATURES:
        raise InvalidModelInputError(
            f"The external regressors of ARIMA_PLUS_XREG expand to {width} features (numbers, and one per "
            f"category of a STRING or BOOL column); BigQuery takes at most {MAX_FEATURES}.",
            hint="Leave out or group the high-cardinality STRING regressors in the training query.",
        )


def _is_categorical(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind)


def fit_with_regressors(options: dict, table: pa.Table, holidays: pa.Table | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The spec and arrays of an ARIMA_PLUS_XREG model: the regression of each series' data column
    on the regressors, then ARIMA_PLUS fitted to the residual series.

    Args:
        options: the resolved options, completed with ARIMA_PLUS's defaults.
        table: the training rows.
        holidays: the rows of ``custom_holiday AS (…)``, or None.

    Raises:
        InvalidModelInputError: a column is missing or mistyped, or no series could be fitted.
    """
    columns = series_columns(table, options)
    names = regressor_columns(table, columns)
    _check_cardinality(table, names)
    preprocessor = Preprocessor.fit(table, names, standardize=False, categorical="dummy")
    features = preprocessor.transform(table)
    target = table.column(columns.data).cast(pa.float64()).to_numpy(zero_copy_only=False)
    codes, keys = _series_codes(table, columns.ids)
    usable = np.isfinite(target) & pc.is_valid(table.column(columns.timestamp)).to_numpy(zero_copy_only=False)
    weights, intercepts = _fit_per_series(features, target, codes, usable, len(keys), options["l2_reg"])
    residual = target - (np.einsum("ij,ij->i", features, weights[codes]) + intercepts[codes])
    spec, arrays = fit_table(options, _residual_table(table, columns, residual), holidays)
    order = _spec_order(spec, keys)
    spec["xreg"] = {
        "regressors": names,
        "processed_inputs": preprocessor.feature_names,
        "preprocessing": preprocessor.state(),
        "l2_reg": options["l2_reg"],
    }
    arrays["xreg.weights"] = weights[order]
    arrays["xreg.intercepts"] = intercepts[order]
    spec_index = np.empty(len(keys), dtype=np.int64)
    spec_index[order] = np.arange(len(order))
    products = features * weights[codes]
    parts = np.column_stack([products[:, indices].sum(axis=1) for indices in preprocessor.groups.values()])
    arrays.update(_history_arrays(spec_index[codes], microseconds(table.column(columns.timestamp)), parts))
    return spec, arrays


def _spec_order(spec: dict, keys: list[str]) -> np.ndarray:
    """For each series of the spec (ARIMA_PLUS's order), its number among ``keys``."""
    position = {key: code for code, key in enumerate(keys)}
    return np.array([position[_key(item["id"])] for item in spec["time_series"]["series"]], dtype=np.int64)


def _history_arrays(series: np.ndarray, stamps: np.ndarray, parts: np.ndarray) -> dict[str, np.ndarray]:
    """Each training row's attributions (one column per regressor) by series and timestamp,
    duplicated timestamps averaged as the series' points are, rows without a timestamp left out."""
    frame = pd.DataFrame(parts)
    frame["__s"], frame["__t"] = series, stamps
    mean = frame.dropna(subset=["__t"]).groupby(["__s", "__t"], sort=True).mean()
    return {
        "xreg.history_series": mean.index.get_level_values(0).to_numpy(dtype=np.int64),
        "xreg.history_timestamps": mean.index.get_level_values(1).to_numpy(dtype=np.int64),
        "xreg.history_attributions": mean.to_numpy(dtype=np.float64),
    }


def history_attributions(spec: dict, arrays: dict[str, np.ndarray], index: int, timestamps: np.ndarray) -> dict[str, np.ndarray]:
    """Each regressor's attribution (weight × training value) in the history of one series, by
    regressor name: ML.EXPLAIN_FORECAST's history ``attribution_<regressor>``.

    Args:
        spec: the model's description.
        arrays: the model's arrays.
        index: the series' position in ``spec["time_series"]["series"]``.
        timestamps: where to read them, int64 µs UTC (the prepared history's grid); a timestamp
            between two training rows (a gap the pipeline interpolated) gets the linear
            interpolation of theirs, one outside the training rows NaN.
    """
    rows = arrays["xreg.history_series"] == index
    known = arrays["xreg.history_timestamps"][rows].astype(np.float64)
    values = arrays["xreg.history_attributions"][rows]
    at = np.asarray(timestamps, dtype=np.float64)
    if not len(known):
        return {name: np.full(len(at), np.nan) for name in spec["xreg"]["regressors"]}
    return {name: np.interp(at, known, values[:, column], left=np.nan, right=np.nan) for column, name in enumerate(spec["xreg"]["regressors"])}


def _series_codes(table: pa.Table, ids: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each row's series number and each series' key (:func:`_key` of its id values)."""
    if not ids:
        return np.zeros(table.num_rows, dtype=np.int64), [_key([])]
    frame = pd.DataFrame({f"__id{index}": table.column(name).to_pandas() for index, name in enumerate(ids)})
    codes = frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy().astype(np.int64)
    _, first = np.unique(codes, return_index=True)
    return codes, [_key(frame.iloc[row].tolist()) for row in first]


def _key(values: list) -> str:
    """A series' id values as one comparable string: NumPy scalars as Python values, a whole
    float as an integer (an INT64 id with NULLs reaches pandas as float), NaN as NULL."""
    plain = []
    for value in values:
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, float):
            value = None if np.isnan(value) else int(value) if value.is_integer() else value
        plain.append(value)
    return json.dumps(plain)


def _fit_per_series(features: np.ndarray, target: np.ndarray, codes: np.ndarray, usable: np.ndarray,
                    count: int, l2_reg: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Each series' weights and intercept, fitted on its rows with a value (through
    :func:`~sqlml.ml.forecasting.parallel.map_series`, like the series' ARIMA fits); zeros for a
    series without a value (its ARIMA_PLUS fit reports why it has no model)."""
    weights, intercepts = np.zeros((count, features.shape[1])), np.zeros(count)
    rows = np.flatnonzero(usable)
    rows = rows[np.argsort(codes[rows], kind="stable")]
    parts = [part for part in np.split(rows, np.flatnonzero(np.diff(codes[rows])) + 1) if len(part)]
    fitted = map_series(partial(fit_regression, l2_reg=l2_reg), [(features[part], target[part]) for part in parts])
    for part, (coef, intercept) in zip(parts, fitted):
        weights[codes[part[0]]], intercepts[codes[part[0]]] = coef, intercept
    return weights, intercepts


def fit_regression(rows: tuple[np.ndarray, np.ndarray], *, l2_reg: float) -> tuple[np.ndarray, float]:
    """One series' weights and intercept by scikit-learn: ridge with ``alpha = l2_reg``, or
    ordinary least squares when ``l2_reg`` is 0.

    Args:
        rows: the series' processed regressors and data values.
        l2_reg: the option ``l2_reg``.
    """
    from sklearn.linear_model import LinearRegression, Ridge

    features, target = rows
    fitted = (Ridge(alpha=l2_reg) if l2_reg > 0 else LinearRegression()).fit(features, target)
    return fitted.coef_, float(fitted.intercept_)


def _residual_table(table: pa.Table, columns: SeriesColumns, residual: np.ndarray) -> pa.Table:
    """The id and timestamp columns with the data column replaced by the regression's residual
    (NULL where the data was NULL, so ARIMA_PLUS interpolates it)."""
    kept = [*columns.ids, columns.timestamp]
    values = pa.array(residual, pa.float64(), mask=np.isnan(residual))
    return table.select(kept).append_column(columns.data, values)


def regression_contribution(spec: dict, arrays: dict[str, np.ndarray], table: pa.Table) -> np.ndarray:
    """The regression part (weights · regressors + intercept) of each row of ``table``, with
    its series' weights; NaN for a row whose series the model does not know.

    ``table`` needs the id columns and the regressors (matched by name, case-insensitively;
    NULL numbers take the training mean, unseen categories weigh nothing).

    Raises:
        InvalidModelInputError: an id or regressor column is missing or of the wrong type.
    """
    features, series = _encode(spec, table)
    known = series >= 0
    weights, intercepts = arrays["xreg.weights"], arrays["xreg.intercepts"]
    out = np.full(table.num_rows, np.nan)
    out[known] = np.einsum("ij,ij->i", features[known], weights[series[known]]) + intercepts[series[known]]
    return out


def attributions(spec: dict, arrays: dict[str, np.ndarray], table: pa.Table) -> dict[str, np.ndarray]:
    """Each regressor's part of :func:`regression_contribution` (weight × value, summed over a
    categorical regressor's dummy columns), by regressor name: ML.EXPLAIN_FORECAST's
    ``attribution_<regressor>``. The intercept is not in any of them. NaN for unknown series.

    Raises:
        InvalidModelInputError: an id or regressor column is missing or of the wrong type.
    """
    features, series = _encode(spec, table)
    preprocessor = Preprocessor.from_state(spec["xreg"]["preprocessing"])
    known = series >= 0
    products = np.full(features.shape, np.nan)
    products[known] = features[known] * arrays["xreg.weights"][series[known]]
    return {name: products[:, indices].sum(axis=1) for name, indices in preprocessor.groups.items()}


def weight_rows(spec: dict, arrays: dict[str, np.ndarray], index: int) -> list[dict]:
    """One series' regression as ML.ARIMA_COEFFICIENTS shows it (as ML.WEIGHTS does): per
    regressor ``processed_input`` with ``weight`` (numeric) or ``category_weights`` (each
    dummy-encoded category; the dropped, most frequent one weighs 0 and is not listed), then
    ``__INTERCEPT__``.

    Args:
        spec: the model's description.
        arrays: the model's arrays.
        index: the series' position in ``spec["time_series"]["series"]``.
    """
    preprocessor = Preprocessor.from_state(spec["xreg"]["preprocessing"])
    weights = arrays["xreg.weights"][index]
    rows = []
    for encoder, (name, indices) in zip(preprocessor.encoders, preprocessor.groups.items()):
        if encoder.kind == "numeric":
            rows.append({"processed_input": name, "weight": float(weights[indices[0]]), "category_weights": None})
        else:
            categories = [{"category": category, "weight": float(weights[i])} for category, i in zip(encoder.columns, indices)]
            rows.append({"processed_input": name, "weight": None, "category_weights": categories})
    rows.append({"processed_input": "__INTERCEPT__", "weight": float(arrays["xreg.intercepts"][index]), "category_weights": None})
    return rows


def _encode(spec: dict, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """The regressors' processed features of ``table`` and each row's series index (-1: unknown)."""
    time_series = spec["time_series"]
    ids = [_find(table, name, "time_series_id_col") for name in time_series["id_cols"]]
    preprocessor = Preprocessor.from_state(spec["xreg"]["preprocessing"])
    for column in preprocessor.columns:
        found = _find(table, column.name, "an external regressor")
        _check_future_type(column.name, column.arrow_type, table.schema.field(found).type)
    lookup = {_key(item["id"]): index for index, item in enumerate(time_series["series"])}
    codes, keys = _series_codes(table, ids)
    series = np.array([lookup.get(key, -1) for key in keys], dtype=np.int64)[codes]
    return preprocessor.transform(table), series


def _find(table: pa.Table, name: str, role: str) -> str:
    found = column_named(table.column_names, name)
    if found is None:
        raise InvalidModelInputError(
            f"The input data has no column {name}, which the model was trained with ({role}).",
            column=name,
            hint=f"Select {name} in the query of future values; it has: {', '.join(table.column_names)}.",
        )
    return found


def _check_future_type(name: str, trained: str, kind: pa.DataType) -> None:
    """A numeric regressor needs numbers; a categorical one a STRING or BOOL (BigQuery's implicit
    coercion does not turn a STRING into a number)."""
    numeric = trained.startswith(("int", "uint", "double", "float", "decimal", "halffloat"))
    if (is_numeric_type(kind) or pa.types.is_null(kind)) if numeric else (_is_categorical(kind) or pa.types.is_null(kind)):
        return
    expected = "INT64, NUMERIC, BIGNUMERIC or FLOAT64" if numeric else "STRING or BOOL"
    raise InvalidModelInputError(
        f"The column {name} of the input data must be {expected}, as it was in training ({trained}); it is {kind}.",
        column=name,
        hint=f"CAST {name} in the query of future values.",
    )


def add_regression(spec: dict, arrays: dict[str, np.ndarray], forecasts: pa.Table, future: pa.Table) -> pa.Table:
    """ML.FORECAST's rows of the residual's forecast, with the regression on the future
    regressors added at each forecast timestamp (rows matched by id and timestamp; duplicated
    future rows averaged, as training averages duplicated timestamps).

    Raises:
        InvalidModelInputError: a column is missing or mistyped, or a forecast timestamp of a
            series has no future row.
    """
    time_series = spec["time_series"]
    stamp = _find(future, time_series["timestamp_col"], "time_series_timestamp_col")
    kind = future.schema.field(stamp).type
    if not (pa.types.is_timestamp(kind) or pa.types.is_date(kind)):
        raise InvalidModelInputError(
            f"The column {stamp} (time_series_timestamp_col) of the input data must be TIMESTAMP, DATE or DATETIME; it is {kind}.",
            column=stamp,
            hint=f"CAST {stamp} in the query of future values.",
        )
    ids = [_find(future, name, "time_series_id_col") for name in time_series["id_cols"]]
    given = pd.DataFrame({f"__id{i}": future.column(name).to_pandas() for i, name in enumerate(ids)})
    given["__t"] = microseconds(future.column(stamp))
    given["__x"] = regression_contribution(spec, arrays, future)
    keys = [*given.columns[:-1]]
    given = given.dropna(subset=["__t"]).groupby(keys, dropna=False, sort=False, as_index=False)["__x"].mean()
    wanted = pd.DataFrame({f"__id{i}": forecasts.column(name).to_pandas() for i, name in enumerate(time_series["id_cols"])})
    wanted["__t"] = microseconds(forecasts.column("forecast_timestamp"))
    part = wanted.merge(given, how="left", on=keys)["__x"].to_numpy()
    _check_covered(part, wanted, time_series)
    for name in SHIFTED_COLUMNS:
        index = forecasts.column_names.index(name)
        forecasts = forecasts.set_column(index, name, pa.array(forecasts.column(name).to_numpy() + part))
    return forecasts


def microseconds(stamps: pa.ChunkedArray) -> np.ndarray:
    """TIMESTAMP (the UTC instant), DATETIME or DATE values as microseconds since the epoch
    (float, NaN where NULL), as the series keep them."""
    if pa.types.is_timestamp(stamps.type) and stamps.type.tz is not None:
        stamps = stamps.cast(pa.timestamp(stamps.type.unit))
    values = stamps.cast(pa.timestamp("us")).cast(pa.int64())
    return values.to_numpy(zero_copy_only=False).astype(np.float64)


def _check_covered(part: np.ndarray, wanted: pd.DataFrame, time_series: dict) -> None:
    """Every forecast row needs its series' regressors at its timestamp."""
    missing = np.flatnonzero(np.isnan(part))
    if not len(missing):
        return
    row = wanted.iloc[missing[0]]
    stamp = pd.Timestamp(int(row["__t"]), unit="us")
    series = ", ".join(f"{name}={row[f'__id{i}']!r}" for i, name in enumerate(time_series["id_cols"]))
    raise InvalidModelInputError(
        f"ML.FORECAST needs the external regressors at every forecast timestamp; the input data has "
        f"no row{' for ' + series if series else ''} at {stamp.isoformat(sep=' ')} "
        f"({len(missing)} forecast timestamp(s) are missing).",
        hint="Select the future regressors for each of the horizon's timestamps, or ask for a smaller horizon.",
    )
