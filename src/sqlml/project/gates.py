"""Model gates: conditions a freshly trained model must meet before it becomes current.

A model node's config may declare three kinds, all of which must hold:

* ``gate``: SQL conditions over ``ML.EVALUATE(MODEL m)``'s columns, e.g. ``'roc_auc >= 0.8'``; or
  ``{'data': <relation>, 'conditions': …}`` to evaluate on ``data`` — what a forecasting model
  needs: ``{'data': ref('sales_holdout'), 'conditions': 'mean_absolute_percentage_error < 10'}``
  holds when every series of ``ML.EVALUATE(MODEL m, TABLE data)`` meets it;
* ``fairness``: ``{'sensitive_feature': 'sex' (or a list), 'privileged_group': …, 'data': <relation>,
  'gate': 'disparate_impact >= 0.8', 'min_group_rows': 30}`` — the conditions must hold for every
  group of ``ML.EVALUATE_FAIRNESS`` on ``data`` with at least ``min_group_rows`` rows (smaller
  groups' rates are noise, and are reported but not gated);
* ``skew``: ``{'data': <relation>, 'thresholds': {'income': 0.2}}`` — no column of ``data`` may be
  an anomaly in ``ML.VALIDATE_DATA_SKEW`` against the training rows.

A metric that is NULL fails its condition.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

import sqlml
from sqlml.errors import ProjectError
from sqlml.ml.models.base import Target
from sqlml.ml.models.catalog import family_of
from sqlml.project.templating import PARSE_REF_PREFIX
from sqlml.sql.dialect import Sqlml
from sqlml.store.records import ModelRef

DEFAULT_MIN_GROUP_ROWS = 30
#: The config keys that declare a gate.
GATE_KEYS = ("gate", "fairness", "skew")


def declares_gates(config: dict) -> bool:
    """Whether a model node's config declares any gate."""
    return any(config.get(key) for key in GATE_KEYS)


def check_gates(con: sqlml.Connection, model: str, config: dict, relation_of: Callable[[str], str]) -> tuple[bool, str] | None:
    """(passed, message) over every gate the config declares; None when it declares none.

    ``relation_of`` turns a ``ref('node')`` written in the config into its relation (the config
    was captured while parsing, when refs are still stand-ins).
    """
    checks = []
    if config.get("gate"):
        checks.append(check_metric_gate(con, model, _resolved(config["gate"], relation_of)))
    if config.get("fairness"):
        checks.append(check_fairness_gate(con, model, _resolved(config["fairness"], relation_of)))
    if config.get("skew"):
        checks.append(check_skew_gate(con, model, _resolved(config["skew"], relation_of)))
    if not checks:
        return None
    return all(passed for passed, _ in checks), "; ".join(message for _, message in checks)


def check_metric_gate(con: sqlml.Connection, model: str, gate: str | list[str] | dict) -> tuple[bool, str]:
    """Whether every condition of ``gate`` holds on every row of ``ML.EVALUATE(MODEL model
    [, TABLE data])``; and the metrics (of the first row)."""
    data = ""
    if isinstance(gate, dict):
        if "data" not in gate or "conditions" not in gate:
            raise ProjectError(
                f"The gate of {model} needs 'data' and 'conditions' when it is a dict; it has {', '.join(map(repr, gate)) or 'neither'}.",
                hint="e.g. gate={'data': ref('holdout'), 'conditions': 'mean_absolute_percentage_error < 10'}",
            )
        gate, data = gate["conditions"], f", TABLE {gate['data']}"
    conditions = _conditions(model, gate)
    checks = ", ".join(f"COALESCE({c}, FALSE) AS __gate_{i}" for i, c in enumerate(conditions))
    result = con.query(f"SELECT e.*, {checks} FROM ML.EVALUATE(MODEL {model}{data}) AS e")  # one evaluation
    metric_count = len(result.columns) - len(conditions)
    columns, rows = result.columns[:metric_count], result.fetchall()
    shown = ", ".join(f"{c}={v:.4g}" for c, v in zip(columns, rows[0] if rows else ()) if isinstance(v, float))
    failed = [c for i, c in enumerate(conditions) if not rows or not all(row[metric_count + i] for row in rows)]
    if not failed:
        return True, f"gate passed ({shown})"
    missed = sum(not all(row[metric_count:]) for row in rows)
    where = f" in {missed} of {len(rows)} rows" if len(rows) > 1 else ""
    return False, f"gate failed: {' AND '.join(failed)}{where} ({shown})"


def check_fairness_gate(con: sqlml.Connection, model: str, spec: dict) -> tuple[bool, str]:
    """Whether the fairness conditions hold for every large enough group."""
    spec = _spec(model, "fairness", spec, required=("sensitive_feature", "data", "gate"))
    conditions = _conditions(model, spec["gate"])
    features = spec["sensitive_feature"]
    settings = [exp.alias_(_literal(features), "sensitive_feature")]
    if spec.get("privileged_group") is not None:
        settings.append(exp.alias_(_literal(spec["privileged_group"]), "privileged_group"))
    struct = exp.Struct(expressions=settings).sql(dialect=Sqlml)
    checks = ", ".join(f"COALESCE({c}, FALSE) AS __gate_{i}" for i, c in enumerate(conditions))
    minimum = int(spec.get("min_group_rows", DEFAULT_MIN_GROUP_ROWS))
    names = [features] if isinstance(features, str) else list(features)
    rows = con.query(
        f"SELECT {', '.join(names)}, {checks} FROM ML.EVALUATE_FAIRNESS(MODEL {model}, TABLE {spec['data']}, {struct}) "
        f"WHERE group_rows >= {minimum}"
    ).fetchall()
    failing = ["|".join(map(str, row[: len(names)])) for row in rows if not all(row[len(names):])]
    if failing:
        return False, f"fairness gate failed: {' AND '.join(conditions)} for group(s) {', '.join(failing)}"
    return True, f"fairness gate passed ({len(rows)} group(s) of ≥ {minimum} rows)"


def check_skew_gate(con: sqlml.Connection, model: str, spec: dict) -> tuple[bool, str]:
    """Whether no column of the data is skewed away from the training rows."""
    spec = _spec(model, "skew", spec, required=("data",))
    kind = con.models.resolve(ModelRef.parse(model)).model_type
    if family_of(kind).target(kind) is Target.FORECASTING:
        # ML.VALIDATE_DATA_SKEW compares columns with training statistics, which a time-series
        # model does not keep: the gate would compare nothing and always pass.
        raise ProjectError(
            f"The skew gate of {model} cannot check a {kind} model: time-series models keep no training statistics to compare with.",
            hint="Gate it on its accuracy instead: gate={'data': ref('holdout'), 'conditions': 'mean_absolute_percentage_error < 10'}.",
        )
    thresholds = spec.get("thresholds") or {}
    settings = ""
    if thresholds:
        settings = ", " + exp.Struct(expressions=[exp.alias_(_pairs(thresholds), "thresholds")]).sql(dialect=Sqlml)
    anomalies = con.query(
        f"SELECT input, value, threshold FROM ML.VALIDATE_DATA_SKEW(MODEL {model}, TABLE {spec['data']}{settings}) WHERE is_anomaly"
    ).fetchall()
    if anomalies:
        shown = ", ".join(f"{name} {value:.3g} > {threshold:g}" for name, value, threshold in anomalies)
        return False, f"skew gate failed: {shown}"
    return True, "skew gate passed"


def _resolved(spec: object, relation_of: Callable[[str], str]) -> object:
    """``spec`` with a ``data`` written as ``ref('node')`` pointing at the node's relation."""
    if isinstance(spec, dict) and isinstance(spec.get("data"), str) and spec["data"].startswith(PARSE_REF_PREFIX):
        return {**spec, "data": relation_of(spec["data"][len(PARSE_REF_PREFIX) :])}
    return spec


def _spec(model: str, kind: str, spec: object, required: tuple[str, ...]) -> dict:
    if not isinstance(spec, dict) or any(key not in spec for key in required):
        raise ProjectError(
            f"The {kind} gate of {model} needs {', '.join(required)}.",
            hint=f"e.g. {kind}={{{', '.join(repr(k) + ': …' for k in required)}}}",
        )
    return spec


def _conditions(model: str, gate: str | list[str]) -> list[str]:
    conditions = [gate] if isinstance(gate, str) else list(gate)
    for condition in conditions:
        try:
            exp.condition(condition, dialect=Sqlml)
        except Exception:
            raise ProjectError(f"The gate {condition!r} of {model} is not a SQL condition.", hint="Write e.g. gate='roc_auc >= 0.8'.") from None
    return conditions


def _literal(value: str | list[str]) -> exp.Expression:
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Array(expressions=[exp.Literal.string(v) for v in value])


def _pairs(thresholds: dict) -> exp.Expression:
    return exp.Array(expressions=[
        exp.Struct(expressions=[exp.Literal.string(name), exp.Literal.number(value)]) for name, value in thresholds.items()
    ])  # fmt: skip
