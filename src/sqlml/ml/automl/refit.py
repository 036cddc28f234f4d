"""Refit on the training and validation rows: the chosen members, once chosen, learn from every row
that is not a test row.

The validation rows choose the candidate; once it is chosen they are more training rows (AutoGluon's
``refit_full``, auto-sklearn's ``refit``, Vertex AI's final training on the training and validation
splits). Each member is refitted with the options of its trial and the number of iterations it ran
(boosting rounds, epochs, descent steps, with ``early_stop`` off: the refit has no rows left to stop
on), on rows preprocessed afresh over the training and validation rows. The refit happens only when
the model has test rows (its metrics are computed there; on the validation rows they would be
training metrics) and when it fits in the rest of the budget; otherwise the members stay as
the search trained them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.ml.automl.candidates import Candidate, Rows
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.training.preparation import Prepared
from sqlml.ml.training.split import Split


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
    if not len(split.test):
        return None
    return Split(np.sort(np.concatenate([split.train, split.evaluation])), split.evaluation, split.test, split.method)


def refit_options(options: dict, training_info: list[dict]) -> dict:
    """A trial's options with its iteration count fixed and early stopping off."""
    fixed = {**options, "early_stop": False}
    if options.get("max_iterations") and training_info:
        fixed["max_iterations"] = len(training_info)
    return fixed


def refit(table: pa.Table, hashes: np.ndarray, split: Split, chosen: list[Member], fit: Callable) -> Refitted | None:
    """``chosen`` refitted on ``split`` (:func:`refit_split`) with ``fit(candidate, prepared, options)``
    → (estimator, training_info rows)."""
    rows = Rows(table, hashes, split)
    dense_first = sorted(chosen, key=lambda m: m.rows_of.family.estimator_class(m.rows_of.model_type).accepts_sparse)
    prepared = rows.prepared(dense_first[0].rows_of)
    if any(rows.prepared(m.rows_of) is not prepared for m in chosen):  # members on one feature matrix, as searched
        return None
    members, info = [], []
    for member in chosen:
        options = refit_options(member.options, member.training_info)
        estimator, rows = fit(member.candidate, prepared, options)
        members.append((member.candidate.model_type, options, member.weight, estimator))
        info = info or rows
    return Refitted(prepared, members, info)
