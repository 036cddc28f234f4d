"""AutoML's fallback to the family defaults (ml/automl/search.py ``_choice`` and ``_weights``,
ml/automl/crossval.py ``finalists``): every family's default trial is cross-validated first and
is the choice unless a tuned trial or an ensemble beats it on the out-of-fold outputs by more than
their noise — the choice that made AUTOML lose to the best default on some of credit_scoring's
splits was a tuned trial or an ensemble best on the folds by a gain within noise.

Out-of-fold outputs are generated here (600 rows, 5 folds, a binary label), so the gains are known."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from sqlml.ml.automl import crossval as automl_crossval
from sqlml.ml.automl import search as automl_search
from sqlml.ml.automl.crossval import FOLDS, OutOfFold, Validated, finalists
from sqlml.ml.automl.ensemble import combine
from sqlml.ml.automl.fitting import Kept
from sqlml.ml.automl.selection import cross_fitted, near_tied, select
from sqlml.ml.automl.family import AutoMLFamily
from tests.ml.automl.members import trained

ROWS = 600
OBJECTIVE = "MAXIMIZE_AU_ROC"
SIGN = -1.0  # maximized


def _probabilities(score: np.ndarray) -> np.ndarray:
    positive = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - positive, positive])


def _auc_on_folds(y, outputs, folds) -> float:
    """The objective as cross-validation scores it, computed with scikit-learn: the mean of each fold's ROC AUC."""
    return float(np.mean([roc_auc_score(y[f], outputs[f][:, 1]) for f in folds]))


def _trials(models: dict[int, tuple[float, float]], defaults: set[int], seed: int = 0):
    """Trials by id whose out-of-fold scores are the label's signal, plus one shared noise times
    the trial's first number (less: a better model), plus its second number on the positive rows
    (a push that raises the AUC on every fold a little), all on one preprocessing; with their
    records and Validated."""
    rng = np.random.default_rng(seed)
    y = (rng.random(ROWS) < 0.3).astype(np.int64)
    signal, noise = 1.5 * y + rng.normal(0, 1, ROWS), rng.normal(0, 1, ROWS)
    folds = [np.arange(i, ROWS, FOLDS) for i in range(FOLDS)]
    prepared = SimpleNamespace(task=SimpleNamespace(kind="binary"), eval_set=SimpleNamespace(y=y[:60]))
    kept, scores, records = {}, {}, []
    for trial_id, (size, push) in models.items():
        outputs = _probabilities(signal + size * noise + push * y)
        value = _auc_on_folds(y, outputs, folds)
        records.append({"trial_id": trial_id, "objective_value": value})  # the validation rows' value, as good as the folds'
        kept[trial_id] = Kept("LOGISTIC_REG", {}, None, outputs[:60], [], prepared, 0.1, default=trial_id in defaults)
        scores[trial_id] = OutOfFold(outputs, value, [], prepared)
    return kept, records, Validated(scores, y, folds)


def _close_challenger():
    """Default 1 and a tuned trial 2 pushed a hair: better on the folds by less than their noise."""
    kept, records, validated = _trials({1: (1.0, 0.0), 2: (1.0, 0.004)}, defaults={1})
    assert validated.scores[2].value > validated.scores[1].value  # the best on the folds is the tuned trial
    return kept, records, validated


def test_a_tuned_trial_within_the_folds_noise_falls_back_to_the_best_default():
    kept, records, validated = _close_challenger()
    gain = validated.scores[2].value - validated.scores[1].value
    assert 0 < gain < automl_crossval.MIN_GAIN * validated.scores[1].value  # within noise by the 0.1% rule alone
    assert automl_search._choice(OBJECTIVE, records, kept, validated, SIGN) == 1
    weights, value = automl_search._weights(OBJECTIVE, records, kept, validated, SIGN, 1)
    assert weights == {1: 1.0} and value == pytest.approx(_auc_on_folds(validated.y, validated.scores[1].outputs, validated.folds))


def test_a_tuned_trial_clearly_better_on_every_fold_replaces_the_default():
    kept, records, validated = _trials({1: (1.5, 0.0), 2: (0.3, 0.0)}, defaults={1})
    assert automl_search._choice(OBJECTIVE, records, kept, validated, SIGN) == 2


def test_the_best_default_on_the_folds_is_chosen_among_defaults_and_an_ensemble_needs_a_clear_gain():
    kept, records, validated = _trials({1: (1.2, 0.0), 2: (1.0, 0.0), 3: (1.0, 0.004)}, defaults={1, 2})  # 3: tuned, a hair better than default 2
    assert automl_search._choice(OBJECTIVE, records, kept, validated, SIGN) == 2
    with pytest.MonkeyPatch.context() as patch:  # an ensemble better on the folds, by a gain within noise
        patch.setattr(automl_search, "select", lambda *args: ({2: 0.5, 3: 0.5}, validated.scores[3].value + 1e-4))
        assert automl_search._weights(OBJECTIVE, records, kept, validated, SIGN, 2)[0] == {2: 1.0}


def test_an_ensemble_clearly_better_on_its_own_rows_is_kept_only_when_its_cross_fitted_outputs_are_too():
    kept, records, validated = _trials({1: (1.0, 0.0), 2: (0.2, 0.0)}, defaults={1})  # 2: a much better tuned trial
    mix = ({1: 0.5, 2: 0.5}, validated.scores[2].value)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(automl_search, "select", lambda *args: mix)
        assert automl_search._weights(OBJECTIVE, records, kept, validated, SIGN, 1)[0] == {1: 0.5, 2: 0.5}
        patch.setattr(automl_search, "cross_fitted", lambda *args: validated.scores[1].outputs)  # the other folds' weights gain nothing
        assert automl_search._weights(OBJECTIVE, records, kept, validated, SIGN, 1)[0] == {1: 1.0}


def test_an_ensemble_is_judged_on_each_fold_with_the_weights_selected_on_the_other_folds():
    _, _, validated = _trials({1: (1.0, 0.0), 2: (0.8, 0.2), 3: (1.3, 0.1)}, defaults={1})
    outputs = {t: found.outputs for t, found in validated.scores.items()}
    y, folds = validated.y, validated.folds
    mixed = cross_fitted(outputs, OBJECTIVE, y, "binary", folds)
    for index, rows in enumerate(folds):
        others = np.sort(np.concatenate([f for i, f in enumerate(folds) if i != index]))  # folds are strided: sorted rows keep their order
        inner = [np.searchsorted(others, f) for i, f in enumerate(folds) if i != index]
        ranked = sorted(outputs, key=lambda t: -np.mean([roc_auc_score(y[others][f], outputs[t][others][f][:, 1]) for f in inner]))
        weights, _ = select({t: o[others] for t, o in outputs.items()}, ranked, OBJECTIVE, y[others], "binary", inner)
        np.testing.assert_allclose(mixed[rows], combine([outputs[t][rows] for t in weights], list(weights.values()), "binary"), rtol=0, atol=1e-12)


def test_defaults_are_cross_validated_first_however_they_rank():
    types = {1: "A", 2: "B", 3: "A", 4: "B", 5: "C"}
    seconds = {1: 3.0, 2: 1.0, 3: 0.5, 4: 0.2, 5: 9.0}
    assert finalists([3, 4, 5, 2, 1], types.get, seconds.get, frozenset({1, 2, 5})) == [2, 1, 5, 4, 3]
    assert finalists([3, 4, 5, 2, 1], types.get, seconds.get) == [4, 3, 5, 2, 1]  # without defaults: the best of each type first


def test_a_budget_too_small_for_the_defaults_still_cross_validates_every_default(automl_con):
    searched = ("LOGISTIC_REG", "BOOSTED_TREE_CLASSIFIER", "RANDOM_FOREST_CLASSIFIER")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AutoMLFamily, "searched", lambda self, model_type: [(name, self.lookup(name)) for name in searched])
        patch.setattr(automl_search, "POOL", 1)  # a tuned trial better on the validation rows would evict a default
        automl_con.query(
            "CREATE OR REPLACE MODEL ds.fallback OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['churned'], "
            "budget_hours=0.0001, data_split_col='part') AS SELECT x1, x2, plan, active, churned, part FROM ds.train"
        )  # fmt: skip
    assert trained(automl_con, "ds.fallback").spec["automl"]["search_seconds"] > 0.36  # the budget was too small for them
    rows = automl_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.fallback)").arrow().to_pylist()
    defaults = rows[: len(searched)]
    assert [(r["model_type"], r["status"]) for r in defaults] == [(name, "SUCCEEDED") for name in searched]
    assert all(r["cross_validation_objective_value"] is not None and 2 <= r["cross_validation_folds"] <= FOLDS for r in defaults)
    [chosen] = [r for r in rows if r["is_optimal"]]
    best = max(r["cross_validation_objective_value"] for r in defaults if r["cross_validation_folds"] == FOLDS)
    assert chosen["cross_validation_folds"] == FOLDS and chosen["cross_validation_objective_value"] >= best, (chosen, best)


def _race(values: list[float], leader: list[float]) -> int:
    """How many of ``values``' folds a finalist is fitted on against ``leader``'s (maximized):
    :class:`~sqlml.ml.automl.crossval.CrossValidation` asks :func:`clearly_worse` after each fold."""
    for count in range(1, len(values)):  # after the last fold nothing is left to save
        if automl_crossval.clearly_worse(leader, values[:count], SIGN):
            return count
    return len(values)


def test_racing_stops_a_finalist_whose_folds_are_clearly_worse_by_the_corrected_t_bound():
    leader = [0.95, 0.951, 0.949, 0.948, 0.94]
    worse = [0.943, 0.938, 0.939, 0.9465, 0.939]  # credit_default seed 6's forest default against its logistic one
    shortfall = np.array(leader[:3]) - np.array(worse[:3])  # after three folds: mean 0.0100, sd 0.0035
    bound = shortfall.mean() - scipy.stats.t.ppf(0.95, 2) * shortfall.std(ddof=1) * np.sqrt(1 / 3 + 1 / 4)  # Nadeau–Bengio's variance
    assert bound > 0 and _race(worse, leader) == 3
    assert not automl_crossval.clearly_worse(leader, worse[:2], SIGN)  # two folds: 6.3 corrected standard errors needed
    assert _race([v - 0.02 for v in leader[:1]] + leader[1:], leader) == 5  # worse on one fold only: fitted on all
    assert _race([v + 0.001 for v in leader], leader) == 5  # better: never stopped
    assert automl_crossval.clearly_worse(leader, [v - 0.01 for v in leader[:2]], SIGN)  # the same shortfall on both folds: no doubt
    assert automl_crossval.clearly_worse([1.0, 1.1, 1.2, 1.3, 1.4], [1.5, 1.61, 1.69], 1.0)  # RMSE 0.5 higher on every fold
    assert not automl_crossval.clearly_worse([1.0, 1.1, 1.2, 1.3, 1.4], [0.5, 0.61, 0.69], 1.0)


def test_cross_validation_fits_a_raced_finalist_only_until_it_is_clearly_worse(automl_con, only_families):
    only_families("LOGISTIC_REG", "BOOSTED_TREE_CLASSIFIER")
    fits = []
    with pytest.MonkeyPatch.context() as patch:
        real = automl_crossval.CrossValidation.run

        def run(self, candidate, options, fit, objective, rows_of=None, race=None):
            counted = lambda *args: fits.append(candidate.model_type) or fit(*args)  # noqa: E731
            judged = race and (lambda values: len(values) >= 2)  # the leader's folds: any two make it "clearly worse"
            return real(self, candidate, options, counted, objective, rows_of, judged)

        patch.setattr(automl_crossval.CrossValidation, "run", run)
        patch.setattr(automl_search, "PATIENCE", 0)  # the defaults only: a quiet machine's tuned trials would race too
        automl_con.query(
            "CREATE OR REPLACE MODEL ds.raced OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['churned'], "
            "budget_hours=0.0001, data_split_col='part') AS SELECT x1, x2, plan, active, churned, part FROM ds.train"
        )  # fmt: skip
    rows = {r["model_type"]: r for r in automl_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.raced) WHERE trial_id <= 2").arrow().to_pylist()}
    first, second = fits[0], fits[FOLDS]  # the defaults, cheapest first: the first is measured on every fold, the leader
    assert fits[: FOLDS + 2] == [first] * FOLDS + [second] * 2 and fits.count(second) == 2
    assert (rows[first]["cross_validation_folds"], rows[second]["cross_validation_folds"], rows[first]["is_optimal"]) == (FOLDS, 2, True)
    assert rows[second]["cross_validation_objective_value"] is not None


def test_defaults_within_the_folds_noise_of_the_chosen_one_are_averaged_equally():
    rng = np.random.default_rng(3)
    y = (rng.random(ROWS) < 0.3).astype(np.int64)
    signal = 1.5 * y + rng.normal(0, 1, ROWS)
    folds = [np.arange(i, ROWS, FOLDS) for i in range(FOLDS)]
    outputs = {t: _probabilities(signal + size * rng.normal(0, 1, ROWS)) for t, size in ((1, 1.0), (2, 1.05), (3, 4.0))}  # 3: far worse
    values = {t: _auc_on_folds(y, out, folds) for t, out in outputs.items()}
    ranked = sorted(outputs, key=lambda t: -values[t])
    assert ranked[-1] == 3
    weights, value = near_tied(outputs, ranked, OBJECTIVE, y, "binary", folds)
    mixed = combine([outputs[1], outputs[2]], [0.5, 0.5], "binary")
    assert weights == {ranked[0]: 0.5, ranked[1]: 0.5} and value == pytest.approx(_auc_on_folds(y, mixed, folds), abs=1e-12)
    assert value > max(values.values())  # two near-equal models with independent errors: their average is better on the folds
    assert near_tied({t: outputs[t] for t in (1, 3)}, [1, 3], OBJECTIVE, y, "binary", folds) == ({1: 1.0}, pytest.approx(values[1]))
    kept = {t: Kept("LOGISTIC_REG", {}, None, outputs[t][:60], [], SimpleNamespace(task=SimpleNamespace(kind="binary")), 0.1, default=True) for t in outputs}
    shared = next(iter(kept.values())).prepared
    for trial in kept.values():
        trial.prepared = shared  # one preprocessing
    validated = Validated({t: OutOfFold(out, values[t], [], shared) for t, out in outputs.items()}, y, folds)
    records = [{"trial_id": t, "objective_value": values[t]} for t in sorted(outputs)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(automl_search, "select", lambda outputs, ranked, *args: ({ranked[0]: 1.0}, None))  # no selected ensemble
        assert automl_search._weights(OBJECTIVE, records, kept, validated, SIGN, ranked[0])[0] == weights
