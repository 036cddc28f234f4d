"""Refit on the training and validation rows: the chosen members, once chosen, learn from every row
that is not a test row. A choice made on the validation rows alone (more than
:data:`~sqlml.ml.automl.crossval.MAX_ROWS` rows, a split by time, or no time left to cross-validate
it) serves the refit; a cross-validated choice serves its fold models and the refit, half each
(:mod:`sqlml.ml.automl.search`), the refit then reading the fold models' feature matrix.

The validation rows choose the candidate; once it is chosen they are more training rows (AutoGluon's
``refit_full``, auto-sklearn's ``refit``). Each member is refitted with the options of its trial and the number of iterations it ran
(boosting rounds, epochs, descent steps, with ``early_stop`` off: the refit has no rows left to stop
on), on rows preprocessed afresh over the training and validation rows. The refit happens only when
the model has test rows (its metrics are computed there; on the validation rows they would be
training metrics) and when it fits in the rest of the budget — or, past it, in :data:`SHARE` of the
budget (a refit of small members is the search's last step, as a family's default trial may run
past the budget); otherwise the members stay as the search trained them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.errors import Cancelled, Error
from sqlml.ml.automl.candidates import Candidate, Rows
from sqlml.ml.automl.crossval import bagging_split, fits_in
from sqlml.ml.automl.fitting import Kept, Stop, fit_candidate, fixed_iterations
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.training.preparation import Prepared
from sqlml.ml.training.split import Split


#: The share of the budget a refit may take past the budget's end.
SHARE = 0.1


@dataclass
class Member:
    """A chosen member to refit: its candidate, the candidate whose preprocessing it reads, its
    trial's options, weight and ML.TRAINING_INFO rows (one per iteration)."""

    candidate: Candidate
    rows_of: Candidate
    options: dict
    weight: float
    training_info: list[dict]


@dataclass
class Refitted:
    """The refitted members' rows, ``(model_type, options, weight, estimator)`` members and the
    first member's ML.TRAINING_INFO rows."""

    prepared: Prepared
    members: list[tuple[str, dict, float, Estimator]]
    training_info: list[dict]


def refit_split(split: Split) -> Split | None:
    """Training rows = training + validation rows, the validation and test rows as they were; None
    without test rows."""
    return bagging_split(split) if len(split.test) else None


def refit_chosen(
    table: pa.Table, hashes: np.ndarray, kept: dict[int, Kept], weights: dict[int, float], by_name: dict[str, Candidate],
    description: str, budget: Stop, seconds: float, bag: Rows | None = None,
) -> Refitted | None:  # fmt: skip
    """The chosen members (trial id → weight) refitted on the training and validation rows when
    the model has test rows and the refit fits before ``budget``'s deadline, or within
    :data:`SHARE` of the budget's ``seconds`` from now; None otherwise.

    With ``bag`` (the rows the chosen trials' fold models were fitted on, one preprocessing of the
    training and validation rows: the same rows the refit learns from) the refit reads them, so
    its members join the fold models on one feature matrix, and runs whatever the budget (only the
    user's cancel stops it): it is one more fit of each member on about 5/4 of a fold's rows, after
    the five the cross-validation made."""
    first = kept[next(iter(weights))]
    split = refit_split(first.prepared.split)
    if split is None:
        return None
    if bag is not None:
        stop = Stop(budget.cancel, math.inf)
    else:
        stop = Stop(budget.cancel, max(budget.deadline, time.monotonic() + SHARE * seconds), armed=True)
        growth = len(split.train) / max(len(first.prepared.split.train), 1)
        if not fits_in(growth * sum(kept[t].seconds for t in weights), stop.deadline):
            return None
    chosen = [
        Member(by_name[kept[t].model_type], by_name[kept[t].rows_of or kept[t].model_type], kept[t].options, w, kept[t].training_info)
        for t, w in weights.items()
    ]  # fmt: skip
    try:
        fit = lambda candidate, prepared, options: fit_candidate(candidate, prepared, options, description, stop)  # noqa: E731
        return _refit(bag or Rows(table, hashes, split), chosen, fit)
    except Cancelled:
        if stop.by_user():
            raise
        return None  # the budget ran out: the members stay as the search trained them
    except Error:  # rows the refit's preprocessing cannot take (a class only in the validation rows…)
        return None


def _refit(rows: Rows, chosen: list[Member], fit: Callable) -> Refitted | None:
    """``chosen`` refitted on ``rows`` (split by :func:`refit_split`) with ``fit(candidate, prepared,
    options)`` → (estimator, training_info rows)."""
    dense_first = sorted(chosen, key=lambda m: m.rows_of.family.estimator_class(m.rows_of.model_type).accepts_sparse)
    prepared = rows.prepared(dense_first[0].rows_of)
    if any(rows.prepared(m.rows_of) is not prepared for m in chosen):  # members on one feature matrix, as searched
        return None
    members, info = [], []
    for member in chosen:
        options = fixed_iterations(member.options, member.training_info)
        estimator, training_info = fit(member.candidate, prepared, options)
        members.append((member.candidate.model_type, options, member.weight, estimator))
        info = info or training_info
    return Refitted(prepared, members, info)
