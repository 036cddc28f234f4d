"""AUTOENCODER's estimator: a dense network trained to reproduce its preprocessed input.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-autoencoder —
the network is the shared deep-learning core's (:mod:`sqlml.ml.deep`): ``hidden_units`` Dense
layers with ``activation_fn`` (batch normalization and dropout when asked), then a linear layer as
wide as the input, trained on the squared reconstruction error (each row's mean over its
features, the ``mean_squared_error`` ML.DETECT_ANOMALIES reports) one epoch per ML.TRAINING_INFO
iteration, with BigQuery's early stop. The latent columns are the middle hidden layer's activation
outputs. Weights are kept as NumPy arrays and the network's JSON description; the seed is fixed, so
the same statement on the same rows trains the same model.
"""

from __future__ import annotations

import numpy as np

from sqlml.errors import InvalidOptionError
from sqlml.ml.deep.network import Network, NetworkSpec
from sqlml.ml.deep.options import network_shape
from sqlml.ml.deep.training import TrainPlan
from sqlml.ml.deep.training import train as train_network
from sqlml.ml.models.estimator import Dataset, Estimator, EstimatorState, Monitor, Task

SEED = 20240601


class Autoencoder(Estimator):
    """``network_``: the fitted :class:`~sqlml.ml.deep.network.Network`. Under ``warm_start=TRUE``
    training continues from the replaced version's weights (its network: the same hidden_units,
    activation_fn and batch_norm)."""

    warm_starts = True

    @property
    def latent_units(self) -> int:
        """The latent layer's width: ML.PREDICT's number of ``latent_col_*`` columns."""
        units = self.network_.spec.hidden_units
        return int(units[len(units) // 2])

    @property
    def latent_layer(self) -> str:
        """The name of the layer whose output is the latent columns (the middle activation)."""
        return f"activation_{len(self.network_.spec.hidden_units) // 2}"

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "Autoencoder":
        options = self.options
        X = np.asarray(train.X, dtype=np.float32)
        rows, features = X.shape
        # BigQuery's defaults with as many outputs as inputs (reference §1.8, §1.13); a warm start
        # keeps the replaced network's layers unless hidden_units is given
        units = options["hidden_units"] or (self.previous.network_.spec.hidden_units if self.previous else None)
        hidden_units, batch_size = network_shape({**options, "hidden_units": units}, rows, features, features)
        spec = NetworkSpec(
            inputs=features, hidden_units=hidden_units, outputs=features, activation=options["activation_fn"],
            dropout=options["dropout"], batch_norm=options["batch_norm"], seed=SEED,
            activity_l1=options["l1_reg_activation"], activity_layer=len(hidden_units) // 2,
        )  # fmt: skip
        plan = TrainPlan(
            loss="mse", optimizers={"dnn": (options["optimizer"], options["learn_rate"])},
            batch_size=batch_size, max_iterations=options["max_iterations"],
            l1_reg=options["l1_reg"], l2_reg=options["l2_reg"], seed=SEED,
        )  # fmt: skip
        self.network_ = Network(spec) if self.previous is None else self._continued(spec)
        train_network(self.network_, plan, Dataset(X, X, train.w), None, monitor)
        return self

    def _continued(self, spec: NetworkSpec) -> Network:
        """A network of ``spec`` holding the replaced version's weights.

        Raises:
            InvalidOptionError: ``spec`` differs from that version's network in an option that
                shapes the weights (dropout and the training options may change).
        """
        before = self.previous.network_.spec
        for option, field in (("hidden_units", "hidden_units"), ("activation_fn", "activation"), ("batch_norm", "batch_norm")):
            if getattr(spec, field) != getattr(before, field):
                raise InvalidOptionError(
                    f"warm_start=TRUE continues from the current version's network, whose {option} is "
                    f"{getattr(before, field)!r}; this statement asks for {getattr(spec, field)!r}.",
                    option=option,
                    hint=f"Keep {option} as it was, or remove warm_start to train a new network.",
                )
        return Network.from_arrays(spec, self.previous.network_.arrays())

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The latent values (rows, latent units): ML.PREDICT's and ML.GENERATE_EMBEDDING's numbers."""
        return self.network_.layer_output(X, self.latent_layer)

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """The network's output (rows, features): the rows rebuilt from their latent values."""
        return self.network_.predict(X)

    def state(self) -> EstimatorState:
        return {"network": self.network_.spec.describe()}, self.network_.arrays(), {}

    @classmethod
    def from_state(cls, options: dict, task: Task, params: dict, arrays: dict, texts: dict) -> "Autoencoder":
        estimator = cls(options=options, task=task)
        estimator.network_ = Network.from_arrays(NetworkSpec.from_description(params["network"]), arrays)
        return estimator
