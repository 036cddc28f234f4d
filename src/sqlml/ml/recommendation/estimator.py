"""MATRIX_FACTORIZATION's estimator: fits the factors of (user code, item code) → rating rows.

Training (:mod:`sqlml.ml.training.preparation`) hands it the rows encoded by
:mod:`sqlml.ml.recommendation.ratings`: ``X`` is (rows, 2) user and item codes, ``y`` the ratings.
EXPLICIT feedback is fitted by :mod:`sqlml.ml.recommendation.als`, IMPLICIT by the ``implicit``
library (:mod:`sqlml.ml.recommendation.wals`). One ML.TRAINING_INFO row per iteration: the loss is
the training mean squared error (explicit) or the WALS objective (implicit); the eval loss is the
same error on the eval split. The raw outputs (for the stored metrics and tuning) are (rows, 3):
the prediction, the user code and the item code of each row.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sqlml.errors import InvalidModelInputError
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task, check_array
from sqlml.ml.recommendation import als, ranking, wals

if TYPE_CHECKING:
    from scipy import sparse

MAX_FACTORS = 200


def default_num_factors(n_rows: int) -> int:
    """BigQuery's default: log2 of the number of training rows, rounded, within [2, 200]."""
    return min(MAX_FACTORS, max(2, int(round(math.log2(max(n_rows, 1))))))


class FactorizationEstimator(Estimator):
    """Factors and intercepts of users and items: ``user_factors_`` (users, k), ``item_factors_``
    (items, k), ``user_intercepts_``, ``item_intercepts_`` and ``global_intercept_``."""

    @property
    def implicit(self) -> bool:
        return self.options.get("feedback_type") == "IMPLICIT"

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "FactorizationEstimator":
        codes = np.asarray(train.X, dtype=np.int64)
        shape = (int(codes[:, 0].max()) + 1, int(codes[:, 1].max()) + 1)
        factors = self.options.get("num_factors") or default_num_factors(len(codes))
        if self.implicit:
            self._fit_implicit(codes, train.y, shape, factors, evaluation, monitor)
        else:
            self._fit_explicit(codes, train.y, shape, factors, evaluation, monitor)
        if not (np.isfinite(self.user_factors_).all() and np.isfinite(self.item_factors_).all()):
            raise self._diverged(train.y)
        return self

    def _diverged(self, ratings: np.ndarray) -> InvalidModelInputError:
        """The error of a fit whose factors became NaN or infinite: ratings too large for the
        solver (implicit's float32 confidences 1 + wals_alpha·r overflow from r ≈ 1e19 at α = 40)."""
        name = self.options.get("rating_col") or "rating"
        scale = f", each confidence 1 + wals_alpha·rating with wals_alpha = {self.options['wals_alpha']:g}" if self.implicit else ""
        return InvalidModelInputError(
            f"MATRIX_FACTORIZATION training diverged: the factors became NaN or infinite with ratings up to "
            f"{float(np.max(np.abs(ratings))):g} in {name}{scale}.",
            column=name,
            hint=f"Scale the ratings down in the training query, e.g. LOG(1 + {name}).",
        )

    def _fit_explicit(self, codes, ratings, shape, factors, evaluation, monitor) -> None:
        model = als.ExplicitALS(codes[:, 0], codes[:, 1], ratings, shape, factors, self.options["l2_reg"])
        for _ in range(self.options["max_iterations"]):
            loss = model.sweep()
            eval_loss = None
            if evaluation is not None:
                eval_codes = np.asarray(evaluation.X, dtype=np.int64)
                eval_loss = als.mean_squared_error(model, eval_codes[:, 0], eval_codes[:, 1], evaluation.y)
            if not monitor.iteration(loss, eval_loss):
                break
        self.user_factors_, self.item_factors_ = model.user_factors, model.item_factors
        self.user_intercepts_, self.item_intercepts_ = model.user_intercepts, model.item_intercepts
        self.global_intercept_ = model.global_intercept

    def _fit_implicit(self, codes, ratings, shape, factors, evaluation, monitor) -> None:
        alpha = self.options["wals_alpha"]
        rated = ranking.rated_pairs(codes[:, 0], codes[:, 1], ratings, shape)
        confidences = wals.confidences_of(rated, alpha)
        if not confidences.nnz:
            raise InvalidModelInputError(
                "An IMPLICIT matrix factorization needs positive ratings; every rating of the training rows is 0.",
                hint="Rate the interactions that happened with a value above 0.",
            )
        held_out = None
        self._scored = (codes, ratings, rated)
        if evaluation is not None:
            eval_codes = np.asarray(evaluation.X, dtype=np.int64)
            known = (eval_codes >= 0).all(axis=1)
            eval_rated = ranking.rated_pairs(eval_codes[known, 0], eval_codes[known, 1], evaluation.y[known], shape)
            held_out = wals.confidences_of(eval_rated, alpha)
            self._scored = (eval_codes, evaluation.y, eval_rated)

        def on_iteration(user_factors: np.ndarray, item_factors: np.ndarray, loss: float, duration_ms: int) -> bool:
            eval_loss = None if held_out is None else wals.weighted_error(user_factors, item_factors, held_out)
            return monitor.iteration(loss, eval_loss, duration_ms=duration_ms)

        # the losses can trail the fit by an iteration when they never stop it (no early stop, no pruning observer)
        defer = not monitor.early_stop and monitor.observer is None
        from implicit.recommender_base import ModelFitError

        try:
            model = wals.fit(confidences, factors, self.options["l2_reg"], self.options["max_iterations"], on_iteration,
                             self.options.get("_threads"), defer)  # fmt: skip
        except ModelFitError as error:  # the library's check: NaN factors
            raise self._diverged(ratings) from error
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)
        self.user_intercepts_, self.item_intercepts_ = np.zeros(shape[0]), np.zeros(shape[1])
        self.global_intercept_ = 0.0

    def scored_pairs(self, codes: np.ndarray, y: np.ndarray) -> sparse.csr_matrix | None:
        """The :func:`~sqlml.ml.recommendation.ranking.rated_pairs` an implicit fit built of the rows
        the stored metrics score (the eval split, else the training rows) when ``codes`` and ``y``
        are those rows' arrays, else None; handed out once (the stored metrics need it once)."""
        scored = self.__dict__.pop("_scored", None)
        if scored is None or scored[0] is not codes or scored[1] is not y:
            return None
        return scored[2]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(rows, 3): the predicted rating (confidence), the user code and the item code."""
        codes = np.asarray(X, dtype=np.int64)
        raw = np.empty((len(codes), 3), dtype=np.float64)
        raw[:, 1:] = codes
        raw[:, 0] = als.predict_pairs(self.user_factors_, self.item_factors_, self.user_intercepts_, self.item_intercepts_,
                                      self.global_intercept_, codes[:, 0], codes[:, 1])  # fmt: skip
        return raw

    def state(self) -> EstimatorState:
        """The factors as fitted: float32 for implicit feedback (the library's dtype, so stored
        exactly in half the bytes; read back as float64), float64 for explicit."""
        dtype = np.float32 if self.implicit else np.float64
        arrays = {"user_factors": self.user_factors_.astype(dtype, copy=False), "item_factors": self.item_factors_.astype(dtype, copy=False),
                  "user_intercepts": self.user_intercepts_, "item_intercepts": self.item_intercepts_}  # fmt: skip
        return {"global_intercept": self.global_intercept_}, arrays, {}

    @classmethod
    def from_state(cls, options: dict, task: Task, params: dict, arrays: dict, texts: dict) -> "FactorizationEstimator":
        estimator = cls(options=options, task=task)
        estimator.user_factors_ = check_array(arrays, "user_factors", (None, None)).astype(np.float64, copy=False)
        k = estimator.user_factors_.shape[1]
        estimator.item_factors_ = check_array(arrays, "item_factors", (None, k)).astype(np.float64, copy=False)
        estimator.user_intercepts_ = check_array(arrays, "user_intercepts", (len(estimator.user_factors_),))
        estimator.item_intercepts_ = check_array(arrays, "item_intercepts", (len(estimator.item_factors_),))
        estimator.global_intercept_ = float(params["global_intercept"])
        return estimator
