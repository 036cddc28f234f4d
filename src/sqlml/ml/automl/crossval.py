"""Cross-validated choice: the search's finalists scored on k folds of the training and validation rows.

A validation slice of a small table is small (credit_default's 1,000 validation rows hold 30
positives), and the candidate best on it is often best by chance. When the training and
validation rows are at most :data:`MAX_ROWS` and not split by time, the finalists — every family's
default trial, then the best tuned trial of each model type whose folds fit in what is left of the
budget (a tuned DNN of small batches that would take it all is left out), then the next best
trials — are refitted on :data:`FOLDS` folds of those rows
(each row held out once, folds drawn from the rows' hashes), cheapest first, with their trial's options (an early-stopping family stops on the held-out fold;
fixing the trial's iteration count instead, chosen on the validation rows that are part of the
folds, made a tuned boosted tree of 8 ms look best on the folds of a 3%-positive table, 0.942 vs
the logistic default's 0.939, and score 0.89 vs 0.94 on its test rows), and their out-of-fold
outputs score them on every row instead of a tenth (the mean of the objective's values on each
fold, as cross-validation scores are usually averaged).

Every family's default trial is a finalist, measured before any tuned trial and whatever the
budget (past its end if need be: a choice must not lose to a default it never measured); tuned
finalists are measured only while they fit in the budget's rest. Finalists after the first race
the leader (the best fully measured so far): one whose first folds are clearly worse than the
leader's on the same folds (:func:`clearly_worse`, a corrected paired t bound) is not fitted on
its last folds — the random forest's default, the slowest, was 4–16× a small budget's time when
all five folds were fitted (credit_default seed 6: 0.9434, 0.9378, 0.9389 against the logistic
default's 0.9495, 0.9508, 0.9490 — stopped after three folds). A raced-out finalist is neither
chosen nor ensembled (it could be chosen only by beating the leader, which its folds rule out at
the test's level; an ensemble member that much worse rarely earns its weight, and its out-of-fold
outputs are incomplete); ML.TRIAL_INFO shows the mean of the folds it ran and how many. Fewer
trees in the forest's fold fits was rejected: a forest's error falls with its trees by an amount
that depends on the data, so a 20-tree fold value would rate the 100-tree default worse than it is
by an unknown margin; out-of-bag estimates need the bagging draws, which LightGBM's rf mode does
not expose. The choice then is
the default best on its out-of-fold outputs — the fallback — unless a tuned finalist beats it on
the held-out folds by more than one standard error of the per-fold differences and by at least
0.1% (choosing the best of several tuned trials on the folds overstates its gain: on
credit_scoring such gains within noise lost to the defaults on the test rows); ensemble selection
runs on the same outputs, and an ensemble is kept only when it beats the choice by as much. A
finalist the budget left no time to cross-validate can still be chosen, but only when it beats the
cross-validated choice on the validation rows by more than a bootstrap standard error of their
paired difference (the "one standard error" rule of Hastie, Tibshirani and Friedman, ESL §7.10),
times sqrt(2 ln k) when it is the best of k trials on those rows (:func:`noise_margin`):
otherwise the better-measured candidate stays. The fold models are kept: a cross-validated choice
serves them, averaged (:func:`sqlml.ml.automl.search._bagged`), so the folds' rows share one
preprocessing fitted on all of them (:class:`CrossValidation`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.errors import Cancelled, Error
from sqlml.ml.automl.candidates import Candidate, Rows
from sqlml.ml.automl.fitting import Kept, Stop, fit_candidate
from sqlml.ml.automl.objectives import Objective, minimized, score
from sqlml.ml.models.estimator import Dataset
from sqlml.ml.training.preparation import Prepared
from sqlml.ml.training.split import Split

FOLDS = 5
#: Above this many training and validation rows the validation slice alone measures well enough.
MAX_ROWS = 100_000
#: The most finalists cross-validated.
FINALISTS = 6
BOOTSTRAPS = 200
#: The smallest relative gain on the folds that makes an ensemble worth its members.
MIN_GAIN = 0.001
SEED = 7
#: Racing (:func:`clearly_worse`): a finalist stops after at least this many folds, at this one-sided level.
MIN_RACE_FOLDS = 2
RACE_LEVEL = 0.05


@dataclass
class OutOfFold:
    """A finalist's out-of-fold outputs over the training and validation rows, their score, and
    the fold models that made them (on ``prepared``'s feature matrix) — the bag the model serves."""

    outputs: np.ndarray
    value: float
    estimators: list
    prepared: Prepared
    #: the objective's value on each fold (``value`` is their mean)
    fold_values: list[float] = dataclasses.field(default_factory=list)


@dataclass
class RacedOut:
    """A finalist stopped after its first folds (:func:`clearly_worse` than the leader on them):
    their values, no out-of-fold outputs (it is neither chosen nor ensembled)."""

    fold_values: list[float]

    @property
    def value(self) -> float:
        """The mean of its folds' values (what ML.TRIAL_INFO shows, beside how many folds)."""
        return float(np.mean(self.fold_values))


def fold_splits(split: Split, hashes: np.ndarray) -> list[Split] | None:
    """:data:`FOLDS` splits of the training and validation rows, each holding out one fold; None
    when the rows are split by time (a fold of older rows would be predicted from newer ones) or
    are more than :data:`MAX_ROWS`."""
    rows = np.sort(np.concatenate([split.train, split.evaluation]))
    if split.method == "SEQ" or len(rows) > MAX_ROWS or len(rows) < 2 * FOLDS:
        return None
    fold = np.empty(len(rows), dtype=np.int64)
    fold[np.argsort(hashes[rows], kind="stable")] = np.arange(len(rows)) % FOLDS
    empty = np.array([], dtype=np.int64)
    return [Split(rows[fold != i], rows[fold == i], empty, "CROSS_VALIDATION") for i in range(FOLDS)]


def finalists(
    ranked: list[int], model_type_of: Callable[[int], str], seconds_of: Callable[[int], float], defaults: frozenset[int] = frozenset(),
) -> list[int]:  # fmt: skip
    """Trial ids to cross-validate: the families' ``defaults`` first (the choice's fallback: each
    is measured before any tuned trial), then the best of each model type, then the next best, at
    most :data:`FINALISTS` in all beyond the defaults; each part the cheapest to fit first (so the
    budget's rest measures as many as it can)."""
    own = sorted((t for t in ranked if t in defaults), key=seconds_of)
    others = [t for t in ranked if t not in defaults]
    firsts = [t for i, t in enumerate(others) if model_type_of(t) not in {model_type_of(u) for u in others[:i]}]
    chosen = (firsts + [t for t in others if t not in firsts])[: max(FINALISTS - len(own), 0)]
    leading = sum(t in firsts for t in chosen)
    return own + sorted(chosen[:leading], key=seconds_of) + sorted(chosen[leading:], key=seconds_of)


def bagging_split(split: Split) -> Split:
    """The rows the fold models' preprocessing is fitted on: the training and validation rows
    (as training rows), the validation and test rows as they were."""
    return Split(np.sort(np.concatenate([split.train, split.evaluation])), split.evaluation, split.test, split.method)


def _subset(rows: Dataset, positions: np.ndarray) -> Dataset:
    return Dataset(rows.X[positions], None if rows.y is None else rows.y[positions], None if rows.w is None else rows.w[positions])


class CrossValidation:
    """The training and validation rows prepared once per preprocessing (shared by candidates of
    one preprocessing: its preprocessor is the bagged model's), each fold's training and held-out
    rows taken from them, and the labels of every held-out row.

    The preprocessing is fitted on all the folds' rows, as AutoGluon's bagging does: the fold
    models then read one feature matrix and can be averaged. The automatic preprocessing does not
    read the label (standardizing, one-hot and label encoding), so the held-out fold leaks nothing.
    """

    def __init__(self, table, hashes: np.ndarray, splits: list[Split], whole: Split):
        self.splits = splits
        self.whole = Rows(table, hashes, whole)
        self.order = np.sort(np.concatenate([s.evaluation for s in splits]))
        self.positions = [np.searchsorted(self.order, s.evaluation) for s in splits]
        self.kept = [np.searchsorted(self.order, s.train) for s in splits]
        self.y: np.ndarray | None = None

    def run(
        self, candidate: Candidate, options: dict, fit: Callable, objective: Objective, rows_of: Candidate | None = None,
        race: Callable[[list[float]], bool] | None = None,
    ) -> OutOfFold | RacedOut | None:  # fmt: skip
        """``candidate`` with ``options`` fitted on each fold's other rows (``fit(candidate,
        prepared, options)`` → estimator), preprocessed as ``rows_of``'s (default: its own), and
        scored on the fold; None when the rows could not be prepared or the objective is undefined;
        :class:`RacedOut` when ``race`` says, after a fold, that the values so far are clearly
        worse than the leader's (its later folds are not fitted)."""
        outputs, y, estimators, values = None, np.empty(len(self.order)), [], []
        whole = self.whole.prepared(rows_of or candidate)
        for split, kept, positions in zip(self.splits, self.kept, self.positions):
            fold = dataclasses.replace(
                whole, split=split, train_set=_subset(whole.train_set, kept), eval_set=_subset(whole.train_set, positions), test_set=None
            )  # fmt: skip
            estimator = fit(candidate, fold, options)
            estimators.append(estimator)
            raw = np.asarray(candidate.family.metric_outputs(candidate.model_type, estimator, fold.eval_set.X))
            if outputs is None:
                outputs = np.empty((len(self.order), *raw.shape[1:]))
            outputs[positions] = raw
            y[positions] = fold.eval_set.y
            values.append(score(objective, fold.eval_set.y, raw))
            if race is not None and len(values) < len(self.splits) and None not in values and race(values):
                return RacedOut(values)
        self.y = y
        if None in values:
            return None
        return OutOfFold(outputs, float(np.mean(values)), estimators, whole, values)


def estimated_seconds(seconds: float, split: Split) -> float:
    """The time :data:`FOLDS` fits on the folds' rows take, from one fit on the training rows."""
    grown = (len(split.train) + len(split.evaluation)) * (FOLDS - 1) / FOLDS / max(len(split.train), 1)
    return FOLDS * seconds * grown


def fits_in(seconds: float, deadline: float) -> bool:
    """Whether work of ``seconds`` ends before ``deadline``."""
    return time.monotonic() + seconds <= deadline


def clearly_better(
    objective: Objective, sign: float, y: np.ndarray, challenger: np.ndarray, incumbent: np.ndarray, competitors: int = 1,
) -> bool:  # fmt: skip
    """Whether ``challenger``'s outputs beat ``incumbent``'s on the rows ``y`` by more than
    :func:`noise_margin` bootstrap standard errors of the paired difference of their objective values."""
    rng = np.random.default_rng(SEED)
    differences = []
    for _ in range(BOOTSTRAPS):
        rows = rng.integers(0, len(y), len(y))
        a, b = score(objective, y[rows], challenger[rows]), score(objective, y[rows], incumbent[rows])
        if a is not None and b is not None:
            differences.append(sign * (b - a))  # > 0: the challenger is better
    if len(differences) < BOOTSTRAPS // 2:
        return False
    return float(np.mean(differences)) > noise_margin(competitors) * float(np.std(differences))


def noise_margin(competitors: int) -> float:
    """How many standard errors a challenger chosen as the best of ``competitors`` candidates on
    the same rows must gain: one for a lone challenger, else sqrt(2 ln k) — the bound on the
    expected maximum of k standard normal errors, by which the best of k values measured on the
    same rows overstates its own (the winner's curse: a run chose a tuned tree that was best of
    ten trials on credit_scoring's 445 validation rows, 0.836, and 0.820 on the folds)."""
    return max(1.0, float(np.sqrt(2 * np.log(max(competitors, 1)))))


def clearly_better_on_folds(
    objective: Objective, sign: float, y: np.ndarray, challenger: np.ndarray, incumbent: np.ndarray, folds: list[np.ndarray],
    competitors: int = 1,
) -> bool:  # fmt: skip
    """Whether ``challenger``'s out-of-fold outputs beat ``incumbent``'s by more than
    :func:`noise_margin` standard errors of the mean of their per-fold differences (one for a lone
    challenger, more for the best of ``competitors`` measured on the same folds) and by at least
    :data:`MIN_GAIN` of the incumbent's value (an ensemble must earn its members so: a smaller gain
    is below what a small table's test rows resolve, and one model is simpler to explain and
    exports to ONNX)."""
    differences, values = [], []
    for rows in folds:
        a, b = score(objective, y[rows], challenger[rows]), score(objective, y[rows], incumbent[rows])
        if a is None or b is None:
            return False
        differences.append(sign * (b - a))
        values.append(b)
    gain = float(np.mean(differences))
    error = float(np.std(differences, ddof=1)) / np.sqrt(len(differences))
    return gain > noise_margin(competitors) * error and gain >= MIN_GAIN * abs(float(np.mean(values)))


def clearly_worse(leader: list[float], values: list[float], sign: float) -> bool:
    """Whether a finalist whose first folds scored ``values`` is worse than the ``leader`` (its
    values on all the folds) beyond doubt, so its last folds need not be fitted (racing, Maron and
    Moore 1994: a candidate clearly worse on the folds seen stops early): after at least
    :data:`MIN_RACE_FOLDS` folds, when the one-sided lower confidence bound at
    1 − :data:`RACE_LEVEL` on its per-fold shortfall is above zero — Student's t over the r folds'
    paired differences, their variance inflated by Nadeau and Bengio's correction for the folds'
    overlapping training rows (1/r + 1/(k−1) instead of 1/r: a naive t-test on k-fold differences
    rejects too often; Bouckaert and Frank 2004). Two folds need a shortfall of 6.3 corrected
    standard errors, three 2.9, four 2.4; on all five folds (2.1) it tells the defaults near-tied
    with the chosen one (:func:`~sqlml.ml.automl.selection.near_tied`)."""
    from scipy.stats import t as student

    r = len(values)
    if r < MIN_RACE_FOLDS or r > len(leader) or None in values or None in leader[:r]:  # None: the objective undefined on a fold
        return False
    shortfall = sign * (np.asarray(values) - np.asarray(leader[:r]))  # > 0: the finalist is worse on that fold
    error = float(np.std(shortfall, ddof=1)) * math.sqrt(1 / r + 1 / (len(leader) - 1))
    return float(np.mean(shortfall)) - float(student.ppf(1 - RACE_LEVEL, r - 1)) * error > 0


@dataclass
class Validated:
    """The cross-validated finalists' out-of-fold scores, the held-out rows' labels, each fold's
    positions among them, and the folds' rows (prepared once per preprocessing, for further candidates)."""

    scores: dict[int, OutOfFold]
    y: np.ndarray | None
    folds: list[np.ndarray] | None = None
    crossval: CrossValidation | None = None


def cross_validate(
    table: pa.Table, hashes: np.ndarray, folds: list[Split] | None, kept: dict[int, Kept], records: list[dict], by_name: dict[str, Candidate],
    objective: Objective, description: str, stop: Stop, between: Callable[[Validated], None] | None = None,
) -> Validated:  # fmt: skip
    """The finalists that fit in the rest of the budget, fitted on each fold, their out-of-fold
    values recorded in their trials; ``between`` is called once the best trial of each model type
    has been measured, before the next best ones."""
    if not folds or not kept:
        return Validated({}, None)
    crossval = CrossValidation(table, hashes, folds, bagging_split(next(iter(kept.values())).prepared.split))
    sign = 1.0 if minimized(objective) else -1.0
    ranked = sorted(kept, key=lambda t: (sign * records[t - 1]["objective_value"], t))
    scores = {}
    validated = Validated(scores, None, crossval.positions, crossval)
    defaults = frozenset(t for t in ranked if kept[t].default)  # measured whatever the budget: the choice's fallback
    left = stop.deadline - time.monotonic()  # a type's best tuned trial too slow to measure gives way to its next best
    affordable = [t for t in ranked if t in defaults or estimated_seconds(kept[t].seconds, kept[t].prepared.split) <= left]
    measured = finalists(affordable, lambda t: kept[t].model_type, lambda t: kept[t].seconds, defaults)
    firsts = len({kept[t].model_type for t in measured})
    unbounded = Stop(stop.cancel, math.inf)  # the defaults' folds: only the user's cancel stops them
    for index, trial_id in enumerate(measured + [None]):
        if index == firsts and between is not None:
            validated.y = crossval.y
            between(validated)
        if trial_id is None:
            break
        trial, default = kept[trial_id], trial_id in defaults
        if not default and not fits_in(estimated_seconds(trial.seconds, trial.prepared.split), stop.deadline):
            continue
        budgeted = unbounded if default else stop
        fit = lambda candidate, prepared, options: fit_candidate(candidate, prepared, options, description, budgeted)[0]  # noqa: E731
        leader = min(scores, key=lambda t: (sign * scores[t].value, t), default=None)
        race = None if leader is None else lambda values: clearly_worse(scores[leader].fold_values, values, sign)  # noqa: E731
        try:
            found = crossval.run(by_name[trial.model_type], trial.options, fit, objective, race=race)
        except Cancelled:
            if stop.by_user():
                raise
            break  # the budget ran out (on a tuned finalist: the defaults come first)
        except Error:  # a fold the family cannot learn (a class missing from its rows…)
            continue
        if found is not None:
            records[trial_id - 1].update(cross_validation_objective_value=found.value, cross_validation_folds=len(found.fold_values))
            if isinstance(found, OutOfFold):
                scores[trial_id] = found
    validated.y = crossval.y
    return validated
