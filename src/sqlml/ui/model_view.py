"""The model page's figures: every version side by side (ML.VERSIONS), and for one version its
ML.EVALUATE metrics, training curve (ML.TRAINING_INFO) and ``sqlml report``'s charts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from markupsafe import Markup

import sqlml
from sqlml.errors import NotFoundError
from sqlml.report import charts
from sqlml.report.collect import collect
from sqlml.report.figures import Figures, draw, html_table
from sqlml.store.records import ModelRef, VersionRecord
from sqlml.ui.registry_view import rollback_target

#: ML.VERSIONS columns shown as rows of the side-by-side table, before the metrics and options.
VERSION_FIELDS = ("aliases", "created_at", "creator", "model_type", "training_rows", "eval_rows", "training_seconds", "data_fingerprint", "input_tables")
#: ML.VERSIONS columns that are not metrics.
_NOT_METRICS = {"version", "options", "training_query", "training_statement", "training_parameters", *VERSION_FIELDS}


@dataclass
class Row:
    """One line of the side-by-side table: a field and its value in each version."""

    label: str
    values: list
    differs: bool


def row(label: str, values: list) -> Row:
    """A row of ``values``, marked when they are not all the same."""
    return Row(label, values, len({json.dumps(v, default=str, sort_keys=True) for v in values}) > 1)


def side_by_side(versions: list[dict]) -> tuple[list[Row], list[Row], list[Row], list[Row]]:
    """The versions' fields, metrics, options that differ between them and options they share."""
    fields = [row(f, [v.get(f) for v in versions]) for f in VERSION_FIELDS]
    metric_names = [k for k in (versions[0] if versions else {}) if k not in _NOT_METRICS]
    metrics = [row(m, [v.get(m) for v in versions]) for m in metric_names]
    options = [json.loads(v["options"] or "{}") for v in versions]
    names = sorted({k for o in options for k in o})
    all_options = [row(n, [o.get(n) for o in options]) for n in names]
    return fields, metrics, [r for r in all_options if r.differs], [r for r in all_options if not r.differs]


@dataclass
class ModelPage:
    """Everything the model page shows."""

    dataset: str
    name: str
    versions: list[dict]
    record: VersionRecord
    metrics: dict
    figures: Figures
    fields: list[Row]
    metric_rows: list[Row]
    differing_options: list[Row]
    shared_options: list[Row]
    aliases: dict[str, int]
    rollbacks: dict[str, int | None]
    training_curve: Markup | None = None
    fairness: Markup | None = None
    skew: Markup | None = None
    tuned: bool = False
    notes: list[str] = field(default_factory=list)


def model_page(con: sqlml.Connection, dataset: str, name: str, version: int | None = None, data: str | None = None,
               sensitive_feature: str | None = None) -> ModelPage:  # fmt: skip
    """The page of ``dataset.name`` showing ``version`` (default: the current one) in detail.

    Raises:
        ModelNotFoundError: no such model or version.
    """
    ref = ModelRef.parse(f"{dataset}.{name}" + (f"@{version}" if version is not None else ""))
    record = con.models.resolve(ref)
    quoted = f"`{ref.dataset}.{ref.name}@{record.version}`"
    versions = con.query(f"SELECT * FROM ML.VERSIONS(MODEL {quoted})").arrow().to_pylist()
    model = next(m for m in con.models.models(ref.dataset) if m.name == ref.name)
    tuned = bool((record.metadata.get("options") or {}).get("num_trials"))
    if data and con.relation_kind(data) is None:  # also keeps anything but a table name out of the SQL
        raise NotFoundError(f"No table or view {data} to check fairness and skew on.", hint="Name an existing dataset.table in the form.")
    notes: list[str] = []
    try:
        report = collect(con, f"{ref.dataset}.{ref.name}@{record.version}", data or None, sensitive_feature or None)
        metrics, figures = report.metrics, draw(report)
        fairness = html_table(report.fairness) if report.fairness is not None else None
        skew = html_table(report.skew) if report.skew is not None else None
        notes += [n.replace("run sqlml report with --data TABLE (and --sensitive-feature COLUMN)", "fill in the form below") for n in report.notes]
    except sqlml.Error as error:  # a model type ML.EVALUATE cannot judge without data
        metrics, figures, fairness, skew = {}, Figures(), None, None
        notes.append(f"No evaluation: {error.args[0]}")
    page = ModelPage(
        ref.dataset, ref.name, versions, record, metrics, figures, *side_by_side(versions), model.aliases,
        {alias: rollback_target(con, ref.dataset, ref.name, alias) for alias in model.aliases}, fairness=fairness, skew=skew,
        tuned=tuned, notes=notes,
    )  # fmt: skip
    if not tuned:
        page.training_curve = training_curve(con, quoted)
    return page


def training_curve(con: sqlml.Connection, quoted_model: str) -> Markup | None:
    """The loss by iteration of a model that records more than one iteration, else None."""
    try:
        table = con.query(f"SELECT * FROM ML.TRAINING_INFO(MODEL {quoted_model}) ORDER BY iteration").arrow()
    except sqlml.Error:  # a model type without iterations
        return None
    if "loss" not in table.column_names or table.num_rows < 2:
        return None
    return Markup(charts.training_curve(table))
