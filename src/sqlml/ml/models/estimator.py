"""The contract every model family implements, and the training monitor they report to.

An estimator follows scikit-learn's shape (options stored by ``__init__``, ``fit(...) -> self``,
learned state with a trailing underscore) but works on sqlml's own terms: it trains on a feature
matrix that preprocessing produced, records one ML.TRAINING_INFO row per iteration through a
:class:`Monitor`, and saves its state as JSON, NumPy arrays and text files — never pickle.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from sqlml.errors import Cancelled, CorruptModelError, ModelError
from sqlml.progress import task


#: An estimator's saved state: JSON parameters, NumPy arrays and text files (never pickle).
EstimatorState = tuple[dict, dict[str, np.ndarray], dict[str, str]]


@dataclass
class Task:
    """What an estimator learns.

    Attributes:
        kind: ``regression``, ``binary``, ``multiclass``, ``clustering`` or ``decomposition``.
        n_classes: number of classes of a classifier.
        feature_names: names of the columns of the feature matrix.
        categorical_features: indices of label-encoded categorical features.
        sparse: the feature matrix is a SciPy CSR matrix (a wide one-hot encoding), in training
            and prediction alike.
    """

    kind: str
    n_classes: int = 0
    feature_names: list[str] = field(default_factory=list)
    categorical_features: list[int] = field(default_factory=list)
    sparse: bool = False

    @property
    def is_classification(self) -> bool:
        """A binary or multiclass classifier."""
        return self.kind in ("binary", "multiclass")


@dataclass
class Dataset:
    """Rows to train or evaluate on: features (dense, or CSR for a sparse task), encoded label and
    row weights."""

    X: np.ndarray
    y: np.ndarray | None = None
    w: np.ndarray | None = None

    def __len__(self) -> int:
        return self.X.shape[0]


def check_array(arrays: dict, name: str, shape: tuple, model: str | None = None) -> np.ndarray:
    """A stored array, checked against the shape the model's description implies (None: any
    length) and for a float dtype, before any native code reads it.

    Raises:
        CorruptModelError: the array is missing or has another shape or dtype.
    """
    array = arrays.get(name)
    fits = (
        isinstance(array, np.ndarray)
        and array.dtype.kind == "f"
        and array.ndim == len(shape)
        and all(want is None or have == want for have, want in zip(array.shape, shape))
    )
    if not fits:
        found = "missing" if array is None else f"{getattr(array, 'dtype', '?')} {getattr(array, 'shape', '?')}"
        raise CorruptModelError(
            f"The model file's array {name} is {found}; the model's description needs float {shape}.",
            model=model,
            hint="Re-train the model with CREATE OR REPLACE MODEL.",
        )
    return array


class Monitor:
    """Records ML.TRAINING_INFO rows, reports progress, applies BigQuery's early stop, checks Ctrl-C.

    BigQuery stops after the first iteration whose relative loss improvement is below
    ``min_rel_progress`` (eval loss when there is an eval split, else training loss):
    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm#early_stop

    Args:
        description: shown by progress bars.
        total: the iteration budget (max_iterations).
        early_stop: whether to stop on small progress.
        min_rel_progress: the relative improvement threshold.
        cancel: set by another thread to stop training between iterations.
        observer: called with each recorded row (hyperparameter tuning prunes trials with it).
    """

    def __init__(
        self,
        description: str,
        total: int | None,
        *,
        early_stop: bool = False,
        min_rel_progress: float = 0.01,
        cancel: threading.Event | None = None,
        observer=None,
    ):
        self.description = description
        self.observer = observer
        self.total = total
        self.early_stop = early_stop
        self.min_rel_progress = min_rel_progress
        self.cancel = cancel
        self.rows: list[dict] = []
        self._last = time.monotonic()
        self._handle = None
        self.forest_deadline: float | None = None

    def __enter__(self) -> "Monitor":
        self._context = task(self.description, self.total, "iterations")
        self._handle = self._context.__enter__()
        self._last = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)

    def forest_full(self) -> bool:
        """Whether a random forest should stop growing and keep the trees it has: past
        :attr:`forest_deadline` (an AutoML search caps slow forests so; None: grow them all)."""
        return self.forest_deadline is not None and time.monotonic() > self.forest_deadline

    def check_cancelled(self) -> None:
        """Raise :class:`~sqlml.errors.Cancelled` if the user asked to stop."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("Training was cancelled; the previous model is unchanged.")

    def step(self, detail: str = "") -> None:
        """Report progress within an iteration (e.g. one tree of a forest) without recording a row."""
        if self._handle is not None:
            self._handle.advance(1, detail)
        self.check_cancelled()

    def iteration(self, loss: float | None, eval_loss: float | None = None, learning_rate: float | None = None, **extra: object) -> bool:
        """Record one iteration; return False when training should stop early."""
        now = time.monotonic()
        row = {
            "iteration": len(self.rows),
            "loss": _finite(loss),
            "eval_loss": _finite(eval_loss),
            "learning_rate": learning_rate,
            "duration_ms": int(round((now - self._last) * 1000)),
            **extra,
        }
        self._last = now
        self.rows.append(row)
        if self._handle is not None:
            detail = f"loss {loss:.4g}" if loss is not None else ""
            if eval_loss is not None:
                detail += f", eval_loss {eval_loss:.4g}"
            self._handle.advance(1, detail)
        self.check_cancelled()
        if self.observer is not None:
            self.observer(row)
        return not self._should_stop()

    def _should_stop(self) -> bool:
        if not self.early_stop or len(self.rows) < 2:
            return False
        key = "eval_loss" if self.rows[-1]["eval_loss"] is not None else "loss"
        previous, current = self.rows[-2][key], self.rows[-1][key]
        if previous is None or current is None or previous == 0:
            return False
        return (previous - current) / abs(previous) < self.min_rel_progress


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


class Estimator:
    """Base class of the model families.

    Args:
        options: the model's resolved OPTIONS (lower-case names).
        task: what to learn.

    Attributes:
        accepts_sparse: whether ``fit`` and ``predict`` take a SciPy CSR matrix (a family that does
            gets one for a wide one-hot encoding, see :mod:`sqlml.ml.preprocessing.automatic.feature_matrix`).
        warm_starts: whether ``fit`` continues from :attr:`previous` under ``warm_start=TRUE``
            (the others train new weights whatever the option says).
        previous: under ``warm_start=TRUE``, the fitted estimator of the model version being
            replaced (same type and feature columns), set before ``fit``; None otherwise.
    """

    accepts_sparse = False
    warm_starts = False
    previous: Estimator | None = None

    def __init__(self, *, options: dict, task: Task):
        self.options = options
        self.task = task

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "Estimator":
        """Learn from ``train``; ``evaluation`` (the eval split) drives eval_loss and early stop."""
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw outputs: a value per row (regression), class probabilities (n, K), centroid
        distances (n, k) or component projections (n, k)."""
        raise NotImplementedError

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Exact per-feature contributions to the raw (pre-link) outputs, shape (rows, outputs,
        features + 1), the last entry the baseline; one output for a regressor or a binary
        classifier (its positive class's logit), one per class for a multiclass one.

        Raises:
            ModelError: the family has no feature attributions.
        """
        raise ModelError(f"{type(self).__name__} models have no feature attributions.")

    def fitted_outputs(self) -> np.ndarray | None:
        """:meth:`predict`'s outputs for the rows stored metrics use (the eval split, else the
        training rows) if fitting already computed them, else None (the caller predicts)."""
        return None

    def state(self) -> EstimatorState:
        """JSON parameters, NumPy arrays and text files that rebuild the fitted estimator."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, options: dict, task: Task, params: dict, arrays: dict, texts: dict) -> "Estimator":
        """Rebuild a fitted estimator from :meth:`state`."""
        raise NotImplementedError
