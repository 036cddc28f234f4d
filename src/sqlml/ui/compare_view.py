"""The compare page: two or more versions of a model (ML.VERSIONS) or the trials of a tuned
version (ML.TRIAL_INFO), their metrics and options diffed, and a parallel-coordinates chart of the
hyperparameters that differ against the objective."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

import sqlml
from sqlml.report import charts
from sqlml.store.records import ModelRef
from sqlml.ui.model_view import Row, row, side_by_side
from sqlml.ui.registry_view import headline
from sqlml.ui.web import Refused


@dataclass
class Comparison:
    """What the compare page shows; ``labels`` name the columns (``v3``, ``trial 2``)."""

    dataset: str
    name: str
    labels: list[str]
    metrics: list[Row]
    differing: list[Row]
    shared: list[Row]
    objective: str | None
    chart: Markup | None
    trials_of: int | None = None
    all_trials: list[int] | None = None  # the tuned version's trial ids, to pick from


def compare_versions(con: sqlml.Connection, dataset: str, name: str, versions: list[int]) -> Comparison:
    """Versions ``versions`` of ``dataset.name`` side by side.

    Raises:
        Refused: fewer than two versions picked, or one the model does not have.
    """
    ref = ModelRef.parse(f"{dataset}.{name}")
    picked = sorted(set(versions))
    if len(picked) < 2:
        raise Refused(400, "Pick two or more versions to compare.", hint=f"For example /compare?model={ref}&version=1&version=2.")
    rows = con.query(f"SELECT * FROM ML.VERSIONS(MODEL {ref})").arrow().to_pylist()
    missing = sorted(set(picked) - {r["version"] for r in rows})
    if missing:
        raise Refused(404, f"Model {ref} has no version {', '.join(map(str, missing))}.", hint=f"Versions: {', '.join(str(r['version']) for r in rows)}.")
    chosen = [r for r in rows if r["version"] in picked]
    _, metrics, differing, shared = side_by_side(chosen)
    labels = [f"v{r['version']}" for r in chosen]
    objective = headline({m.label: m.values[0] for m in metrics})
    return Comparison(ref.dataset, ref.name, labels, metrics, differing, shared, objective, _chart(differing, metrics, objective, labels))


def compare_trials(con: sqlml.Connection, dataset: str, name: str, version: int | None, trials: list[int]) -> Comparison:
    """The trials of a tuned version (all of them, or those in ``trials``) side by side.

    Raises:
        ModelError: the version was not trained with num_trials (ML.TRIAL_INFO's message).
    """
    ref = ModelRef.parse(f"{dataset}.{name}" + (f"@{version}" if version is not None else ""))
    record = con.models.resolve(ref)
    found = con.query(f"SELECT * FROM ML.TRIAL_INFO(MODEL `{ref.dataset}.{ref.name}@{record.version}`) ORDER BY trial_id").arrow().to_pylist()
    chosen = [t for t in found if not trials or t["trial_id"] in trials]
    labels = [f"trial {t['trial_id']}" + (" (optimal)" if t["is_optimal"] else "") for t in chosen]

    def rows(key: str) -> list[Row]:
        names = list((chosen[0][key] or {}) if chosen else {})
        return [row(n, [(t[key] or {}).get(n) for t in chosen]) for n in names]

    metrics = rows("hparam_tuning_evaluation_metrics") + [row(k, [t[k] for t in chosen]) for k in ("training_loss", "eval_loss", "status")]
    hyperparameters = rows("hyperparameters")
    objective = headline({m.label: m.values[0] for m in metrics if m.values and isinstance(m.values[0], float)})
    return Comparison(
        ref.dataset, ref.name, labels, metrics, [h for h in hyperparameters if h.differs], [h for h in hyperparameters if not h.differs],
        objective, _chart(hyperparameters, metrics, objective, labels), trials_of=record.version, all_trials=[t["trial_id"] for t in found],
    )  # fmt: skip


def _chart(parameters: list[Row], metrics: list[Row], objective: str | None, labels: list[str]) -> Markup | None:
    """The parallel-coordinates chart of the scalar parameters that differ, against the objective."""
    axes = [p for p in parameters if p.differs and all(v is None or isinstance(v, (int, float, str, bool)) for v in p.values)]
    target = next((m for m in metrics if m.label == objective), None)
    if target is None or not labels:
        return None
    runs = [{**{p.label: p.values[i] for p in axes}, objective: target.values[i]} for i in range(len(labels))]
    return Markup(charts.parallel_coordinates([p.label for p in axes], runs, objective, labels))
