"""ML.EVALUATE_FAIRNESS: a binary classifier's outcomes and errors per group of a sensitive feature.

A sqlml addition (BigQuery ML has no fairness function; the figures are those of SageMaker
Clarify and fairlearn)::

    ML.EVALUATE_FAIRNESS(MODEL m, {TABLE t | (query)},
                         STRUCT('sex' AS sensitive_feature [, 'female' AS privileged_group] [, 0.5 AS threshold]))

``sensitive_feature`` is one column or an ARRAY of columns (their intersections form the
groups; ``privileged_group`` then names each value, ``'male|white'``). The input rows need the
label column. One row per group, largest first: the sensitive column(s) as STRING (NULL shown as
``NULL``), ``group_rows``, then

* ``selection_rate`` (share predicted positive — the higher label), ``accuracy``, ``precision``,
  ``recall`` (true positive rate), ``false_positive_rate``, ``false_negative_rate``;
* against the privileged group (given, or else the largest group — the one a tiny group's
  chance rates cannot displace):
  ``disparate_impact`` (selection-rate ratio; below 0.8 fails the four-fifths rule),
  ``statistical_parity_difference`` (selection-rate difference), ``equal_opportunity_difference``
  (recall difference), ``false_positive_rate_difference`` and ``equalized_odds_difference``
  (the larger absolute difference of recall and false positive rate); ``is_privileged``.

A rate with no rows to divide by (precision of a group never predicted positive) is NULL.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError, InvalidOptionError, ModelError
from sqlml.ml.columns import column_named
from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.evaluate import encode_labels, label_column
from sqlml.ml.models.base import Target
from sqlml.ml.models.prediction_columns import predicted_class_index
from sqlml.ml.runtime.predict import check_threshold, scored_batches

RATES = ("selection_rate", "accuracy", "precision", "recall", "false_positive_rate", "false_negative_rate")
COMPARISONS = (
    "disparate_impact", "statistical_parity_difference", "equal_opportunity_difference",
    "false_positive_rate_difference", "equalized_odds_difference",
)  # fmt: skip


@function("EVALUATE_FAIRNESS")
def evaluate_fairness(call: Call) -> pa.Table:
    """One row per sensitive group with rates and comparisons against the privileged group."""
    model = call.model
    classifier = model.target is Target.CLASSIFICATION
    if not (classifier and len(model.label["classes"]) == 2):
        raise ModelError(
            f"ML.EVALUATE_FAIRNESS needs a binary classifier; {call.record.dataset}.{call.record.name} is "
            f"{model.model_type}" + (" with more than two classes." if classifier else "."),
            model=str(call.ref),
        )
    settings = call.settings({"sensitive_feature": (str, list), "privileged_group": str, "threshold": float, "trial_id": int})
    features = settings.get("sensitive_feature")
    if not features:
        raise InvalidOptionError(
            "ML.EVALUATE_FAIRNESS needs the sensitive column: STRUCT('sex' AS sensitive_feature).", option="sensitive_feature"
        )
    features = [features] if isinstance(features, str) else list(features)
    threshold = settings.get("threshold")
    check_threshold(model, threshold, call.name)
    estimator = model.estimator_for(settings.get("trial_id"))
    groups, truth, predicted = _outcomes(call, model, estimator, features, threshold)
    return _fairness_table(features, groups, truth, predicted, settings.get("privileged_group"))


def _outcomes(call: Call, model, estimator, features: list[str], threshold) -> tuple[list[tuple], np.ndarray, np.ndarray]:
    """(group key per row, true positive flags, predicted positive flags) over rows with a label."""
    keys, truth, predicted = [], [], []
    for batch, raw in scored_batches(model, call.data(0).reader(), estimator):
        labels = label_column(batch, model.label["name"])
        keep = pc.is_valid(labels)
        mask = keep.to_numpy(zero_copy_only=False)
        truth.append(encode_labels(model, labels.filter(keep)) == 1)
        predicted.append(predicted_class_index(raw[mask], threshold) == 1)
        columns = [_sensitive_column(batch, name).filter(keep).cast(pa.string()).fill_null("NULL").to_pylist() for name in features]
        keys += list(zip(*columns))
    if not truth:
        return [], np.array([], bool), np.array([], bool)
    return keys, np.concatenate(truth), np.concatenate(predicted)


def _sensitive_column(batch: pa.RecordBatch, name: str) -> pa.Array:
    found = column_named(batch.schema.names, name)
    if found is not None:
        return batch.column(found)
    raise InvalidModelInputError(
        f"The input has no column {name}, the sensitive feature.", hint=f"Select {name} in the query you pass to ML.EVALUATE_FAIRNESS."
    )


def _rates(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    def ratio(numerator: int, denominator: int) -> float | None:
        return numerator / denominator if denominator else None

    tp = int(np.sum(truth & predicted))
    fp = int(np.sum(~truth & predicted))
    tn = int(np.sum(~truth & ~predicted))
    fn = int(np.sum(truth & ~predicted))
    n = len(truth)
    return {
        "selection_rate": ratio(tp + fp, n), "accuracy": ratio(tp + tn, n), "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn), "false_positive_rate": ratio(fp, fp + tn), "false_negative_rate": ratio(fn, fn + tp),
    }  # fmt: skip


def _fairness_table(features: list[str], keys: list[tuple], truth, predicted, privileged: str | None) -> pa.Table:
    index: dict[tuple, list[int]] = {}
    for row, key in enumerate(keys):
        index.setdefault(key, []).append(row)
    stats = {key: {"group_rows": len(rows), **_rates(truth[rows], predicted[rows])} for key, rows in index.items()}
    if privileged is not None:
        wanted = tuple(privileged.split("|")) if len(features) > 1 else (privileged,)
        if wanted not in stats:
            known = ", ".join("|".join(k) for k in sorted(stats))
            raise InvalidOptionError(f"privileged_group '{privileged}' is not a group of the data.", option="privileged_group", hint=f"Groups: {known}.")
        reference = wanted
    else:
        reference = max(stats, key=lambda key: (stats[key]["group_rows"], key)) if stats else None
    rows = []
    for key in sorted(stats, key=lambda k: (-stats[k]["group_rows"], k)):
        own, base = stats[key], stats[reference]
        rows.append({
            **dict(zip(features, key)), **own, **_comparisons(own, base), "is_privileged": key == reference,
        })  # fmt: skip
    schema = pa.schema(
        [pa.field(name, pa.string()) for name in features] + [pa.field("group_rows", pa.int64())]
        + [pa.field(name, pa.float64()) for name in (*RATES, *COMPARISONS)] + [pa.field("is_privileged", pa.bool_())]
    )  # fmt: skip
    return pa.Table.from_pylist(rows, schema=schema)


def _comparisons(own: dict, base: dict) -> dict[str, float | None]:
    def difference(name: str) -> float | None:
        return None if own[name] is None or base[name] is None else own[name] - base[name]

    tpr, fpr = difference("recall"), difference("false_positive_rate")
    ratio = own["selection_rate"] / base["selection_rate"] if base["selection_rate"] else None
    return {
        "disparate_impact": ratio, "statistical_parity_difference": difference("selection_rate"),
        "equal_opportunity_difference": tpr, "false_positive_rate_difference": fpr,
        "equalized_odds_difference": None if tpr is None or fpr is None else max(abs(tpr), abs(fpr)),
    }  # fmt: skip
