"""The figures a model report shows, each read with the ML function a user would run."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

import sqlml
from sqlml.ml.models.base import Target
from sqlml.ml.models.catalog import family_of
from sqlml.store.records import ModelRef


@dataclass
class ReportData:
    """Everything the page shows; a section is None when it does not apply or was not asked for."""

    model: str
    record: object
    metrics: dict
    confusion: pa.Table | None = None
    roc: pa.Table | None = None
    importance: pa.Table | None = None
    importance_kind: str = ""
    fairness: pa.Table | None = None
    sensitive_feature: str | None = None
    skew: pa.Table | None = None
    notes: list[str] = field(default_factory=list)


def collect(con: sqlml.Connection, model: str, data: str | None = None, sensitive_feature: str | None = None,
            privileged_group: str | None = None) -> ReportData:  # fmt: skip
    """Read the model's figures; fairness and skew need ``data`` (a table holding the label)."""
    record = con.models.resolve(ModelRef.parse(model))
    name = f"`{model}`" if "@" in model else model
    model_type = record.model_type.upper()
    report = ReportData(model, record, _evaluation(con, name))
    family = family_of(model_type)
    classifier = family.target(model_type) is Target.CLASSIFICATION
    if classifier:
        # a tuned model's start with the served trial's trial_id, which the charts do not draw
        report.confusion = _without_trial(con.query(f"SELECT * FROM ML.CONFUSION_MATRIX(MODEL {name})").arrow())
        if len((record.metadata.get("label") or {}).get("classes") or []) == 2:
            report.roc = _without_trial(con.query(f"SELECT * FROM ML.ROC_CURVE(MODEL {name}) ORDER BY threshold DESC").arrow())
    if family.supports("FEATURE_IMPORTANCE", model_type):
        report.importance = con.query(f"SELECT feature, importance_gain AS value FROM ML.FEATURE_IMPORTANCE(MODEL {name})").arrow()
        report.importance_kind = "average split gain (ML.FEATURE_IMPORTANCE)"
    elif family.supports("WEIGHTS", model_type):
        report.importance = con.query(
            f"SELECT processed_input AS feature, ABS(weight) AS value FROM ML.WEIGHTS(MODEL {name}, STRUCT(TRUE AS standardize)) "
            "WHERE weight IS NOT NULL AND processed_input <> '__INTERCEPT__'"
        ).arrow()
        report.importance_kind = "absolute standardized weight (ML.WEIGHTS)"
    if data is None:
        report.notes.append("Fairness and skew need data: run sqlml report with --data TABLE (and --sensitive-feature COLUMN).")
        return report
    if con.relation_kind(data) is None:
        raise sqlml.NotFoundError(f"No table or view {data} to check fairness and skew on.", hint="Pass an existing dataset.table with --data.")
    report.skew = con.query(f"SELECT * FROM ML.VALIDATE_DATA_SKEW(MODEL {name}, TABLE {data})").arrow()
    if sensitive_feature and classifier:
        settings = "@feature AS sensitive_feature" + (", @privileged AS privileged_group" if privileged_group else "")
        report.fairness = con.query(
            f"SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL {name}, TABLE {data}, STRUCT({settings}))",
            {"feature": sensitive_feature, "privileged": privileged_group},
        ).arrow()
        report.sensitive_feature = sensitive_feature
    elif sensitive_feature:
        report.notes.append("Fairness applies to binary classifiers.")
    return report


def _without_trial(table: pa.Table) -> pa.Table:
    return table.drop_columns(["trial_id"]) if "trial_id" in table.column_names else table


def _evaluation(con: sqlml.Connection, name: str) -> dict:
    """ML.EVALUATE's row; of a tuned model, which has one per trial, the optimal trial's (the one
    it predicts with, whose ROC curve the report draws)."""
    rows = con.query(f"SELECT * FROM ML.EVALUATE(MODEL {name})").arrow().to_pylist()
    if rows and "trial_id" in rows[0]:
        optimal = con.query(f"SELECT trial_id FROM ML.TRIAL_INFO(MODEL {name}) WHERE is_optimal").scalar()
        rows = [row for row in rows if row["trial_id"] == optimal]
    return rows[0] if rows else {}

