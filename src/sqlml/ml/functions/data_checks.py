"""ML.VALIDATE_DATA_SKEW and ML.VALIDATE_DATA_DRIFT: have the data moved away from what the model
learned on, or from an earlier batch?

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-validate-data-skew
and …-validate-data-drift: one row per compared column — ``input``, ``metric``, ``threshold``,
``value``, ``is_anomaly`` (value > threshold), and ``visualization_link`` (STRING) when asked for — with
``enable_visualization_link=TRUE`` (SKEW) or a ``MODEL`` argument (DRIFT) — which is NULL here, as
there is no Vertex AI model monitor to link to. Defaults are BigQuery's: L_INFTY for categorical
columns, JENSEN_SHANNON_DIVERGENCE for numeric ones, threshold 0.3, ``thresholds`` overriding per
column. SKEW compares with the distributions CREATE MODEL captured from the training rows
(:mod:`sqlml.ml.monitoring.distributions`); DRIFT compares two queries (base first, then study).
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidOptionError, ModelError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.base import Target
from sqlml.ml.monitoring.distributions import distance, kind_of, profile, shared_edges
from sqlml.ml.monitoring.thresholds import anomaly_rules

_COMMON = {
    "categorical_default_threshold": float, "categorical_metric_type": str, "numerical_default_threshold": float,
    "numerical_metric_type": str, "thresholds": list,
}  # fmt: skip
_SKEW = {**_COMMON, "enable_visualization_link": bool}
# DRIFT has no enable_visualization_link: its MODEL argument asks for the link
_DRIFT = {
    **_COMMON, "num_histogram_buckets": int, "num_quantiles_histogram_buckets": int, "num_values_histogram_buckets": int,
    "num_rank_histogram_buckets": int,
}  # fmt: skip
_SCHEMA = pa.schema([("input", pa.string()), ("metric", pa.string()), ("threshold", pa.float64()), ("value", pa.float64()), ("is_anomaly", pa.bool_())])


@function("VALIDATE_DATA_SKEW")
def validate_data_skew(call: Call) -> pa.Table:
    """``ML.VALIDATE_DATA_SKEW(MODEL m, data [, STRUCT(…)])``: serving rows vs the training rows."""
    model = call.model
    if model.family.target(model.model_type) is Target.FORECASTING:
        # skew is computed "for feature columns in the serving data that match feature columns in
        # the training data" (the page above); a time-series model has none, so it would compare nothing
        raise ModelError(
            f"{call.name} does not support {model.model_type} models: a time-series model keeps no training statistics "
            f"of features to compare with. {call.record.dataset}.{call.record.name} is {model.model_type}.",
            model=str(call.ref),
            hint="Compare new rows with earlier ones by ML.VALIDATE_DATA_DRIFT, or measure the forecasts on held-back data by ML.EVALUATE.",
        )
    training = model.spec.get("training_distributions")
    if training is None:
        raise call.trained_without("training statistics (sqlml keeps them since 2026-12)", "Re-train it with CREATE OR REPLACE MODEL.")
    settings = call.settings(_SKEW)
    rules = anomaly_rules(call.name, settings)
    data = call.data(0).table()
    columns = {name.lower(): name for name in data.column_names}
    rows = []
    for name, reference in training.items():
        if name.lower() not in columns:
            continue
        edges = reference.get("edges")
        study = profile(data.column(columns[name.lower()]).combine_chunks(), edges=edges)
        if study is not None and study["kind"] == reference["kind"]:
            rows.append(_row(name, reference, study, rules))
    return _table(rows, settings.get("enable_visualization_link", False))


@function("VALIDATE_DATA_DRIFT")
def validate_data_drift(call: Call) -> pa.Table:
    """``ML.VALIDATE_DATA_DRIFT(base, study [, STRUCT(…)] [, MODEL m])``: one batch of rows vs another."""
    settings = call.settings(_DRIFT)
    buckets = settings.get("num_histogram_buckets", 10)
    if not 1 <= buckets <= 1_000_000:
        raise InvalidOptionError(f"num_histogram_buckets must be between 1 and 1,000,000; got {buckets}.", option="num_histogram_buckets")
    rules = anomaly_rules(call.name, settings)
    base, study = call.data(0).table(), call.data(1).table()
    study_columns = {name.lower(): name for name in study.column_names}
    rows = []
    for name in base.column_names:
        if name.lower() not in study_columns:
            continue
        left, right = base.column(name).combine_chunks(), study.column(study_columns[name.lower()]).combine_chunks()
        if kind_of(left.type) is None or kind_of(left.type) != kind_of(right.type):
            continue
        edges = shared_edges(left, right, buckets) if kind_of(left.type) == "numeric" else None
        rows.append(_row(name, profile(left, edges=edges), profile(right, edges=edges), rules))
    return _table(rows, call.node.model is not None)


def _table(rows: list[dict], with_link: bool) -> pa.Table:
    """The output rows, with a NULL ``visualization_link`` column when BigQuery would add one."""
    table = pa.Table.from_pylist(rows, schema=_SCHEMA)
    if with_link:
        table = table.append_column(pa.field("visualization_link", pa.string()), pa.nulls(table.num_rows, pa.string()))
    return table


def _row(name: str, reference: dict, other: dict, rules: dict) -> dict:
    kind = reference["kind"]
    metric = rules["metric"][kind]
    threshold = rules["columns"].get(name.lower(), rules["default"][kind])
    value = distance(reference, other, metric)
    return {"input": name, "metric": metric, "threshold": threshold, "value": value, "is_anomaly": value > threshold}
