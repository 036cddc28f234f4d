"""The autoencoder family: AUTOENCODER, a dense network trained to reconstruct its input.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-autoencoder —
``hidden_units`` lists the layers from the input side, the middle entry the latent dimension
(``[128, 64, 4, 64, 128]``: an odd number of layers); ``activation_fn``, ``batch_size``,
``dropout``, ``optimizer``, ``learn_rate``, ``l1_reg``/``l2_reg``/``l1_reg_activation``,
``max_iterations`` (epochs), ``early_stop``/``min_rel_progress`` and ``warm_start`` as DNN models
take them. The rows are never split (../shared/reference/bigquery-ml.md §1.4): every row trains
and the stored metrics are those of all of them.

* ML.PREDICT returns ``latent_col_1`` … ``latent_col_n`` followed by every input column
  (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict);
* ML.GENERATE_EMBEDDING returns the same numbers as one array;
* ML.DETECT_ANOMALIES and ML.RECONSTRUCTION_LOSS compare each row's preprocessed features with the
  network's reconstruction of them (:mod:`sqlml.ml.models.anomaly`);
* ML.EVALUATE reports ``mean_absolute_error``, ``mean_squared_error`` and
  ``mean_squared_log_error`` of the reconstruction of the rows it is given
  (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate).

Numeric features are standardized and categories one-hot encoded, as for PCA and k-means
(https://cloud.google.com/bigquery/docs/auto-preprocessing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidOptionError, ModelError
from sqlml.ml.deep.options import NETWORK_OPTIONS, SINGLE_OPTIMIZER
from sqlml.ml.deep.options import check_hidden_units as check_layers
from sqlml.ml.models.anomaly import reconstruction_losses
from sqlml.ml.models.base import Evaluation, ModelFamily, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, TUNING, option, table
from sqlml.ml.models.options import HparamCandidates, Kind

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph
    from sqlml.ml.models.options import Option

MODEL_TYPE = ModelType.AUTOENCODER
#: ML.EVALUATE's columns, in BigQuery's order (reference §4, ML.EVALUATE outputs).
METRICS = ("mean_absolute_error", "mean_squared_error", "mean_squared_log_error")
#: The autoencoder page's activation functions (the DNN pages add CRELU; this one does not).
ACTIVATIONS = ("RELU", "RELU6", "ELU", "SELU", "SIGMOID", "TANH")
#: HPARAM_TUNING_OBJECTIVES, BigQuery's default first (reference §3).
OBJECTIVES = ("MEAN_SQUARED_ERROR", "MEAN_ABSOLUTE_ERROR", "MEAN_SQUARED_LOG_ERROR")


#: The neural networks' options (:mod:`sqlml.ml.deep.options`: hidden_units, batch_size, dropout,
#: batch_norm, l1_reg, l2_reg, learn_rate, optimizer, max_iterations, early_stop, min_rel_progress,
#: warm_start, tf_version), activation_fn without CRELU, and l1_reg_activation.
AUTOENCODER_OPTIONS = [
    *NETWORK_OPTIONS,
    *SINGLE_OPTIMIZER,
    option("activation_fn", Kind.ENUM, "RELU", choices=ACTIVATIONS),
    # an L1 penalty on the latent layer's activations (reference §1.13; tuning §3: (0, 10] LOG)
    option("l1_reg_activation", Kind.FLOAT, 0.0, low=0, search=(0.0, 10.0, "LOG")),
]


def check_hidden_units(units: object) -> None:
    """``hidden_units`` is an odd number (at least one) of positive layer sizes.

    Raises:
        InvalidOptionError: naming the option and showing a valid value.
    """
    check_layers(MODEL_TYPE, units)
    if isinstance(units, (list, tuple)) and len(units) % 2 == 0:
        raise InvalidOptionError(
            f"The 'hidden_units' option of CREATE MODEL (model_type='{MODEL_TYPE.lower()}') must list an odd number "
            f"of layers, the middle one the latent layer. Got {len(units)} layers {list(units)} instead.",
            option="hidden_units",
            hint="Mirror the encoder's layers after the latent layer, e.g. hidden_units=[64, 8, 64] (8 latent columns) or [8].",
        )


class AutoencoderFamily(ModelFamily):
    """AUTOENCODER."""

    name = "autoencoder"
    model_types = (MODEL_TYPE,)
    evaluation = Evaluation.OUTPUTS
    # https://cloud.google.com/bigquery/docs/hp-tuning-overview: the ranged ones (hidden_units,
    # optimizer and activation_fn are tuned only over HPARAM_CANDIDATES)
    search_space = ("batch_size", "dropout", "learn_rate", "l1_reg", "l2_reg", "l1_reg_activation")

    def target(self, model_type: str) -> Target:
        """Decomposition: it encodes rows and reconstructs them."""
        return Target.DECOMPOSITION

    def functions(self, model_type: str) -> frozenset[str]:
        """PREDICT, EVALUATE, DETECT_ANOMALIES, RECONSTRUCTION_LOSS and GENERATE_EMBEDDING."""
        return frozenset({"PREDICT", "EVALUATE", "DETECT_ANOMALIES", "RECONSTRUCTION_LOSS", "GENERATE_EMBEDDING"})

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common and tuning options, then the neural networks'."""
        return table(COMMON, TUNING, AUTOENCODER_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """``hidden_units`` (each candidate of a tuning space too): an odd, non-empty list of
        positive sizes."""
        units = options.get("hidden_units")
        for candidate in units.values if isinstance(units, HparamCandidates) else [units]:
            check_hidden_units(candidate)

    def export_formats(self, model_type: str) -> tuple[str, ...]:
        """An ONNX model of the preprocessing and the encoder (output ``latent_columns``)."""
        return ("model.onnx",)

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """The encoder replayed with ONNX operators (:func:`sqlml.ml.models.dnn_onnx.hidden_layers`)
        up to the latent activation, as one (rows, latent units) output ``latent_columns``."""
        from onnx import TensorProto

        from sqlml.ml.models.dnn_onnx import hidden_layers
        from sqlml.ml.models.onnx_graph import output

        estimator = model.estimator
        latent = hidden_layers(graph, estimator.network_, features, len(estimator.network_.spec.hidden_units) // 2 + 1)
        output(graph, latent, "latent_columns", TensorProto.DOUBLE, [None, estimator.latent_units])
        return graph

    def tuning_objectives(self, model_type: str, options: dict) -> tuple[str, ...]:
        """The three reconstruction losses, MEAN_SQUARED_ERROR first (BigQuery's default)."""
        return OBJECTIVES

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.autoencoder_estimator.Autoencoder`.

        Raises:
            ModelError: Keras or JAX is missing (naming the ``sqlml[deep]`` extra).
        """
        from sqlml.ml.deep.backend import keras
        from sqlml.ml.models.autoencoder_estimator import Autoencoder

        keras(MODEL_TYPE)
        return Autoencoder

    def output_schema(self, model: Model) -> pa.Schema:
        """``latent_col_1`` … ``latent_col_n``, one per unit of the latent layer."""
        latent = model.estimator.latent_units
        return pa.schema([pa.field(f"latent_col_{i}", pa.float64()) for i in range(1, latent + 1)])

    def prediction_columns(self, model: Model, raw: np.ndarray, threshold: float | None) -> list[pa.Array]:
        """The rows' latent values, one column per unit.

        Raises:
            ModelError: a tuning trial's latent layer is not as wide as the serving trial's, whose
                width names ML.PREDICT's columns.
        """
        width = model.estimator.latent_units
        if raw.shape[1] != width:
            raise ModelError(
                f"ML.PREDICT returns the {width} latent columns of the model's optimal trial; the trial asked for "
                f"has a latent layer of {raw.shape[1]} units (another hidden_units candidate).",
                hint="Read that trial's latent values as one array: ML.GENERATE_EMBEDDING(MODEL m, TABLE t, STRUCT(n AS trial_id)).",
            )
        return [pa.array(raw[:, i], pa.float64()) for i in range(width)]

    def reconstruct(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The network's output for the rows: their reconstruction."""
        return estimator.reconstruct(X)

    def embed(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The latent layer's values: ML.PREDICT's ``latent_col_*`` numbers."""
        return estimator.predict(X)

    def metric_names(self, model_type: str) -> tuple[str, ...]:
        """``mean_absolute_error``, ``mean_squared_error``, ``mean_squared_log_error``."""
        return METRICS

    def metric_outputs(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """Each row's three reconstruction losses, (rows, 3) in :data:`METRICS` order."""
        return np.column_stack(reconstruction_losses(X, estimator.reconstruct(X))) if len(X) else np.empty((0, 3))

    def metrics(self, model_type: str, estimator: Estimator, y: np.ndarray | None, raw: np.ndarray, threshold: float | None = None) -> dict:
        """The rows' mean losses (each row's loss is already a mean over the features, so this is
        the mean over every feature of every row); NULL for no rows."""
        if not len(raw):
            return dict.fromkeys(METRICS)
        return {name: float(value) for name, value in zip(METRICS, raw.mean(axis=0))}
