"""AutoML's parts checked against direct computations: objectives against scikit-learn, the
ensemble's combination rule, and ensemble selection."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from sqlml.ml.automl.crossval import FOLDS, clearly_better, clearly_better_on_folds, finalists, fold_splits, noise_margin
from sqlml.ml.automl.ensemble import combine
from sqlml.ml.automl.fitting import fixed_iterations
from sqlml.ml.automl.objectives import average_precision, score
from sqlml.ml.automl.refit import refit_split
from sqlml.ml.automl.selection import select
from sqlml.ml.training.split import Split

RNG = np.random.default_rng(3)


def test_objectives_equal_scikit_learns_metrics():
    y = RNG.integers(0, 2, 200)
    p = np.clip(0.3 * y + RNG.random(200) * 0.7, 0, 1)
    probabilities = np.column_stack([1 - p, p])
    assert score("MAXIMIZE_AU_ROC", y, probabilities) == pytest.approx(metrics.roc_auc_score(y, p))
    assert score("MINIMIZE_LOG_LOSS", y, probabilities) == pytest.approx(metrics.log_loss(y, p))
    assert score("MAXIMIZE_AU_PRC", y, probabilities) == pytest.approx(metrics.average_precision_score(y, p))
    tied = np.round(p, 1)  # ties share a threshold, as scikit-learn counts them
    assert average_precision(y == 1, tied) == pytest.approx(metrics.average_precision_score(y, tied))
    values, predicted = RNG.random(100) * 10, RNG.random(100) * 10
    assert score("MINIMIZE_RMSE", values, predicted) == pytest.approx(np.sqrt(metrics.mean_squared_error(values, predicted)))
    assert score("MINIMIZE_MAE", values, predicted) == pytest.approx(metrics.mean_absolute_error(values, predicted))
    assert score("MINIMIZE_RMSLE", values, predicted) == pytest.approx(np.sqrt(metrics.mean_squared_log_error(values, predicted)))
    assert score("MINIMIZE_RMSLE", values - 20, predicted) is None  # log of a value below -1
    assert score("MAXIMIZE_AU_PRC", np.zeros(5, int), np.full((5, 2), 0.5)) is None  # no positive row


@pytest.mark.parametrize("target", [0.05, 0.3, 0.8, 1.0])
def test_precision_at_recall_and_recall_at_precision_read_scikit_learns_curve(target):
    y = RNG.integers(0, 2, 300)
    p = np.round(np.clip(0.25 * y + RNG.random(300) * 0.75, 0, 1), 2)  # with ties
    precision, recall, _ = metrics.precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # without scikit-learn's added (recall 0, precision 1) end
    probabilities = np.column_stack([1 - p, p])
    assert score(("MAXIMIZE_PRECISION_AT_RECALL", target), y, probabilities) == pytest.approx(precision[recall >= target].max())
    reached = recall[precision >= target]
    assert score(("MAXIMIZE_RECALL_AT_PRECISION", target), y, probabilities) == pytest.approx(reached.max() if len(reached) else 0.0)


def test_members_are_averaged_in_raw_space():
    a, b = RNG.random(50), RNG.random(50)
    binary = combine([np.column_stack([1 - a, a]), np.column_stack([1 - b, b])], [0.25, 0.75], "binary")
    logit = 0.25 * np.log(a / (1 - a)) + 0.75 * np.log(b / (1 - b))
    assert binary[:, 1] == pytest.approx(1 / (1 + np.exp(-logit)))
    assert binary.sum(axis=1) == pytest.approx(np.ones(50))
    first, second = RNG.dirichlet(np.ones(3), 40), RNG.dirichlet(np.ones(3), 40)
    mixed = combine([first, second], [0.5, 0.5], "multiclass")
    geometric = np.sqrt(first * second)
    assert mixed == pytest.approx(geometric / geometric.sum(axis=1, keepdims=True))
    assert combine([a, b], [0.4, 0.6], "regression") == pytest.approx(0.4 * a + 0.6 * b)
    assert combine([first], [1.0], "multiclass") is first  # one member: its own outputs, unchanged


def test_selection_ensembles_complementary_candidates_and_keeps_a_lone_best_one():
    y = RNG.normal(size=300)
    noise_a, noise_b = RNG.normal(size=300), RNG.normal(size=300)
    outputs = {1: y + noise_a, 2: y + noise_b, 3: y + 3 * noise_a}
    weights, value = select(outputs, [1, 2, 3], "MINIMIZE_RMSE", y, "regression")
    assert set(weights) == {1, 2} and sum(weights.values()) == pytest.approx(1.0)
    combined = sum(w * outputs[t] for t, w in weights.items())
    assert value == pytest.approx(np.sqrt(np.mean((combined - y) ** 2)))
    assert value < np.sqrt(np.mean(noise_a**2))
    exact = {1: y.copy(), 2: y + noise_b}
    assert select(exact, [1, 2], "MINIMIZE_RMSE", y, "regression") == ({1: 1.0}, 0.0)


def test_folds_hold_out_each_training_and_validation_row_once_and_never_a_chronological_split():
    split = Split(np.arange(0, 80), np.arange(80, 90), np.arange(90, 100), "CUSTOM")
    folds = fold_splits(split, RNG.permutation(100).astype(np.uint64))
    held_out = np.concatenate([f.evaluation for f in folds])
    assert sorted(held_out.tolist()) == list(range(90)) and [len(f.evaluation) for f in folds] == [18] * FOLDS
    for fold in folds:
        assert sorted(np.concatenate([fold.train, fold.evaluation]).tolist()) == list(range(90)) and not len(fold.test)
    assert fold_splits(Split(split.train, split.evaluation, split.test, "SEQ"), np.arange(100, dtype=np.uint64)) is None


def test_finalists_are_the_best_of_each_type_then_the_next_cheapest_first_and_at_most_six():
    types = {1: "A", 2: "A", 3: "B", 4: "C", 5: "B"}
    seconds = {1: 5.0, 2: 1.0, 3: 9.0, 4: 0.5, 5: 2.0}
    assert finalists([2, 1, 3, 5, 4], types.get, seconds.get) == [4, 2, 3, 5, 1]  # the best of A, B, C, then the others
    ranked = list(range(1, 10))  # 9 trials of 3 types: the best of each (1, 2, 3), then 4, 5, 6
    assert sorted(finalists(ranked, lambda t: "ABC"[(t - 1) % 3], lambda t: -t)) == [1, 2, 3, 4, 5, 6]


def test_a_challenger_must_beat_the_incumbent_by_more_than_the_noise():
    y = RNG.normal(size=400)
    close, far = y + RNG.normal(0, 1.0, 400), y + RNG.normal(0, 1.5, 400)
    folds = [np.arange(i, 400, FOLDS) for i in range(FOLDS)]
    assert clearly_better("MINIMIZE_RMSE", 1.0, y, close, far) and not clearly_better("MINIMIZE_RMSE", 1.0, y, far, close)
    assert clearly_better_on_folds("MINIMIZE_RMSE", 1.0, y, close, far, folds)
    nearly = far - 0.0001 * (far - y)  # better on every fold, by 0.01%: below MIN_GAIN
    assert not clearly_better_on_folds("MINIMIZE_RMSE", 1.0, y, nearly, far, folds)


def test_a_challenger_chosen_as_the_best_of_many_trials_must_beat_the_noise_by_more():
    rng = np.random.default_rng(5)
    y = rng.normal(size=400)
    close, far = y + rng.normal(0, 1.0, 400), y + rng.normal(0, 1.5, 400)
    somewhat = np.concatenate([close[:20], far[20:]])  # closer on 20 of 400 rows: 1 to 2 standard errors better
    assert clearly_better("MINIMIZE_RMSE", 1.0, y, somewhat, far, competitors=1)
    assert not clearly_better("MINIMIZE_RMSE", 1.0, y, somewhat, far, competitors=10)  # sqrt(2 ln 10) = 2.15 of them
    assert noise_margin(1) == 1.0 and noise_margin(10) == pytest.approx(np.sqrt(2 * np.log(10)))


def test_the_refit_learns_from_training_and_validation_rows_for_the_iterations_the_trial_ran():
    split = Split(np.array([0, 2, 4]), np.array([1, 3]), np.array([5]), "CUSTOM")
    refitted = refit_split(split)
    assert (refitted.train.tolist(), refitted.evaluation.tolist(), refitted.test.tolist()) == ([0, 1, 2, 3, 4], [1, 3], [5])
    assert refit_split(Split(split.train, split.evaluation, np.array([], dtype=np.int64), "CUSTOM")) is None  # metrics need test rows
    seven = [{"iteration": i} for i in range(7)]
    assert fixed_iterations({"max_iterations": 20, "early_stop": True, "l2_reg": 1.0}, seven) == {"max_iterations": 7, "early_stop": False, "l2_reg": 1.0}
    assert fixed_iterations({"num_parallel_tree": 50, "early_stop": True}, seven[:1]) == {"num_parallel_tree": 50, "early_stop": False}
