"""The model registry as the models page lists it, and the alias moves of the model page.

Every move runs the SQL a user would write, ``ALTER MODEL `ds.m@v` SET OPTIONS(version_aliases=[…])``,
and hands that text back for the page to show.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlml
from sqlml.errors import InvalidOptionError
from sqlml.store.records import ALIAS_RULE, ModelRef, alias_problem

#: The metric the models page shows for a model: the first of these its current version has
#: (the classifier's ranking figure, then accuracy, a regressor's R², a clustering's index),
#: else its first metric.
HEADLINE_METRICS = ("roc_auc", "accuracy", "r2_score", "mean_absolute_error", "davies_bouldin_index", "mean_squared_error")


@dataclass
class ModelRow:
    """One line of the models page: a model and its current (``default``) version."""

    dataset: str
    name: str
    model_type: str
    version: int
    versions: int
    aliases: dict[str, int]
    metric: str | None
    value: float | None
    trained_at: str
    creator: str | None


def headline(metrics: dict) -> str | None:
    """The name of the metric that stands for ``metrics`` (see :data:`HEADLINE_METRICS`)."""
    return next((m for m in HEADLINE_METRICS if metrics.get(m) is not None), next(iter(metrics), None))


def model_rows(con: sqlml.Connection) -> list[ModelRow]:
    """Every model of the store with its current version, by dataset and name."""
    rows = []
    for model, current in con.models.current_versions():
        metrics = current.metadata.get("metrics") or {}
        metric = headline(metrics)
        rows.append(ModelRow(
            model.dataset, model.name, current.model_type, current.version, len(model.versions), model.aliases, metric,
            metrics.get(metric) if metric else None, current.created_at, current.creator,
        ))  # fmt: skip
    return rows


def alias_sql(dataset: str, name: str, version: int, alias: str) -> str:
    """The statement that points ``alias`` of ``dataset.name`` at ``version``."""
    return f"ALTER MODEL `{dataset}.{name}@{version}` SET OPTIONS(version_aliases=['{alias}'])"


def move_alias(con: sqlml.Connection, dataset: str, name: str, version: int, alias: str) -> str:
    """Point ``alias`` at ``version`` with ALTER MODEL; return the statement run.

    Raises:
        InvalidOptionError: the alias breaks the alias rule (checked before it is written into SQL).
        ModelNotFoundError: no such model or version.
    """
    ref = ModelRef.parse(f"{dataset}.{name}@{version}")  # refuses names that are not plain identifiers
    if problem := alias_problem(alias):
        raise InvalidOptionError(f"{alias!r} cannot be a version alias: {problem}.", option="version_aliases", hint=ALIAS_RULE)
    sql = alias_sql(ref.dataset, ref.name, int(version), alias)
    con.query(sql)
    return sql


def rollback_target(con: sqlml.Connection, dataset: str, name: str, alias: str) -> int | None:
    """The version ``alias`` rolls back to: the newest version older than the one it names (None: none is older)."""
    model = next((m for m in con.models.models(dataset) if m.name == name), None)
    if model is None or alias not in model.aliases:
        return None
    older = [v for v in model.versions if v < model.aliases[alias]]
    return max(older) if older else None
