"""Model inspection: ML.TRAINING_INFO, ML.FEATURE_INFO, ML.WEIGHTS, ML.CENTROIDS,
ML.PRINCIPAL_COMPONENTS and ML.PRINCIPAL_COMPONENT_INFO, with BigQuery's columns.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights (and the
pages of the other functions). Weights and centroids are reported per processed input: a numeric
column has a ``weight``/``numerical_value``; a categorical one has one entry per category (NULL
shown as ``_null_filler``, a dropped dummy category with weight 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.errors import ModelError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.base import Target
from sqlml.ml.models.linear_p_values import p_value
from sqlml.ml.preprocessing.automatic.array_encoders import ArrayEncoder, MultiHotEncoder, SparseEncoder
from sqlml.ml.preprocessing.automatic.encoders import CategoricalEncoder, NumericEncoder, TimestampEncoder
from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor

INTERCEPT = "__INTERCEPT__"
_CATEGORY_WEIGHT = pa.struct([pa.field("category", pa.string()), pa.field("weight", pa.float64())])
_CATEGORY_VALUE = pa.struct([pa.field("category", pa.string()), pa.field("value", pa.float64())])


@dataclass
class Block:
    """A processed input: its name, its feature indices and, if categorical, its categories."""

    name: str
    indices: list[int]
    categories: list[str] | None = None  # None: numeric
    encoder: object = None
    dropped: str | None = None

    @property
    def numeric(self) -> bool:
        return self.categories is None


def blocks(preprocessor: Preprocessor) -> Iterator[Block]:
    """The processed inputs of a preprocessor, in feature order."""
    start = 0
    for encoder in preprocessor.encoders:
        parts = [encoder.epoch, *encoder.components] if isinstance(encoder, TimestampEncoder) else [encoder]
        for part in parts:
            width = len(part.feature_names)
            indices = list(range(start, start + width))
            if isinstance(part, (ArrayEncoder, SparseEncoder)):
                for offset, name in enumerate(part.feature_names):
                    yield Block(name, [indices[offset]], None, part)
            elif isinstance(part, CategoricalEncoder):
                yield Block(part.name, indices, part.columns, part, part.dropped)
            elif isinstance(part, MultiHotEncoder):
                yield Block(part.name, indices, part.vocabulary, part)
            else:
                yield Block(part.name, indices, None, part)
            start += width


def _scale(block: Block, position: int = 0) -> tuple[float, float]:
    """(mean, std) that standardized a numeric feature, or (0, 1) if it was not standardized."""
    encoder = block.encoder
    if isinstance(encoder, NumericEncoder) and encoder.standardize:
        return encoder.mean, encoder.std
    if isinstance(encoder, ArrayEncoder) and encoder.standardize:
        k = int(block.name.rsplit("_", 1)[1])
        return encoder.means[k], encoder.stds[k]
    return 0.0, 1.0


@function("TRAINING_INFO")
def training_info(call: Call) -> pa.Table:
    """One row per training iteration (one row in all for a forecasting model)."""
    model = call.model
    if model.target is Target.FORECASTING:
        return _forecasting_training_info(model.spec)
    if model.is_tuned:
        raise ModelError(
            "ML.TRAINING_INFO does not support models trained with num_trials.",
            model=str(call.ref),
            hint=f"Use SELECT * FROM ML.TRIAL_INFO(MODEL {call.ref}).",
        )
    rows = model.spec.get("training_info", [])
    columns = {
        "training_run": pa.array([r["training_run"] for r in rows], pa.int64()),
        "iteration": pa.array([r["iteration"] for r in rows], pa.int64()),
        "loss": pa.array([r["loss"] for r in rows], pa.float64()),
    }
    if model.family.reports_eval_loss:
        columns["eval_loss"] = pa.array([r["eval_loss"] for r in rows], pa.float64())
    columns["learning_rate"] = pa.array([r["learning_rate"] for r in rows], pa.float64())
    columns["duration_ms"] = pa.array([r["duration_ms"] for r in rows], pa.int64())
    columns.update(model.family.training_info_extras(rows))
    return pa.table(columns)


def _forecasting_training_info(spec: dict) -> pa.Table:
    """A time-series model's one row: "training_run, iteration and duration_ms" only
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-train), the
    duration being the whole fit's, recorded as ``training_seconds`` like the other models' total."""
    seconds = spec.get("training_seconds")
    return pa.table({
        "training_run": pa.array([0], pa.int64()),
        "iteration": pa.array([0], pa.int64()),
        "duration_ms": pa.array([None if seconds is None else round(seconds * 1000)], pa.int64()),
    })  # fmt: skip


@function("FEATURE_INFO")
def feature_info(call: Call) -> pa.Table:
    """Statistics of each input column, captured at training (pre-TRANSFORM)."""
    rows = call.model.spec.get("feature_info")
    if rows is None:  # a time-series model (ARIMA_PLUS) has no feature columns
        raise ModelError(
            f"ML.FEATURE_INFO does not support {call.model.model_type} models: they have no feature columns.",
            model=str(call.ref),
        )
    floats = ("min", "max", "mean", "median", "stddev")
    columns = {"input": pa.array([r["input"] for r in rows], pa.string())}
    columns.update({key: pa.array([r[key] for r in rows], pa.float64()) for key in floats})
    for key in ("category_count", "null_count", "dimension"):
        columns[key] = pa.array([r[key] for r in rows], pa.int64())
    return pa.table(columns)


@function("WEIGHTS")
def weights(call: Call) -> pa.Table:
    """``ML.WEIGHTS(MODEL m [, STRUCT(standardize)])`` for linear and logistic regression and
    matrix factorization (:func:`sqlml.ml.recommendation.stored.weights_table`)."""
    model = call.require()
    standardize = call.settings({"standardize": bool}).get("standardize", False)
    if model.target is Target.RECOMMENDATION:
        from sqlml.ml.recommendation.stored import factorization_of, weights_table

        return pa.concat_tables([_with_trial(weights_table(factorization_of(model, trial_id)), trial_id) for trial_id, _ in _trials(model)])
    multiclass = model.task.kind == "multiclass"
    pieces = []
    for trial_id, estimator in _trials(model):
        piece = _weights_of(model, estimator, standardize, multiclass)
        pieces.append(_with_trial(piece, trial_id))
    return pa.concat_tables(pieces)


def _trials(model):
    """(trial_id, estimator) of every successful trial of a tuned model, else (None, the estimator)."""
    if model.is_tuned:
        return sorted(model.trial_estimators.items())
    return [(None, model.estimator)]


def _with_trial(table: pa.Table, trial_id: int | None) -> pa.Table:
    """A leading trial_id column for tuned models (BigQuery returns every trial without input)."""
    if trial_id is None:
        return table
    return table.add_column(0, "trial_id", pa.array([trial_id] * table.num_rows, pa.int64()))


def _weights_of(model, estimator, standardize: bool, multiclass: bool) -> pa.Table:
    coef = np.atleast_2d(estimator.coef_)
    intercepts = np.atleast_1d(estimator.intercept_)
    class_labels = [str(c) for c in model.label["classes"]] if multiclass else [None]
    records = []
    for k, class_label in enumerate(class_labels):
        row_coef, intercept = coef[k], float(intercepts[k])
        for block in blocks(model.preprocessor):
            if block.numeric:
                mean, std = _scale(block)
                weight = row_coef[block.indices[0]]
                if not standardize:
                    weight, intercept = weight / std, intercept - weight * mean / std
                records.append((block.name, float(weight), [], class_label))
            else:
                entries = [{"category": c, "weight": float(row_coef[i])} for c, i in zip(block.categories, block.indices)]
                if block.dropped is not None:
                    entries.append({"category": block.dropped, "weight": 0.0})
                    entries.sort(key=lambda e: e["category"])
                records.append((block.name, None, entries, class_label))
        records.append((INTERCEPT, intercept, [], class_label))
    columns = {
        "processed_input": pa.array([r[0] for r in records], pa.string()),
        "weight": pa.array([r[1] for r in records], pa.float64()),
        "category_weights": pa.array([r[2] for r in records], pa.list_(_CATEGORY_WEIGHT)),
    }
    if multiclass:
        columns["class_label"] = pa.array([r[3] for r in records], pa.string())
    return pa.table(columns)


@function("ADVANCED_WEIGHTS")
def advanced_weights(call: Call) -> pa.Table:
    """``ML.ADVANCED_WEIGHTS(MODEL m [, STRUCT(standardize)])``: weights with standard errors and
    p-values (:mod:`sqlml.ml.models.linear_p_values`), one row per numeric input, per category and the intercept.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-advanced-weights —
    a dropped dummy category has weight 0 and NaN standard error and p-value
    (https://cloud.google.com/bigquery/docs/auto-preprocessing#dummy_encoding); the intercept has
    them only with ``standardize`` (NULL otherwise)."""
    model = call.require()
    covariance = model.arrays.get("weight_covariance")
    if covariance is None:
        raise call.trained_without(
            "calculate_p_values=TRUE", "Re-train it with OPTIONS(…, calculate_p_values=TRUE, category_encoding_method='DUMMY_ENCODING')."
        )
    standardize = call.settings({"standardize": bool}).get("standardize", False)
    coef = np.ravel(model.estimator.coef_)
    intercept_index = len(coef)
    # Unstandardized weights are a linear map of the standardized ones: w/std, and the intercept
    # minus Σ w·mean/std; their covariance follows through the same map.
    transform = np.eye(len(coef) + 1)
    records = []
    for block in blocks(model.preprocessor):
        if block.numeric:
            mean, std = (0.0, 1.0) if standardize else _scale(block)
            index = block.indices[0]
            transform[index, index] = 1.0 / std
            transform[intercept_index, index] = -mean / std
            records.append((block.name, None, index))
        else:
            entries = [(c, i) for c, i in zip(block.categories, block.indices)]
            if block.dropped is not None:
                entries.append((block.dropped, None))
            records += [(block.name, category, index) for category, index in sorted(entries, key=lambda e: e[0])]
    records.append((INTERCEPT, None, intercept_index))
    weights = transform @ np.append(coef, float(np.ravel(model.estimator.intercept_)[0]))
    errors = np.sqrt(np.clip(np.diag(transform @ covariance @ transform.T), 0.0, None))
    rows = []
    for name, category, index in records:
        weight = float(weights[index]) if index is not None else 0.0
        error = float(errors[index]) if index is not None else float("nan")
        row = {"processed_input": name, "category": category, "weight": weight, "standard_error": error, "p_value": p_value(weight, error)}
        if index == intercept_index and not standardize:
            # "Because un-standardizing the standard error for the intercept column is computationally
            # expensive, the standard error and p-value aren't provided" (the page's note): NULL.
            row.update(standard_error=None, p_value=None)
        rows.append(row)
    schema = pa.schema([("processed_input", pa.string()), ("category", pa.string()), ("weight", pa.float64()),
                        ("standard_error", pa.float64()), ("p_value", pa.float64())])  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


@function("CENTROIDS")
def centroids(call: Call) -> pa.Table:
    """``ML.CENTROIDS(MODEL m [, STRUCT(standardize)])``: one row per (centroid, feature)."""
    model = call.require()
    standardize = call.settings({"standardize": bool}).get("standardize", False)
    return pa.concat_tables([_with_trial(_centroids_of(model, estimator, standardize), trial_id) for trial_id, estimator in _trials(model)])


def _centroids_of(model, estimator, standardize: bool) -> pa.Table:
    records = []
    for index, centroid in enumerate(estimator.centroids_, start=1):
        for block in blocks(model.preprocessor):
            if block.numeric:
                value = float(centroid[block.indices[0]])
                if not standardize:
                    mean, std = _scale(block)
                    value = value * std + mean
                records.append((index, block.name, value, []))
            else:
                entries = [{"category": c, "value": float(centroid[i])} for c, i in zip(block.categories, block.indices)]
                records.append((index, block.name, None, entries))
    return pa.table({
        "centroid_id": pa.array([r[0] for r in records], pa.int64()),
        "feature": pa.array([r[1] for r in records], pa.string()),
        "numerical_value": pa.array([r[2] for r in records], pa.float64()),
        "categorical_value": pa.array([r[3] for r in records], pa.list_(_CATEGORY_VALUE)),
        "geography_value": pa.nulls(len(records), pa.string()),
    })  # fmt: skip


@function("PRINCIPAL_COMPONENTS")
def principal_components(call: Call) -> pa.Table:
    """Loadings: one row per (component, feature), components by decreasing eigenvalue, 0-based."""
    model = call.require()
    records = []
    for index, component in enumerate(model.estimator.components_):
        for block in blocks(model.preprocessor):
            if block.numeric:
                records.append((index, block.name, float(component[block.indices[0]]), []))
            else:
                entries = [{"category": c, "value": float(component[i])} for c, i in zip(block.categories, block.indices)]
                records.append((index, block.name, None, entries))
    return pa.table({
        "principal_component_id": pa.array([r[0] for r in records], pa.int64()),
        "feature": pa.array([r[1] for r in records], pa.string()),
        "numerical_value": pa.array([r[2] for r in records], pa.float64()),
        "categorical_value": pa.array([r[3] for r in records], pa.list_(_CATEGORY_VALUE)),
    })  # fmt: skip


@function("PRINCIPAL_COMPONENT_INFO")
def principal_component_info(call: Call) -> pa.Table:
    """Eigenvalue and (cumulative) explained variance ratio of each kept component."""
    estimator = call.require().estimator
    k = len(estimator.components_)
    ratio = estimator.explained_variance_ratio
    return pa.table({
        "principal_component_id": pa.array(range(k), pa.int64()),
        "eigenvalue": pa.array(estimator.eigenvalues_[:k], pa.float64()),
        "explained_variance_ratio": pa.array(ratio, pa.float64()),
        "cumulative_explained_variance_ratio": pa.array(np.cumsum(ratio), pa.float64()),
    })  # fmt: skip
