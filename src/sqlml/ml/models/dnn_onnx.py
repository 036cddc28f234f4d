"""The ONNX form of a DNN or wide & deep model: its network replayed with ONNX operators on the
preprocessed features (:mod:`sqlml.ml.models.onnx_graph` builds the preprocessing and ML.PREDICT's
outputs around it).

Each hidden layer is MatMul + Add, batch normalization its inference-time affine map (moving mean
and variance), then the activation: Relu, Clip(0, 6) for RELU6, Elu, Selu (ONNX's constants are
Keras'), Sigmoid, Tanh, or Concat(Relu(x), Relu(−x)) for CRELU. The weights are stored as float32
and computed in double here, so outputs agree with ML.PREDICT's to float32 precision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sqlml.ml.models.onnx_graph import score_outputs

if TYPE_CHECKING:
    from sqlml.ml.deep.network import Network
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph

_SIMPLE = {"RELU": "Relu", "SIGMOID": "Sigmoid", "TANH": "Tanh"}
#: SELU's constants (Keras' and ONNX's): scale · (x if x > 0 else alpha · (eˣ − 1)).
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def dnn_graph(graph: Graph, model: Model, features: str) -> Graph:
    """Add the network and ML.PREDICT's outputs to ``graph``, whose ``features`` tensor is the
    preprocessed feature matrix."""
    estimator = model.estimator
    network = estimator.network_
    weights = network.arrays()
    scores = dense(graph, weights, hidden_layers(graph, network, features), "logits")
    if network.spec.wide:
        scores = graph.node("Add", [scores, dense(graph, weights, features, "linear")])
    if model.task.kind == "regression":
        scores = graph.node("Add", [graph.node("Mul", [scores, graph.const(estimator.label_scale_)]), graph.const(estimator.label_mean_)])
    score_outputs(graph, model, scores)
    return graph


def hidden_layers(graph: Graph, network: Network, features: str, count: int | None = None) -> str:
    """The tensor after the first ``count`` hidden layers' activation (None: all of them) of
    ``network`` applied to ``features`` (an autoencoder's latent layer is one of them)."""
    spec, weights = network.spec, network.arrays()
    x = features
    for i in range(len(spec.hidden_units) if count is None else count):
        x = dense(graph, weights, x, f"hidden_{i}")
        if spec.batch_norm:
            name = f"batch_norm_{i}"
            epsilon = network.model.get_layer(name).epsilon
            scale = weights[f"{name}/gamma"].astype(np.float64) / np.sqrt(weights[f"{name}/moving_variance"].astype(np.float64) + epsilon)
            shift = weights[f"{name}/beta"] - weights[f"{name}/moving_mean"] * scale
            x = graph.node("Add", [graph.node("Mul", [x, graph.const(scale)]), graph.const(shift)])
        x = _activation(graph, spec.activation, x)
    return x


def dense(graph: Graph, weights: dict[str, np.ndarray], x: str, layer: str) -> str:
    """The Dense layer ``layer`` (``hidden_0``, ``logits``, ``linear``…) applied to ``x``."""
    return graph.node("Add", [graph.node("MatMul", [x, graph.const(weights[f"{layer}/kernel"])]), graph.const(weights[f"{layer}/bias"])])


def _activation(graph: Graph, name: str, x: str) -> str:
    if name == "RELU6":
        return graph.node("Clip", [x, graph.const(0.0), graph.const(6.0)])
    if name == "CRELU":
        return graph.node("Concat", [graph.node("Relu", [x]), graph.node("Relu", [graph.node("Neg", [x])])], axis=1)
    if name in ("ELU", "SELU"):  # written out: onnxruntime has no double Elu/Selu kernels
        alpha, scale = (SELU_ALPHA, SELU_SCALE) if name == "SELU" else (1.0, 1.0)
        negative = graph.node("Mul", [graph.const(alpha), graph.node("Sub", [graph.node("Exp", [x]), graph.const(1.0)])])
        elu = graph.node("Where", [graph.node("Greater", [x, graph.const(0.0)]), x, negative])
        return elu if scale == 1.0 else graph.node("Mul", [elu, graph.const(scale)])
    return graph.node(_SIMPLE[name], [x])
