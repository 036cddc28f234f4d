"""DNN_* and DNN_LINEAR_COMBINED_* models: a feed-forward network trained by :mod:`sqlml.ml.deep`.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-dnn-models
and …-create-wnd-models.

* A regressor has one linear output and learns the label standardized (its mean and standard
  deviation over the training rows are kept and undone at prediction), so that the default
  learn_rate of 0.001 trains labels of any scale; ML.TRAINING_INFO's losses are in the label's
  own units (mean squared error).
* A binary classifier has one logit (the higher class's, as TensorFlow's estimators), a
  multiclass one a logit per class; losses are log loss and cross-entropy.
* Class weights are row weights of the loss. One ML.TRAINING_INFO iteration is one epoch.
* Wide & deep adds a linear part from the features to the outputs with its own optimizer and
  learning rate (``[STRUCT('dnn', …), STRUCT('linear', …)]``).
* Feature attributions (ML.EXPLAIN_PREDICT, ML.GLOBAL_EXPLAIN): integrated gradients from the
  mean training row, with ``integrated_gradients_num_steps`` points
  (:mod:`sqlml.ml.deep.attribution`).
"""

from __future__ import annotations

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.deep import attribution
from sqlml.ml.deep.network import Network, NetworkSpec
from sqlml.ml.deep.options import network_shape
from sqlml.ml.deep.training import TrainPlan, train
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task, check_array

SEED = 20240601
#: The optimizer and learning rate of each part of a wide & deep model when not given (BigQuery's).
DEFAULT_PARTS = {"dnn": ("ADAM", 0.001), "linear": ("FTRL", 0.001)}
_LOSS = {"regression": "mse", "binary": "binary", "multiclass": "multiclass"}


def part_settings(options: dict, wide: bool) -> dict[str, tuple[str, float]]:
    """Part → (optimizer, learning rate): one part for a DNN; ``dnn`` and ``linear`` for wide &
    deep, each from its entry of a per-part array, the single value, or BigQuery's default."""
    parts = ("dnn", "linear") if wide else ("dnn",)
    optimizer, rate = options.get("optimizer"), options.get("learn_rate")
    settings = {}
    for part in parts:
        name = _for_part(optimizer, part, DEFAULT_PARTS[part][0] if wide else "ADAM")
        settings[part] = (str(name).upper(), float(_for_part(rate, part, DEFAULT_PARTS[part][1])))
    return settings


def _for_part(value, part: str, default):
    if value is None:
        return default
    if isinstance(value, (list, tuple)):  # [(part, value), …] (lists once read back from JSON)
        return next((v for p, v in value if str(p).lower() == part), default)
    return value


class DnnModel(Estimator):
    """A DNN or wide & deep regressor or classifier; ``warm_start=TRUE`` continues from the
    replaced version's weights (:attr:`Estimator.previous`)."""

    wide = False
    warm_starts = True

    def fit(self, train_set: Dataset, evaluation: Dataset | None, monitor: Monitor) -> DnnModel:
        kind = self.task.kind
        outputs = self.task.n_classes if kind == "multiclass" else 1
        previous = self.previous
        options = self.options
        if previous is not None and options.get("hidden_units") is None:  # a warm start keeps the layers
            options = {**options, "hidden_units": previous.network_.spec.hidden_units}
        hidden, batch = network_shape(options, len(train_set), train_set.X.shape[1], outputs)
        self.network_ = Network(NetworkSpec(
            inputs=train_set.X.shape[1], hidden_units=hidden, outputs=outputs,
            activation=options.get("activation_fn") or "RELU", dropout=float(options.get("dropout") or 0.0),
            batch_norm=bool(options.get("batch_norm")), wide=self.wide, seed=SEED,
        ))  # fmt: skip
        self.label_mean_, self.label_scale_ = 0.0, 1.0
        if previous is not None:
            self._continue_from(previous)
        elif kind == "regression":
            self.label_mean_ = float(np.mean(train_set.y))
            self.label_scale_ = float(np.std(train_set.y)) or 1.0
        plan = TrainPlan(
            loss=_LOSS[kind], optimizers=part_settings(self.options, self.wide), batch_size=batch,
            max_iterations=int(self.options.get("max_iterations") or 20),
            l1_reg=float(self.options.get("l1_reg") or 0.0), l2_reg=float(self.options.get("l2_reg") or 0.0),
            seed=SEED, loss_scale=self.label_scale_**2,
        )  # fmt: skip
        evaluated = train(self.network_, plan, self._scaled(train_set), self._scaled(evaluation), monitor)
        self._fitted = None if evaluated is None else self._outputs(evaluated)
        self.baseline_ = np.asarray(train_set.X.mean(axis=0), dtype=np.float64).reshape(-1)
        return self

    def fitted_outputs(self) -> np.ndarray | None:
        """The evaluation rows' outputs from training's last eval pass (None without an eval split)."""
        return getattr(self, "_fitted", None)

    def _continue_from(self, previous: DnnModel) -> None:
        """Start from the replaced version's weights (``warm_start=TRUE``): BigQuery requires the
        same hidden_units; the activation and batch_norm must also leave the weights' shapes alone.

        Raises:
            InvalidOptionError: the network's layers differ from the replaced version's.
        """
        before, now = previous.network_, self.network_
        shapes = lambda network: {name: array.shape for name, array in network.arrays().items()}  # noqa: E731
        if before.spec.hidden_units != now.spec.hidden_units or shapes(before) != shapes(now):
            raise InvalidOptionError(
                f"warm_start=TRUE continues from weights of hidden_units={before.spec.hidden_units}, "
                f"activation_fn='{before.spec.activation}', batch_norm={str(before.spec.batch_norm).upper()}; "
                f"this statement's network has hidden_units={now.spec.hidden_units}, activation_fn='{now.spec.activation}', "
                f"batch_norm={str(now.spec.batch_norm).upper()}.",
                option="hidden_units",
                hint="Keep the layers of the current version, or remove warm_start to train new weights.",
            )
        now.assign(before.arrays())
        self.label_mean_, self.label_scale_ = previous.label_mean_, previous.label_scale_

    def _scaled(self, dataset: Dataset | None) -> Dataset | None:
        """``dataset`` with a regressor's label standardized."""
        if dataset is None or self.task.kind != "regression":
            return dataset
        return Dataset(dataset.X, (np.asarray(dataset.y, dtype=np.float64) - self.label_mean_) / self.label_scale_, dataset.w)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._outputs(self.network_.predict(X))

    def _outputs(self, z: np.ndarray) -> np.ndarray:
        """:meth:`predict`'s outputs from the network's raw ones: the value, or class probabilities."""
        if self.task.kind == "regression":
            return z[:, 0] * self.label_scale_ + self.label_mean_
        if self.task.kind == "binary":
            p = 0.5 * (1.0 + np.tanh(0.5 * z[:, 0]))  # the sigmoid, without overflow
            return np.column_stack([1.0 - p, p])
        shifted = np.exp(z - z.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Integrated gradients of the raw outputs (the prediction of a regressor, the logits of
        a classifier) from the mean training row; baseline + Σ = the raw output exactly."""
        steps = int(self.options.get("integrated_gradients_num_steps") or 15)
        raw = attribution.contributions(self.network_, np.asarray(X, dtype=np.float64), self.baseline_, steps)
        if self.task.kind == "regression":
            raw *= self.label_scale_
            raw[:, :, -1] += self.label_mean_
        return raw

    def state(self) -> EstimatorState:
        params = {"network": self.network_.spec.describe(), "label_mean": self.label_mean_, "label_scale": self.label_scale_}
        arrays = {f"network/{name}": array for name, array in self.network_.arrays().items()}
        arrays["baseline"] = self.baseline_
        return params, arrays, {}

    @classmethod
    def from_state(cls, options: dict, task: Task, params: dict, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> DnnModel:
        """Rebuild the network from its description and assign the stored weights (checked)."""
        estimator = cls(options=options, task=task)
        spec = NetworkSpec.from_description(params["network"])
        weights = {name.removeprefix("network/"): array for name, array in arrays.items() if name.startswith("network/")}
        estimator.network_ = Network.from_arrays(spec, weights)
        estimator.baseline_ = check_array(arrays, "baseline", (spec.inputs,))
        estimator.label_mean_, estimator.label_scale_ = float(params["label_mean"]), float(params["label_scale"])
        return estimator


class WideDeepModel(DnnModel):
    """DNN_LINEAR_COMBINED_CLASSIFIER / DNN_LINEAR_COMBINED_REGRESSOR."""

    wide = True
