"""BOOSTED_TREE_* and RANDOM_FOREST_* models, trained with LightGBM.

BigQuery trains these with XGBoost; sqlml maps each XGBoost option onto LightGBM's nearest
parameter (https://lightgbm.readthedocs.io/en/stable/Parameters.html):

* ``max_tree_depth`` → ``max_depth`` with ``num_leaves = 2**depth`` (XGBoost grows depth-wise),
  but never more leaves than training rows: a tree cannot have more, and LightGBM sizes its
  per-leaf buffers by ``num_leaves`` (a depth-20 forest on 960 rows: 213 s at 2**17, 11 s at 960,
  the same trees);
* ``learn_rate`` → ``learning_rate``; ``l1_reg``/``l2_reg`` → ``lambda_l1``/``lambda_l2``;
* ``min_tree_child_weight`` → ``min_sum_hessian_in_leaf`` (XGBoost's min_child_weight), with
  ``min_data_in_leaf = 1`` since XGBoost has no row minimum;
* ``min_split_loss`` → ``min_gain_to_split``; ``subsample`` → ``bagging_fraction``;
* ``colsample_bytree`` → ``feature_fraction``; ``colsample_bynode`` × ``colsample_bylevel`` →
  ``feature_fraction_bynode`` (LightGBM has no per-level sampling);
* ``tree_method`` → histogram resolution: HIST/AUTO 255 bins, APPROX 63, EXACT 1023;
* ``booster_type='DART'`` → ``boosting='dart'`` with ``drop_rate = dropout``;
  ``dart_normalize_type`` TREE (XGBoost's default) → ``xgboost_dart_mode``;
* ``num_parallel_tree = k > 1`` (a boosted random forest) has no LightGBM equivalent: each round
  grows k trees at ``learning_rate / k`` on bagged rows, so k trees share one round's step;
* random forests use LightGBM's ``boosting='rf'`` with ``num_parallel_tree`` trees.

Label-encoded categorical columns are passed as LightGBM categorical features.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from sqlml.errors import CorruptModelError, TrainingError
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task
from sqlml.ml.models.lightgbm_import import import_lightgbm

_BINS = {"AUTO": 255, "HIST": 255, "APPROX": 63, "EXACT": 1023}
_OBJECTIVE = {"regression": ("regression", "l2"), "binary": ("binary", "binary_logloss"), "multiclass": ("multiclass", "multi_logloss")}
SEED = 20240601


def lightgbm_params(options: dict, task: Task, random_forest: bool, rows: int) -> tuple[dict, int]:
    """LightGBM parameters and the number of boosting rounds for BigQuery ``options`` and ``rows``
    training rows."""
    objective, metric = _OBJECTIVE[task.kind]
    depth = options["max_tree_depth"]
    params = {
        "objective": objective,
        "metric": metric,
        "max_depth": depth,
        "num_leaves": max(2, min(2**depth, 131072, rows)),
        "lambda_l1": options["l1_reg"],
        "lambda_l2": options["l2_reg"],
        "min_sum_hessian_in_leaf": float(options["min_tree_child_weight"]),
        "min_data_in_leaf": 1,
        "min_gain_to_split": options["min_split_loss"],
        "feature_fraction": options["colsample_bytree"] or 1e-9,
        "feature_fraction_bynode": (options["colsample_bynode"] * options["colsample_bylevel"]) or 1e-9,
        "max_bin": _BINS[options["tree_method"]],
        "num_threads": options.get("_threads") or os.cpu_count() or 1,
        "seed": SEED,
        "deterministic": True,
        "verbose": -1,
    }
    if task.kind == "multiclass":
        params["num_class"] = task.n_classes
    subsample = options["subsample"]
    if random_forest:
        params.update(boosting="rf", bagging_fraction=min(subsample, 1 - 1e-9), bagging_freq=1)
        return params, options["num_parallel_tree"]
    rounds = options["max_iterations"]
    learning_rate = options["learn_rate"]
    trees = options["num_parallel_tree"]
    if trees > 1:
        rounds *= trees
        learning_rate /= trees
        subsample = min(subsample, 0.8) if subsample >= 1 else subsample
    if subsample < 1:
        params.update(bagging_fraction=subsample, bagging_freq=1)
    params["learning_rate"] = learning_rate
    if options["booster_type"] == "DART":
        params.update(boosting="dart", drop_rate=options["dropout"], xgboost_dart_mode=options["dart_normalize_type"] == "TREE")
    return params, rounds


class TreeEnsemble(Estimator):
    """A LightGBM booster for one of the four tree model types."""

    random_forest = False

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "TreeEnsemble":
        lgb = import_lightgbm()

        params, rounds = lightgbm_params(self.options, self.task, self.random_forest, train.X.shape[0])
        categorical = self.task.categorical_features or "auto"
        train_set = lgb.Dataset(train.X, train.y, weight=train.w, categorical_feature=categorical, free_raw_data=False)
        valid_sets, names = [train_set], ["train"]
        if evaluation is not None and len(evaluation):
            valid_sets.append(lgb.Dataset(evaluation.X, evaluation.y, weight=evaluation.w, reference=train_set))
            names.append("eval")
        outputs = {}

        def keep_outputs(predictions: np.ndarray, _data) -> list:
            outputs["last"] = np.array(predictions)
            return []

        def on_last_round(booster) -> None:
            # LightGBM keeps every dataset's scores up to date as it trains; reading them after the
            # final round (the same values Booster.predict computes) saves the stored metrics a
            # prediction pass over the rows. The eval split's, when there is one, else the training rows'.
            if len(valid_sets) > 1:
                booster.eval_valid(feval=keep_outputs)
            else:
                booster.eval_train(feval=keep_outputs)

        try:
            self.booster_ = lgb.train(
                params, train_set, num_boost_round=rounds, valid_sets=valid_sets, valid_names=names,
                callbacks=[_monitor_callback(monitor, params.get("learning_rate"), self.random_forest, on_last_round)],
            )  # fmt: skip
        except lgb.basic.LightGBMError as error:  # its own checks on the data (a one-row random forest bags no row)
            raise TrainingError(
                f"LightGBM could not train on {train.X.shape[0]} row(s): {str(error).splitlines()[0].split(' at ')[0]}.",
                hint="Train on more rows" + (": a random forest samples a subsample of the rows for every tree." if self.random_forest else "."),
            ) from error
        self._fitted = self._as_outputs(outputs["last"]) if "last" in outputs else None
        return self

    def fitted_outputs(self) -> np.ndarray | None:
        return getattr(self, "_fitted", None)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities or values; a stored model's booster scores through its compiled
        form once the rows justify compiling (:mod:`sqlml.ml.compiled.predictor`), with equal
        output. A booster just trained scores through LightGBM (its predictions are few)."""
        scorer = getattr(self, "scorer_", None)
        if scorer is None:
            return self._as_outputs(self.booster_.predict(X, num_threads=_threads_for(X.shape[0])))
        return self._as_outputs(scorer.predict(X, _threads_for(X.shape[0])))

    def _as_outputs(self, raw: np.ndarray) -> np.ndarray:
        """LightGBM's scores in :meth:`Estimator.predict`'s shape (both class probabilities for binary)."""
        if self.task.kind == "binary":
            return np.column_stack([1.0 - raw, raw])
        return raw

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Exact Tree SHAP contributions (LightGBM's ``pred_contrib``), last entry the bias."""
        raw = self.booster_.predict(X, pred_contrib=True, num_threads=_threads_for(len(X)))
        outputs = self.task.n_classes if self.task.kind == "multiclass" else 1
        return raw.reshape(X.shape[0], outputs, X.shape[1] + 1)

    def state(self) -> EstimatorState:
        return {}, {}, {"booster.txt": self.booster_.model_to_string()}

    @classmethod
    def from_state(
        cls, options: dict, task: Task, params: dict, arrays: dict[str, np.ndarray], texts: dict[str, str]
    ) -> TreeEnsemble:
        """Rebuild the booster, after checking its text fits the model (LightGBM's parser trusts it)."""
        from sqlml.ml.models.lightgbm_text import load_booster

        text = texts.get("booster.txt")
        if text is None:
            raise CorruptModelError("The model has no booster.txt.", hint="Re-train it with CREATE OR REPLACE MODEL.")
        from sqlml.ml.compiled.predictor import BoosterScorer

        estimator = cls(options=options, task=task)
        estimator.booster_ = load_booster(text, features=len(task.feature_names), classes=task.n_classes if task.kind == "multiclass" else 1)
        estimator.scorer_ = BoosterScorer(estimator.booster_, text)
        return estimator


class BoostedTree(TreeEnsemble):
    """BOOSTED_TREE_CLASSIFIER / BOOSTED_TREE_REGRESSOR."""


class RandomForest(TreeEnsemble):
    """RANDOM_FOREST_CLASSIFIER / RANDOM_FOREST_REGRESSOR."""

    random_forest = True


def _monitor_callback(monitor: Monitor, learning_rate: float | None, forest: bool, on_last_round: Callable):
    """Report each boosting round and call ``on_last_round(booster)`` after the model's last one
    (the budget's end or an early stop). A random forest is one iteration (XGBoost grows all its
    trees in a single round), so its trees only advance progress and the last one records the row."""
    lgb = import_lightgbm()

    def callback(env) -> None:
        last = env.iteration == env.end_iteration - 1
        if forest and not last:
            monitor.step(f"tree {env.iteration + 1}")
            if env.iteration >= 1 and monitor.forest_full():  # LightGBM keeps (and averages) the trees grown, at least 2
                raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)
            return
        results = {name: value for name, _metric, value, _higher in env.evaluation_result_list}
        keep_going = monitor.iteration(results.get("train"), results.get("eval"), learning_rate)
        if last or not keep_going:
            on_last_round(env.model)
        if not keep_going:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    callback.order = 30
    return callback


#: Below this many rows, starting LightGBM's worker threads costs more than they save (a served
#: single-row request: 0.04 ms on one thread).
PARALLEL_MIN_ROWS = 2_000


def _threads_for(rows: int) -> int:
    return 1 if rows < PARALLEL_MIN_ROWS else os.cpu_count() or 1
