"""A search's trials: the budget's stop flag, one candidate's fit, and the trials kept for the final choice."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from sqlml.ml.automl.candidates import Candidate
from sqlml.ml.models.estimator import Estimator
from sqlml.ml.training.preparation import Prepared, monitor_for


class Stop:
    """The training monitors' cancel flag: the user's, or the budget once a trial has succeeded."""

    def __init__(self, cancel: threading.Event | None, deadline: float, armed: bool = False):
        self.cancel, self.deadline, self.armed = cancel, deadline, armed

    def by_user(self) -> bool:
        """Whether the user cancelled the statement."""
        return self.cancel is not None and self.cancel.is_set()

    def is_set(self) -> bool:
        """Whether training should stop: cancelled, or past the deadline once armed."""
        return self.by_user() or (self.armed and time.monotonic() > self.deadline)


@dataclass
class Kept:
    """A successful trial kept for the final choice: its member and validation outputs."""

    model_type: str
    options: dict
    estimator: Estimator
    outputs: np.ndarray
    training_info: list[dict]
    prepared: Prepared
    #: its fit's time (without the rows' preparation, which its family's first trial also paid)
    seconds: float = 0.0
    #: the model type whose preprocessing its rows have (None: its own)
    rows_of: str | None = None
    #: whether it is its family's default trial (always kept, cross-validated first: the choice's fallback)
    default: bool = False


def fit_candidate(
    candidate: Candidate, prepared: Prepared, options: dict, description: str, stop: Stop, forest_cap: float | None = None,
) -> tuple[Estimator, list]:  # fmt: skip
    """One candidate fitted on the training rows, and its ML.TRAINING_INFO rows (a random
    forest stops growing at ``forest_cap``)."""
    estimator = candidate.family.estimator_class(candidate.model_type)(options=options, task=prepared.task)
    with monitor_for(options, description, stop) as monitor:
        monitor.forest_deadline = forest_cap
        estimator.fit(prepared.train_set, prepared.eval_set, monitor)
    return estimator, monitor.rows


def fixed_iterations(options: dict, training_info: list[dict]) -> dict:
    """A trial's options with the iteration count it ran fixed and early stopping off: what its
    refit trains with (the refit has no rows left to stop on)."""
    fixed = {**options, "early_stop": False}
    if options.get("max_iterations") and training_info:
        fixed["max_iterations"] = len(training_info)
    return fixed
