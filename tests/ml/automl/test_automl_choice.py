"""AutoML's choice among cross-validated, raced-out and unmeasured finalists (ml/automl/search.py's
``_choice``), on outputs made up so that one trial is clearly better on the validation rows; and
the validation rows its ML.GLOBAL_EXPLAIN attributes (``_explained_rows``)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from sqlml.ml.automl.crossval import FOLDS, OutOfFold, Validated
from sqlml.ml.automl.fitting import Kept
from sqlml.ml.automl.search import _choice

RNG = np.random.default_rng(11)
Y = RNG.normal(size=400)  # the validation rows' labels
GOOD, POOR = Y + RNG.normal(0, 0.5, 400), Y + RNG.normal(0, 1.5, 400)  # clearly better / worse outputs on them


def _rmse(outputs: np.ndarray) -> float:
    return float(np.sqrt(np.mean((Y - outputs) ** 2)))


def _trials(second_folds: int | None) -> tuple[list[dict], dict[int, Kept], Validated]:
    """Trial 1: a default cross-validated on all folds (poor on the validation rows); trial 2: a
    default far better on the validation rows, measured on ``second_folds`` folds (None: never
    cross-validated; fewer than FOLDS: raced out, so absent from the scores)."""
    prepared = SimpleNamespace(eval_set=SimpleNamespace(y=Y))
    kept = {t: Kept("LINEAR_REG", {}, None, outputs, [], prepared, default=True) for t, outputs in ((1, POOR), (2, GOOD))}
    records = [
        {"trial_id": 1, "objective_value": _rmse(POOR), "cross_validation_folds": FOLDS},
        {"trial_id": 2, "objective_value": _rmse(GOOD), "cross_validation_folds": second_folds},
    ]
    folds = [np.arange(i, 400, FOLDS) for i in range(FOLDS)]
    scores = {1: OutOfFold(POOR, _rmse(POOR), [], prepared, [_rmse(POOR)] * FOLDS)}
    return records, kept, Validated(scores, Y, folds)


def test_a_finalist_raced_out_on_the_folds_is_not_chosen_for_its_validation_rows():
    records, kept, validated = _trials(second_folds=2)
    assert _choice("MINIMIZE_RMSE", records, kept, validated, 1.0) == 1


def test_a_finalist_the_budget_left_unmeasured_is_chosen_when_clearly_better_on_the_validation_rows():
    records, kept, validated = _trials(second_folds=None)
    assert _choice("MINIMIZE_RMSE", records, kept, validated, 1.0) == 2


def test_global_explain_attributes_every_validation_row_unless_the_members_make_that_costly():
    from sqlml.ml.automl.search import EXPLAINED_MEMBER_ROWS, MIN_EXPLAINED_ROWS, _explained_rows

    X = np.arange(1738, dtype=float).reshape(-1, 1)
    few = EXPLAINED_MEMBER_ROWS // 10
    assert len(_explained_rows(X[:few], members=10)) == few  # every row while members × rows stay within the bound
    sampled = _explained_rows(X, members=10)  # bikeshare's validation rows, ten members
    assert len(sampled) == few
    assert sampled[0, 0] == 0 and sampled[-1, 0] == 1737 and np.all(np.diff(sampled[:, 0]) > 0)
    spacing = np.diff(sampled[:, 0])
    assert spacing.max() - spacing.min() <= 1  # evenly spaced, not a head
    assert len(_explained_rows(X, members=1000)) == MIN_EXPLAINED_ROWS
    assert len(_explained_rows(X, members=1)) == EXPLAINED_MEMBER_ROWS
