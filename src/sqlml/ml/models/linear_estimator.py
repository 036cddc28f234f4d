"""LINEAR_REG and LOGISTIC_REG: BigQuery's generalized linear models, optimizer included.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm

* The objective is the row-weighted mean loss (squared error, log loss or cross-entropy) plus
  ``l2_reg·‖β‖² + l1_reg·‖β‖₁``; the intercept is not penalised. Features arrive standardized.
* ``optimize_strategy``: NORMAL_EQUATION solves the ridge system in closed form (linear
  regression only); BATCH_GRADIENT_DESCENT takes full-batch steps, proximal for L1. AUTO picks
  the normal equation unless L1 or warm start is used, there are over 10,000 features, or fewer
  than 10 rows per feature — BigQuery's rule.
* ``learn_rate_strategy='LINE_SEARCH'`` tries 2×, 1×, ½× and ¼× the current rate at each
  iteration and keeps the best (starting at ``ls_init_learn_rate``); CONSTANT uses ``learn_rate``.
* Binary models use the higher label as the positive class; multiclass models are multinomial.

The feature matrix may be a SciPy CSR matrix (a wide one-hot encoding): every product below is
written so that it stays sparse and never densifies the matrix.
"""

from __future__ import annotations

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task, check_array
from sqlml.ml.preprocessing.automatic.feature_matrix import is_sparse

_LINE_SEARCH = (2.0, 1.0, 0.5, 0.25)


def choose_strategy(options: dict, n_rows: int, n_features: int, regression: bool) -> str:
    """BigQuery's AUTO_STRATEGY rule, and the checks on an explicit NORMAL_EQUATION."""
    strategy = options["optimize_strategy"]
    blockers = []
    if options["l1_reg"] > 0:
        blockers.append("l1_reg > 0")
    if options["warm_start"]:
        blockers.append("warm_start")
    if n_features > 10_000:
        blockers.append(f"{n_features} features (over 10,000)")
    if strategy == "NORMAL_EQUATION":
        if not regression:
            raise InvalidOptionError(
                "optimize_strategy='NORMAL_EQUATION' applies to LINEAR_REG only.",
                option="optimize_strategy",
                hint="Use BATCH_GRADIENT_DESCENT or AUTO_STRATEGY for LOGISTIC_REG.",
            )
        if blockers:
            raise InvalidOptionError(
                f"optimize_strategy='NORMAL_EQUATION' cannot be used with {', '.join(blockers)}.",
                option="optimize_strategy",
                hint="Use BATCH_GRADIENT_DESCENT or AUTO_STRATEGY.",
            )
        return strategy
    if strategy == "AUTO_STRATEGY":
        if regression and not blockers and n_rows >= 10 * n_features:
            return "NORMAL_EQUATION"
        return "BATCH_GRADIENT_DESCENT"
    return strategy


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LinearModel(Estimator):
    """A linear or logistic regression; ``coef_`` is (p,) or (K, p), ``intercept_`` a scalar or (K,)."""

    accepts_sparse = True

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "LinearModel":
        X, n = train.X, len(train)
        w = np.ones(n) if train.w is None else np.asarray(train.w, dtype=np.float64)
        w = w / w.sum()
        kind = self.task.kind
        self.strategy_ = choose_strategy(self.options, n, X.shape[1], kind == "regression")
        self._init(X, train.y, w)
        if self.strategy_ == "NORMAL_EQUATION":
            self._normal_equation(X, train.y, w)
            monitor.iteration(self._data_loss(X, train.y, w), self._eval_loss(evaluation), None)
        else:
            self._gradient_descent(X, train.y, w, evaluation, monitor)
        return self

    # -- model ---------------------------------------------------------------------------------

    def _init(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> None:
        p, kind = X.shape[1], self.task.kind
        fit_intercept = self.options["fit_intercept"]
        if kind == "multiclass":
            K = self.task.n_classes
            self.coef_ = np.zeros((K, p))
            prior = np.bincount(y.astype(np.int64), weights=w, minlength=K) + 1e-12
            self.intercept_ = np.log(prior) - np.log(prior).mean() if fit_intercept else np.zeros(K)
        elif kind == "binary":
            self.coef_ = np.zeros(p)
            rate = float(np.clip(np.dot(w, y), 1e-12, 1 - 1e-12))
            self.intercept_ = float(np.log(rate / (1 - rate))) if fit_intercept else 0.0
        else:
            self.coef_ = np.zeros(p)
            self.intercept_ = float(np.dot(w, y)) if fit_intercept else 0.0

    def decision(self, X: np.ndarray, coef: np.ndarray | None = None, intercept: np.ndarray | float | None = None) -> np.ndarray:
        """Linear scores: Xβ + b ((n,) or (n, K))."""
        coef = self.coef_ if coef is None else coef
        intercept = self.intercept_ if intercept is None else intercept
        return X @ coef.T + intercept if coef.ndim == 2 else X @ coef + intercept

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision(X)
        if self.task.kind == "binary":
            p = _sigmoid(scores)
            return np.column_stack([1.0 - p, p])
        if self.task.kind == "multiclass":
            return _softmax(scores)
        return scores

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's weight times its value, the intercept last (exact for a linear score)."""
        coef, intercept = np.atleast_2d(self.coef_), np.atleast_1d(self.intercept_)
        parts = X[:, None, :] * coef[None, :, :]
        bias = np.broadcast_to(intercept[None, :, None], (X.shape[0], coef.shape[0], 1))
        return np.concatenate([parts, bias], axis=2)

    def _data_loss(self, X, y, w, coef=None, intercept=None) -> float:
        scores = self.decision(X, coef, intercept)
        kind = self.task.kind
        if kind == "regression":
            return float(np.dot(w, (y - scores) ** 2))
        if kind == "binary":
            # log(1 + e^s) - y·s, computed stably
            return float(np.dot(w, np.logaddexp(0.0, scores) - y * scores))
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        picked = shifted[np.arange(len(y)), y.astype(np.int64)]
        return float(np.dot(w, log_norm - picked))

    def _objective(self, X, y, w, coef, intercept) -> float:
        penalty = self.options["l2_reg"] * float(np.sum(coef**2)) + self.options["l1_reg"] * float(np.sum(np.abs(coef)))
        return self._data_loss(X, y, w, coef, intercept) + penalty

    def _gradient(self, X, y, w):
        scores = self.decision(X)
        kind = self.task.kind
        if kind == "regression":
            residual = 2.0 * w * (scores - y)
        elif kind == "binary":
            residual = w * (_sigmoid(scores) - y)
        else:
            onehot = np.zeros_like(scores)
            onehot[np.arange(len(y)), y.astype(np.int64)] = 1.0
            residual = w[:, None] * (_softmax(scores) - onehot)
        grad_coef = (X.T @ residual).T  # (K, p) or (p,); Xᵀ·r keeps a sparse X sparse
        grad_coef = grad_coef + 2.0 * self.options["l2_reg"] * self.coef_
        grad_intercept = residual.sum(axis=0) if self.options["fit_intercept"] else np.zeros_like(self.intercept_)
        return grad_coef, grad_intercept

    def _step(self, rate: float, grad_coef, grad_intercept):
        coef = self.coef_ - rate * grad_coef
        l1 = self.options["l1_reg"]
        if l1 > 0:  # proximal step: soft-threshold
            coef = np.sign(coef) * np.maximum(np.abs(coef) - rate * l1, 0.0)
        return coef, self.intercept_ - rate * grad_intercept

    def _gradient_descent(self, X, y, w, evaluation, monitor: Monitor) -> None:
        line_search = self.options["learn_rate_strategy"] == "LINE_SEARCH"
        rate = self.options["ls_init_learn_rate"] if line_search else self.options["learn_rate"]
        for _ in range(self.options["max_iterations"]):
            grad_coef, grad_intercept = self._gradient(X, y, w)
            candidates = [rate * factor for factor in _LINE_SEARCH] if line_search else [rate]
            best = None
            for candidate in candidates:
                coef, intercept = self._step(candidate, grad_coef, grad_intercept)
                value = self._objective(X, y, w, coef, intercept)
                if best is None or value < best[0]:
                    best = (value, candidate, coef, intercept)
            _, rate, self.coef_, self.intercept_ = best
            if not monitor.iteration(self._data_loss(X, y, w), self._eval_loss(evaluation), rate):
                break

    def _normal_equation(self, X, y, w) -> None:
        fit_intercept = self.options["fit_intercept"]
        design = _with_ones(X) if fit_intercept else X
        weighted = design.multiply(w[:, None]).tocsr() if is_sparse(design) else design * w[:, None]
        gram = design.T @ weighted
        if is_sparse(gram):  # at most 10,000 features (choose_strategy), so a dense Gram matrix fits
            gram = gram.toarray()
        penalty = np.full(design.shape[1], self.options["l2_reg"])
        if fit_intercept:
            penalty[-1] = 0.0
        gram[np.diag_indices_from(gram)] += penalty
        rhs = weighted.T @ y
        solution = _solve_normal_equation(gram, rhs, positive_definite=self.options["l2_reg"] > 0)
        self.coef_ = solution[:-1] if fit_intercept else solution
        self.intercept_ = float(solution[-1]) if fit_intercept else 0.0

    def _eval_loss(self, evaluation: Dataset | None) -> float | None:
        if evaluation is None or not len(evaluation):
            return None
        w = np.ones(len(evaluation)) if evaluation.w is None else np.asarray(evaluation.w, dtype=np.float64)
        return self._data_loss(evaluation.X, evaluation.y, w / w.sum())

    def state(self) -> EstimatorState:
        arrays = {"coef": np.asarray(self.coef_), "intercept": np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64))}
        return {"strategy": self.strategy_}, arrays, {}

    @classmethod
    def from_state(
        cls, options: dict, task: Task, params: dict, arrays: dict[str, np.ndarray], texts: dict[str, str]
    ) -> LinearModel:
        estimator = cls(options=options, task=task)
        estimator.strategy_ = params["strategy"]
        p, k = len(task.feature_names), task.n_classes
        multiclass = task.kind == "multiclass"
        estimator.coef_ = check_array(arrays, "coef", (k, p) if multiclass else (p,))
        intercept = check_array(arrays, "intercept", (k,) if multiclass else (1,))
        estimator.intercept_ = intercept if multiclass else float(intercept[0])
        return estimator


def _solve_normal_equation(gram: np.ndarray, rhs: np.ndarray, positive_definite: bool) -> np.ndarray:
    """The weights solving ``gram @ w = rhs``. With an L2 penalty the matrix is positive definite
    and a Cholesky solve is exact and ~10x faster than an SVD on a wide one-hot design; without
    one it may be singular (one-hot columns sum to the intercept's), and the SVD's least-squares
    solution of minimum norm is the answer."""
    if positive_definite:
        from scipy import linalg

        try:
            return linalg.cho_solve(linalg.cho_factor(gram), rhs)
        except np.linalg.LinAlgError:  # positive definite on paper, not in floating point
            pass
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def _with_ones(X):
    """``X`` with a column of ones appended (the intercept's), sparse if ``X`` is."""
    if is_sparse(X):
        from scipy import sparse

        return sparse.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    return np.column_stack([X, np.ones(X.shape[0])])
