"""A feed-forward network described as JSON, built with Keras layers, its weights kept as arrays.

The description (:class:`NetworkSpec`) is everything needed to rebuild the layers; the weights
are NumPy arrays named by their Keras variable path (``hidden_0/kernel``…). Loading builds the
layers from the description and assigns each array after checking its shape — nothing stored is
executed.

Layers, in TensorFlow's DNN estimator order (which BigQuery trains): for each hidden layer a
Dense layer (``hidden_<i>``), batch normalization when asked (``batch_norm_<i>``), the
activation (``activation_<i>``: whose output is the layer's value, e.g. an autoencoder's latent
columns), dropout; then a Dense ``logits`` layer of ``outputs`` units. A wide & deep network adds
a ``linear`` Dense layer from the inputs to the outputs, summed with the deep part's logits.
The network's output is raw: logits or values; the loss applies the link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from sqlml.ml.deep.backend import keras as load_keras
from sqlml.ml.models.estimator import check_array

#: BigQuery's activation_fn values → Keras activation names (CRELU is built here: Keras has none).
ACTIVATIONS = {"RELU": "relu", "RELU6": "relu6", "CRELU": None, "ELU": "elu", "SELU": "selu", "SIGMOID": "sigmoid", "TANH": "tanh"}

#: Rows a prediction runs at once; smaller batches are padded to a power of two so that only a
#: few input shapes are ever compiled.
PREDICT_CHUNK = 65_536


@dataclass
class NetworkSpec:
    """What a network is, as JSON (:meth:`describe`, :meth:`from_description`).

    Attributes:
        inputs: input width (the preprocessed feature count).
        hidden_units: units of each hidden layer.
        outputs: output width (1 for a regressor or a binary classifier, K classes, or the input
            width for an autoencoder).
        activation: BigQuery's ``activation_fn`` (a key of :data:`ACTIVATIONS`).
        dropout: dropout rate after each hidden layer.
        batch_norm: batch normalization before each activation.
        wide: add a linear part from the inputs to the outputs (wide & deep).
        seed: seeds the initial weights and dropout.
        activity_l1, activity_layer: an L1 penalty ``activity_l1 · mean over rows of Σ|a|`` on
            the activation output ``a`` of hidden layer ``activity_layer`` (an autoencoder's
            ``l1_reg_activation`` on its latent layer), added to the training loss; none when 0.
    """

    inputs: int
    hidden_units: list[int]
    outputs: int
    activation: str = "RELU"
    dropout: float = 0.0
    batch_norm: bool = False
    wide: bool = False
    seed: int = 0
    activity_l1: float = 0.0
    activity_layer: int = -1

    def describe(self) -> dict:
        """The JSON description (without the activity penalty's fields when there is none, as
        descriptions were before it existed)."""
        description = asdict(self)
        if not self.activity_l1:
            del description["activity_l1"], description["activity_layer"]
        return description

    @classmethod
    def from_description(cls, description: dict) -> NetworkSpec:
        """The spec from :meth:`describe`'s output."""
        return cls(**{**description, "hidden_units": [int(u) for u in description["hidden_units"]]})


class Network:
    """A built Keras model and its jitted inference.

    Attributes:
        spec: what the network is.
        model: the Keras functional model (raw outputs).
        compiled: functions compiled for the current weights, by name (other modules' caches).
    """

    def __init__(self, spec: NetworkSpec):
        self.spec = spec
        self.model = _build(spec)
        self.reset()

    # -- weights -----------------------------------------------------------------------------

    def variables(self) -> list:
        """The stored variables: trainable and non-trainable (batch-norm statistics), without
        the dropout's random state."""
        return [v for v in self.model.variables if "seed_generator" not in v.path]

    def arrays(self) -> dict[str, np.ndarray]:
        """Every stored variable as a float32 array named by its path."""
        return {v.path: np.asarray(v.value, dtype=np.float32) for v in self.variables()}

    @classmethod
    def from_arrays(cls, spec: NetworkSpec, arrays: dict[str, np.ndarray], model: str | None = None) -> Network:
        """The network of ``spec`` with the weights of :meth:`arrays`.

        Raises:
            CorruptModelError: an array is missing or has the wrong shape.
        """
        network = cls(spec)
        network.assign(arrays, model)
        return network

    def assign(self, arrays: dict[str, np.ndarray], model: str | None = None) -> None:
        """Set every stored variable from ``arrays`` (checked against its shape)."""
        for variable in self.variables():
            variable.assign(check_array(arrays, variable.path, tuple(variable.shape), model).astype(np.float32))
        self.reset()

    # -- inference ---------------------------------------------------------------------------

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Raw outputs (rows, outputs) as float64, in inference mode (no dropout, batch-norm's
        moving statistics)."""
        return self.run(self._inference(), X, self.spec.outputs)

    def layer_output(self, X: np.ndarray, layer: str) -> np.ndarray:
        """The output of the named layer (e.g. ``activation_1``) for rows ``X``, in inference mode
        (compiled once per layer and kept with the weights)."""
        key = f"layer_output/{layer}"
        if key not in self.compiled:
            import jax

            sub = load_keras().Model(self.model.inputs[0], self.model.get_layer(layer).output)
            trainable = [v.value for v in sub.trainable_variables]
            fixed = [v.value for v in sub.non_trainable_variables]
            step = jax.jit(lambda tv, ntv, x: sub.stateless_call(tv, ntv, x, training=False)[0])
            self.compiled[key] = (lambda x: step(trainable, fixed, x), int(sub.outputs[0].shape[-1]))
        function, width = self.compiled[key]
        return self.run(function, X, width)

    def _inference(self):
        if self._predict is None:
            import jax

            model = self.model
            trainable = [v.value for v in model.trainable_variables]
            fixed = [v.value for v in model.non_trainable_variables]
            step = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
            self._predict = lambda x: step(trainable, fixed, x)
        return self._predict

    def reset(self) -> None:
        """Forget the compiled functions (after the weights changed)."""
        self._predict = None
        self.compiled = {}

    @staticmethod
    def run(function: Callable[[np.ndarray], np.ndarray], X: np.ndarray, width: int) -> np.ndarray:
        """``function`` (padded float32 rows → (rows, width)) over ``X`` in chunks, as float64."""
        rows = X.shape[0]
        out = np.empty((rows, width))
        for start in range(0, rows, PREDICT_CHUNK):
            chunk = np.asarray(X[start : start + PREDICT_CHUNK], dtype=np.float32)
            padded = _pad(chunk)
            out[start : start + len(chunk)] = np.asarray(function(padded))[: len(chunk)]
        return out


def _pad(chunk: np.ndarray) -> np.ndarray:
    """``chunk`` with zero rows appended up to the next power of two (at least 8)."""
    size = max(8, 1 << (max(1, len(chunk)) - 1).bit_length())
    if size == len(chunk):
        return chunk
    padded = np.zeros((size, chunk.shape[1]), dtype=np.float32)
    padded[: len(chunk)] = chunk
    return padded


def _build(spec: NetworkSpec):
    keras = load_keras()
    layers = keras.layers
    inputs = keras.Input((spec.inputs,), name="features")
    x = inputs
    for i, units in enumerate(spec.hidden_units):
        init = keras.initializers.GlorotUniform(seed=spec.seed + i)
        x = layers.Dense(units, kernel_initializer=init, name=f"hidden_{i}")(x)
        if spec.batch_norm:
            x = layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        x = _activation(keras, spec.activation, f"activation_{i}")(x)
        if spec.activity_l1 > 0 and i == spec.activity_layer:  # identity at inference; a loss in training
            x = layers.ActivityRegularization(l1=spec.activity_l1, name=f"activity_l1_{i}")(x)
        if spec.dropout > 0:
            x = layers.Dropout(spec.dropout, seed=spec.seed + 1000 + i, name=f"dropout_{i}")(x)
    init = keras.initializers.GlorotUniform(seed=spec.seed + 999)
    outputs = layers.Dense(spec.outputs, kernel_initializer=init, name="logits")(x)
    if spec.wide:
        linear = layers.Dense(spec.outputs, kernel_initializer="zeros", name="linear")(inputs)
        outputs = layers.Add(name="wide_and_deep")([outputs, linear])
    return keras.Model(inputs, outputs, name="network")


def _activation(keras, name: str, layer_name: str):
    if name == "CRELU":
        return _crelu_layer(keras)(name=layer_name)
    return keras.layers.Activation(ACTIVATIONS[name], name=layer_name)


_CRELU = None


def _crelu_layer(keras):
    """CReLU (concatenated ReLU of x and -x: twice the width), as TensorFlow's ``tf.nn.crelu``."""
    global _CRELU
    if _CRELU is None:

        class CRelu(keras.layers.Layer):
            def call(self, x):
                return keras.ops.concatenate([keras.ops.relu(x), keras.ops.relu(-x)], axis=-1)

            def compute_output_shape(self, shape):
                return (*shape[:-1], None if shape[-1] is None else 2 * shape[-1])

        _CRELU = CRelu
    return _CRELU
