"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE.

Without input data they use what training kept: the metrics and the outputs on the evaluation
split (or on the training rows when there was no split), as BigQuery does. With input data the
rows are streamed through the model and compared with their label column (a linear model's
outputs computed by DuckDB, :func:`~sqlml.ml.runtime.sql_prediction.scored_in_query`); on an engine
that maps batches on its workers (Spark) they are scored there and only aggregates come back
(:mod:`sqlml.ml.functions.distributed_evaluation`; for k-means, autoencoders and matrix
factorizations :mod:`sqlml.ml.functions.distributed_unsupervised`). A forecasting model
(ARIMA_PLUS) is evaluated by forecasting and comparing with the input's actual values
(:mod:`sqlml.ml.forecasting.evaluation`), on Spark one series at a time on its workers
(:mod:`sqlml.ml.functions.distributed_forecasting`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.functions.arima_inspect import evaluation_table
from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.constants import constant_value
from sqlml.ml.functions.distributed_evaluation import evaluation_rows
from sqlml.ml.functions.distributed_unsupervised import factorization_metrics, output_metrics
from sqlml.ml.functions.evaluation_rows import label_codes, label_name, no_labels_error, unseen_labels_error
from sqlml.ml.functions.trial_column import served_trial, with_trial_table
from sqlml.ml.models import metrics
from sqlml.ml.models.base import Evaluation, Target
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.models.model import Model
from sqlml.ml.models.prediction_columns import predicted_class_index
from sqlml.ml.models.supervised import SupervisedFamily
from sqlml.ml.runtime.forecast import DEFAULT_CONFIDENCE, check_horizon, series_id_types
from sqlml.ml.runtime.predict import check_threshold, scored_batches
from sqlml.ml.runtime.sql_prediction import scored_in_query

if TYPE_CHECKING:
    from sqlml.execution.sources import SqlOutput


def labelled_outputs(call: Call, model: Model, estimator: Estimator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Encoded labels and raw outputs for the call's input rows (rows with a NULL label skipped)."""
    name = model.label["name"]
    targets, outputs = [], []
    data = call.data(0)
    scored = scored_in_query(model, estimator or model.estimator, data)  # a linear model's, by DuckDB
    for batch, raw in scored if scored is not None else scored_batches(model, data.reader(), estimator):
        column = label_column(batch, name)
        keep = pc.is_valid(column).to_numpy(zero_copy_only=False)
        targets.append(encode_labels(model, column.filter(pc.is_valid(column))))
        outputs.append(raw[keep])
    if not sum(len(t) for t in targets):
        raise no_labels_error(call.name, name)
    return np.concatenate(targets), np.concatenate(outputs)


def stored_outputs(model: Model, trial_id: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The labels and outputs training kept for its evaluation rows (a tuned model's: for its test
    rows, by the optimal trial or the one ``trial_id`` names)."""
    if trial_id is None or trial_id == model.spec.get("optimal_trial_id"):
        return model.arrays["eval_target"], model.arrays["eval_output"]
    return model.arrays["eval_target"], model.arrays[f"eval_output_trial_{trial_id}"]


def label_column(batch: pa.RecordBatch, name: str) -> pa.Array:
    """The label column of input rows, found case-insensitively."""
    return batch.column(label_name(batch.schema, name))


def encode_labels(model: Model, column: pa.Array) -> np.ndarray:
    """Labels as the model's class indices (a regressor's as floats); unseen classes are an error."""
    if model.target is Target.REGRESSION:
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    codes, column = label_codes(model, column)
    if codes.null_count:
        raise unseen_labels_error(model, column.filter(pc.is_null(codes)).unique().to_pylist()[:5])
    return codes.to_numpy(zero_copy_only=False).astype(np.int64)


@function("EVALUATE")
def evaluate(call: Call) -> pa.Table:
    """``ML.EVALUATE(MODEL m [, data] [, STRUCT(threshold, trial_id)])`` — one row of metrics."""
    model = call.require()
    if model.target is Target.FORECASTING:
        return evaluate_forecast(call, model)
    if model.target is Target.RECOMMENDATION:
        return evaluate_factorization(call, model)
    settings = call.settings({"threshold": float, "trial_id": int})
    data = call.data(0, required=False)
    threshold = settings.get("threshold")
    if threshold is not None and data is None:
        raise InvalidOptionError("The threshold setting of ML.EVALUATE needs input data.", option="threshold")
    check_threshold(model, threshold, call.name)
    family = model.family
    columns = family.metric_names(model.model_type)
    if data is None and model.is_tuned and "trial_id" not in settings:
        return _trials_table(model, columns)
    estimator = model.estimator_for(settings.get("trial_id"))
    if data is None or family.evaluation is Evaluation.STORED:
        row = _stored_metrics(model, settings.get("trial_id"))
    elif family.evaluation is Evaluation.OUTPUTS and (summed := output_metrics(call, model, settings.get("trial_id"))) is not None:
        row = summed  # summed where the data is (Spark)
    elif family.evaluation is Evaluation.OUTPUTS:
        reader = data.reader()
        model.check_input(reader.schema)
        scored = [family.metric_outputs(model.model_type, estimator, model.features(batch)) for batch in reader if batch.num_rows]
        outputs = np.concatenate(scored or [np.empty((0, 1))])
        row = family.metrics(model.model_type, estimator, None, outputs, threshold)
    elif isinstance(family, SupervisedFamily) and (rows := evaluation_rows(call, model, settings.get("trial_id"), threshold)):
        row = rows.metrics()  # aggregated where the data is (Spark)
    else:
        y, raw = labelled_outputs(call, model, estimator)
        row = family.metrics(model.model_type, estimator, y, raw, threshold)
    table = pa.table({name: pa.array([row.get(name)], pa.float64()) for name in columns})
    return with_trial_table(table, served_trial(model, settings.get("trial_id")))


def evaluate_factorization(call: Call, model: Model) -> pa.Table:
    """``ML.EVALUATE(MODEL m [, data] [, STRUCT(trial_id)])`` of a matrix factorization: the
    metrics stored at training without data (every trial's, with a leading ``trial_id``, for a
    tuned model), else those of the input rows (:mod:`sqlml.ml.recommendation.evaluation`)."""
    from sqlml.ml.recommendation import evaluation
    from sqlml.ml.recommendation.stored import factorization_of

    trial_id = call.settings({"trial_id": int}).get("trial_id")
    data = call.data(0, required=False)
    columns = evaluation.metric_names(model.options["feedback_type"])
    if data is None:
        if model.is_tuned and trial_id is None:
            return _trials_table(model, columns)
        model.estimator_for(trial_id)  # an unknown trial_id is an error
        row = _stored_metrics(model, trial_id)
    elif (summed := factorization_metrics(call, model, trial_id)) is not None:
        row = summed  # aggregated where the data is (Spark)
    else:
        row = evaluation.evaluate_rows(factorization_of(model, trial_id), data.table(), call.name)
    table = pa.table({name: pa.array([row.get(name)], pa.float64()) for name in columns})
    return with_trial_table(table, served_trial(model, trial_id))


def evaluate_forecast(call: Call, model: Model) -> pa.Table | SqlOutput:
    """``ML.EVALUATE(MODEL m, data [, STRUCT(perform_aggregation, horizon, confidence_level)])``
    of a forecasting model.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate —
    ``perform_aggregation`` defaults to TRUE (one row of metrics per series), ``horizon`` to the
    model's ``horizon`` option (at most that), ``confidence_level`` (default 0.95, in [0, 1))
    applies to the per-point rows only. Without input data the page's deprecated form answers
    with ML.ARIMA_EVALUATE's columns (but ``error_message``) for each fitted series, ``AIC``
    spelled ``aic`` as that page lists it.
    """
    from sqlml.ml.forecasting import evaluation
    from sqlml.ml.functions.distributed_forecasting import evaluated_rows

    settings = call.settings({"perform_aggregation": bool, "horizon": int, "confidence_level": float})
    data = call.data(0, required=False)
    if data is None:
        if settings:
            name = next(iter(settings))
            raise InvalidOptionError(f"The {name} setting of {call.name} needs input data.", option=name,
                                     hint=f"Give the actual values to compare with: {call.name}(MODEL {call.ref}, (SELECT …), STRUCT(…)).")  # fmt: skip
        # the page's deprecated form: ML.ARIMA_EVALUATE's columns for each fitted series' chosen model
        table = evaluation_table(model.spec, show_all=False)
        table = table.filter(pc.is_null(table.column("error_message"))).drop_columns(["error_message"])
        return table.rename_columns(["aic" if name == "AIC" else name for name in table.column_names])
    aggregate = settings.get("perform_aggregation", True)
    horizon = settings.get("horizon", model.options["horizon"])
    _check_forecast_settings(call, horizon, model.options["horizon"], settings.get("confidence_level"), aggregate)
    confidence = settings.get("confidence_level", DEFAULT_CONFIDENCE)
    if (rows := evaluated_rows(call, model, horizon, confidence, aggregate)) is not None:
        return rows  # per series where the data is (Spark)
    id_types = series_id_types(model.spec)
    return evaluation.evaluation_rows(model.spec, model.arrays, data.table(), horizon, confidence, aggregate, id_types)


def _check_forecast_settings(call: Call, horizon: int, limit: int, confidence: float | None, aggregate: bool) -> None:
    check_horizon(horizon, limit, f"{call.name}'s horizon")
    if confidence is None:
        return
    if aggregate:
        raise InvalidOptionError(
            f"{call.name}'s confidence_level applies only with perform_aggregation=FALSE (the per-point rows' bounds).",
            option="confidence_level",
            hint="Add FALSE AS perform_aggregation to the STRUCT, or drop confidence_level.",
        )
    if not 0 <= confidence < 1:
        raise InvalidOptionError(f"{call.name}'s confidence_level must be in [0, 1). Got {confidence} instead.", option="confidence_level")


def _trials_table(model: Model, columns: tuple[str, ...]) -> pa.Table:
    """Without input data a tuned model reports every trial's metrics, on the test split."""
    trials = [t for t in model.spec["trials"] if t.get("metrics")]
    table = {"trial_id": pa.array([t["trial_id"] for t in trials], pa.int64())}
    table.update({name: pa.array([t["metrics"].get(name) for t in trials], pa.float64()) for name in columns})
    return pa.table(table)


def _stored_metrics(model: Model, trial_id: int | None) -> dict:
    if trial_id is None or not model.is_tuned:
        return dict(model.spec["metrics"])
    return next(t["metrics"] for t in model.spec["trials"] if t["trial_id"] == trial_id)


@function("CONFUSION_MATRIX")
def confusion_matrix(call: Call) -> pa.Table:
    """``ML.CONFUSION_MATRIX(MODEL m [, data] [, STRUCT(threshold, trial_id)])``: expected_label, one
    count per class ([``trial_id``] first for a tuned model, :mod:`sqlml.ml.functions.trial_column`)."""
    model = call.require(what="a classification model")
    settings = call.settings({"threshold": float, "trial_id": int})
    threshold = settings.get("threshold")
    data = call.data(0, required=False)
    if threshold is not None and data is None:
        raise InvalidOptionError("The threshold setting of ML.CONFUSION_MATRIX needs input data.", option="threshold")
    check_threshold(model, threshold, call.name)
    estimator = model.estimator_for(settings.get("trial_id"))
    classes = model.classes()
    k = len(classes)
    rows = evaluation_rows(call, model, settings.get("trial_id"), threshold) if data is not None else None
    if rows is not None:  # counted where the data is (Spark)
        counts, _ = rows.confusion()
    else:
        y, raw = labelled_outputs(call, model, estimator) if data is not None else stored_outputs(model, settings.get("trial_id"))
        counts = metrics.confusion_counts(y, predicted_class_index(raw, threshold), k) if len(y) else np.zeros((k, k), np.int64)
    columns = {"expected_label": classes}
    for name, index in zip(column_names(classes.to_pylist()), range(k)):
        columns[name] = pa.array(counts[:, index], pa.int64())
    return with_trial_table(pa.table(columns), served_trial(model, settings.get("trial_id")))


def column_names(classes: list) -> list[str]:
    """Class labels as column names: legal names kept, others sanitized and made unique (0 → _0)."""
    names, seen = [], set()
    for value in classes:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        name = re.sub(r"[^A-Za-z0-9_]", "_", text)  # a label's text, not SQL
        if not name or not (name[0].isalpha() or name[0] == "_"):
            name = "_" + name
        candidate, suffix = name, 1
        while candidate.lower() in seen or candidate.lower() == "expected_label":
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate.lower())
        names.append(candidate)
    return names


@function("ROC_CURVE")
def roc_curve(call: Call) -> pa.Table:
    """``ML.ROC_CURVE(MODEL m [, data] [, GENERATE_ARRAY(…)])`` for binary classifiers."""
    model = call.require(what="a binary classification model")
    if len(model.label["classes"]) != 2:
        raise InvalidModelInputError(
            f"ML.ROC_CURVE needs a binary classification model; {call.record.dataset}.{call.record.name} has "
            f"{len(model.label['classes'])} classes.",
            hint="Use ML.CONFUSION_MATRIX for multiclass models.",
        )
    trial_id = call.settings({"trial_id": int}).get("trial_id")
    estimator = model.estimator_for(trial_id)
    data = call.data(0, required=False)
    rows = evaluation_rows(call, model, trial_id, None) if data is not None else None
    trial = served_trial(model, trial_id)
    if rows is not None:  # counted where the data is (Spark)
        return with_trial_table(pa.table(rows.roc(_given_thresholds(call))), trial)
    y, raw = labelled_outputs(call, model, estimator) if data is not None else stored_outputs(model, trial_id)
    scores = raw[:, 1] if len(raw) else np.array([])
    thresholds = _given_thresholds(call)
    points = metrics.roc_points(np.asarray(y), scores, metrics.default_thresholds(scores) if thresholds is None else thresholds)
    return with_trial_table(pa.table(points), trial)


def _given_thresholds(call: Call) -> np.ndarray | None:
    """The thresholds the call gives (its GENERATE_ARRAY(…) argument), None when it gives none."""
    others = call.node.other_arguments
    if not others:
        return None
    values = constant_value(call, others[0])
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) for v in values):
        raise InvalidOptionError("ML.ROC_CURVE's thresholds must be an array of numbers, e.g. GENERATE_ARRAY(0, 1, 0.01).")
    return np.asarray(values, dtype=np.float64)
