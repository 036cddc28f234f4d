"""JSON instances in, ML.PREDICT's (or ML.EXPLAIN_PREDICT's) rows out, without SQL; and
ML.FORECAST's rows of a forecasting model.

Instances are typed as the model was trained, so a value of the wrong type is refused with the
column's name before any scoring: one request's Arrow batch (:func:`instances_batch`), which goes
through the prediction runtime ML.PREDICT and ML.EXPLAIN_PREDICT run (:mod:`sqlml.ml.runtime`);
or the typed rows of several small requests scored at once (:func:`predict_batch`, values
checked per request by :mod:`.inputs`), which go through the same steps — the model's
preprocessor, estimator and output columns — from Python values, without an Arrow batch. The
rows come back as JSON-ready dicts: ML.PREDICT's output columns, followed by the input columns
as ML.PREDICT passes them only when the request asks to have its inputs echoed. A model type
the SQL function refuses is refused here too, by the runtime's own list of types.
"""

from __future__ import annotations

import decimal
import functools
from itertools import chain
from typing import NamedTuple, Protocol

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError, ModelError
from sqlml.ml.models.base import Target
from sqlml.ml.models.catalog import supporting
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.models.model import Model, arrow_type_from_string
from sqlml.ml.runtime.explain import DEFAULT_TOP_K, explanation_table
from sqlml.ml.runtime.forecast import forecast_rows
from sqlml.ml.runtime.predict import PredictionPlan, prediction_outputs, prediction_plan, prediction_table, score
from sqlml.serve.inputs import InputColumns, refuse_fractions
from sqlml.serve.outputs import RowOutputs


def instances_batch(model: Model, instances: list[dict]) -> pa.RecordBatch:
    """The instances as a batch: the model's input columns with their training types, then any
    other fields (passed through, as ML.PREDICT passes the input columns).

    Raises:
        InvalidModelInputError: an instance is not an object, lacks a column the model needs, or a
            value does not convert to the column's type.
    """
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise InvalidModelInputError(f"Instance {index} is not a JSON object of column values.")
    types = _input_types(model)
    names = list(dict.fromkeys(name for instance in instances for name in instance))
    schema = pa.schema([pa.field(name, types.get(name.lower()) or _inferred(name, instances)) for name in names])
    try:
        model.check_input(schema)  # ML.PREDICT's own check: a STRUCT column gives its fields too
    except InvalidModelInputError as error:
        raise InvalidModelInputError(
            f"The instances have no column {error.column}, which the model was trained on.",
            column=error.column, hint=f"Give every instance a {error.column!r} field (null for a missing value).",
        ) from None  # fmt: skip
    for field in schema:
        refuse_fractions(field.name, [instance.get(field.name) for instance in instances], field.type)
    try:
        return pa.RecordBatch.from_pylist(instances, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        _raise_for_column(instances, schema)
        raise


def _inferred(name: str, instances: list[dict]) -> pa.DataType:
    """The type of a column the model does not know (a TRANSFORM input, a pass-through field)."""
    try:
        return pa.array([instance.get(name) for instance in instances]).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as error:
        raise InvalidModelInputError(f"The column {name} has values of different types: {_first_line(error)}") from None


def _raise_for_column(instances: list[dict], schema: pa.Schema) -> None:
    """Find the column whose value did not convert, and say so."""
    for field in schema:
        try:
            pa.array([instance.get(field.name) for instance in instances], type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as error:
            raise InvalidModelInputError(f"The column {field.name} has a value that is not {field.type}: {_first_line(error)}") from None


def check_supported(model: Model, name: str, explain: bool = False) -> None:
    """Refuse a model of a type that ML.PREDICT (or, with ``explain``, ML.EXPLAIN_PREDICT) refuses.

    Raises:
        ModelError: naming the model, its type and the types the function takes.
    """
    function = "EXPLAIN_PREDICT" if explain else "PREDICT"
    kind, family = model.model_type, model.family
    if not family.supports(function, kind):
        raise ModelError(
            f"{name} is a {kind} model, which ML.{function} does not support; it takes {', '.join(supporting(function))} models.",
            model=name, hint=_other_route(model, kind, explain),
        )  # fmt: skip


def _other_route(model: Model, kind: str, explain: bool) -> str | None:
    if model.target is Target.FORECASTING:
        return f'Ask :forecast of a {kind} model, with {{"horizon": n, "confidence_level": c}}.'
    return f"Ask :predict of a {kind} model." if explain and model.family.supports("PREDICT", kind) else None


def forecast(model: Model, name: str, horizon: int | None, confidence: float, ids: list[dict] | None = None,
             future: list[dict] | None = None) -> list[dict]:  # fmt: skip
    """ML.FORECAST's rows (:func:`sqlml.ml.runtime.forecast.forecast_rows`; ``future``: an
    ARIMA_PLUS_XREG model's future regressors), or only those of the series ``ids`` names (each
    an object of the id columns' values).

    Raises:
        ModelError: the model is not a forecasting model.
        InvalidOptionError: ``horizon`` exceeds the model's ``horizon`` option.
        InvalidModelInputError: ``ids`` names columns that are not the model's id columns, or
            ``future`` is missing, unexpected or incomplete.
    """
    table = forecast_rows(model, name, horizon, confidence, future)
    if ids is not None:
        table = table.filter(_series_mask(table, model.spec["time_series"]["id_cols"], ids))
    return json_rows(table)


def _series_mask(table: pa.Table, id_cols: list[str], ids: list[dict]) -> pa.Array:
    """Which forecast rows belong to one of the series ``ids`` names."""
    if not id_cols:
        raise InvalidModelInputError("ids names series, but the model has one series (no time_series_id_col).", hint="Leave ids out.")
    wanted = set()
    for index, key in enumerate(ids):
        given = {name.lower(): value for name, value in key.items()}
        if sorted(given) != sorted(name.lower() for name in id_cols):
            raise InvalidModelInputError(
                f"ids[{index}] names the columns {', '.join(key) or 'none'}; the model's id columns are {', '.join(id_cols)}.",
                hint=f"Give each series as an object of every id column's value: {{{', '.join(repr(n) + ': …' for n in id_cols)}}}.",
            )
        wanted.add(tuple(given[name.lower()] for name in id_cols))
    keys = zip(*(table.column(name).to_pylist() for name in id_cols))
    return pa.array([key in wanted for key in keys], pa.bool_())


def predict(model: Model, batch: pa.RecordBatch, estimator: Estimator | None = None, echo_inputs: bool = True) -> list[dict]:
    """ML.PREDICT's rows for ``batch``; only its output columns unless ``echo_inputs``."""
    if echo_inputs:
        return json_rows(prediction_table(model, batch, estimator))
    return json_rows(prediction_outputs(model, batch, estimator))


class Predicted(NamedTuple):
    """One request's share of a scored batch: its raw model outputs and its output rows."""

    raw: np.ndarray
    rows: list[dict]


class RowFeatures(Protocol):
    """A model's encoding of rows of Python values (:meth:`Preprocessor.row_encoding`)."""

    def features(self, rows: list[list]) -> np.ndarray | None:
        """The feature matrix of ``rows``; None when a value is left to Arrow's conversion."""
        ...


def predict_batch(
    plan: PredictionPlan, columns: InputColumns, requests: list[tuple[list[list], int]], rows: RowFeatures | None = None,
    outputs: RowOutputs | None = None,
) -> list[Predicted]:  # fmt: skip
    """ML.PREDICT's output columns for several requests scored as one batch, split back per
    request; each request is its typed rows (:meth:`InputColumns.typed`) and their count.
    ``plan`` is the model's :func:`~sqlml.ml.runtime.predict.prediction_plan` of outputs only
    for ``columns.schema``, worked out once per model rather than per batch.

    The steps are :meth:`PredictionPlan.scored`'s. With the model's ``rows`` encoding
    (:func:`row_encoding`) the values go straight to the feature matrix through the model's own
    encoders, without the Arrow batch, which costs more than scoring a few rows; without it (or
    for a value it leaves to Arrow) the rows become that batch. The model's estimator scores the
    matrix, and ``outputs`` (:class:`RowOutputs`), else the family's output columns, give the rows.
    """
    model = plan.model
    values = list(chain.from_iterable(typed for typed, _ in requests))
    X = rows.features(values) if rows is not None else None
    raw = score(model, columns.batch([values])) if X is None else model.estimator.predict(X)
    answered = outputs.rows(raw) if outputs is not None else _output_rows(plan, raw)
    if len(requests) == 1:
        return [Predicted(raw, answered)]
    answers, start = [], 0
    for _, count in requests:
        answers.append(Predicted(raw[start : start + count], answered[start : start + count]))
        start += count
    return answers


def _output_rows(plan: PredictionPlan, raw: np.ndarray) -> list[dict]:
    """The output rows of a batch's raw outputs, through the family's Arrow columns (the plan keeps no input column)."""
    return pa.RecordBatch.from_arrays(plan.model.family.prediction_columns(plan.model, raw, None), schema=plan.schema).to_pylist()


def row_encoding(model: Model, columns: InputColumns) -> RowFeatures | None:
    """How the typed rows of a model's requests become its feature matrix without Arrow (see
    :func:`predict_batch`); None for a model trained sparse (its matrix is SciPy's) or without
    preprocessing."""
    if model.preprocessor is None or model.task.sparse or model.spec.get("transform"):
        return None
    return model.preprocessor.row_encoding(list(columns.schema.types))


def echoed(model: Model, predicted: Predicted, instances: list[dict]) -> list[dict]:
    """ML.PREDICT's whole rows for a request scored in a batch: its outputs, then its input
    columns exactly as ML.PREDICT passes them through."""
    batch = instances_batch(model, instances)
    return prediction_plan(model, batch.schema).predicted(batch, predicted.raw).to_pylist()


def explain(model: Model, batch: pa.RecordBatch, top_k: int = DEFAULT_TOP_K) -> list[dict]:
    """ML.EXPLAIN_PREDICT's rows for ``batch``."""
    return json_rows(explanation_table(model, batch, top_k))


def json_rows(table: pa.Table) -> list[dict]:
    """Rows as dicts; orjson writes dates as ISO text and NaN as null, :func:`json_default` the rest."""
    return table.to_pylist()


def json_default(value: object) -> str:
    """What orjson leaves to us in scored rows: exact decimals as text, bytes as hex."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


@functools.lru_cache(maxsize=64)
def _input_types(model: Model) -> dict[str, pa.DataType]:
    """Lower-case column name → the Arrow type it had in training (TRANSFORM inputs: inferred);
    remembered per loaded model, as every request of a model asks."""
    if model.preprocessor is None or model.spec.get("transform"):
        return {}
    return {column.name.lower(): arrow_type_from_string(column.arrow_type) for column in model.preprocessor.columns}


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
