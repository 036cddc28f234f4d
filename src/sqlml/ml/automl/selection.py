"""Ensemble selection: whether averaging the best candidates beats the best one on the validation rows.

Caruana et al.'s greedy forward selection with replacement (ICML 2004, "Ensemble selection from
libraries of models"), as auto-sklearn and AutoGluon use it: start from the best candidate, add
the candidate (possibly one already in) whose addition improves the objective most, stop when no
addition improves it. Weights are how often each candidate was added. Only candidates of one
preprocessing are pooled, so the ensemble reads one feature matrix.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from sqlml.ml.automl.ensemble import combine
from sqlml.ml.automl.objectives import minimized, score

#: The most candidates pooled and the most additions.
POOL = 8
STEPS = 20


def select(outputs: dict[int, np.ndarray], ranked: list[int], objective: str, y: np.ndarray, kind: str) -> tuple[dict[int, float], float | None]:
    """The ensemble's weights by trial id, and its objective value on the validation rows.

    Args:
        outputs: trial id → its validation outputs, for the pooled candidates.
        ranked: trial ids, best first (the first is the best single candidate).
        objective: the ``optimization_objective``.
        y: the validation rows' encoded labels.
        kind: the task kind (regression, binary, multiclass).
    """
    sign = 1.0 if minimized(objective) else -1.0
    pool = ranked[:POOL]
    chosen = [pool[0]]
    best = score(objective, y, outputs[pool[0]])
    for _ in range(STEPS):
        found = None
        for trial_id in pool:
            value = _value(chosen + [trial_id], outputs, objective, y, kind)
            if value is not None and best is not None and sign * value < sign * best - 1e-12 * abs(best):
                best, found = value, trial_id
        if found is None:
            break
        chosen.append(found)
    return _weights(chosen), best


def _value(chosen: list[int], outputs: dict[int, np.ndarray], objective: str, y: np.ndarray, kind: str) -> float | None:
    weights = _weights(chosen)
    return score(objective, y, combine([outputs[t] for t in weights], list(weights.values()), kind))


def _weights(chosen: list[int]) -> dict[int, float]:
    counts = Counter(chosen)
    return {trial_id: count / len(chosen) for trial_id, count in counts.items()}
