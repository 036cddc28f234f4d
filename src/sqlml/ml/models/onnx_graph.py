"""Build an ONNX model equivalent to a trained sqlml model, preprocessing included.

The graph takes the model's raw input columns (numeric columns as DOUBLE ``[N, 1]`` tensors,
categorical columns as STRING ``[N, 1]`` tensors — BOOL as 'true'/'false', NULL as '_null_filler')
and replays the automatic preprocessing (mean imputation, standardization, one-hot or label
encoding) with ONNX and ONNX-ML operators, then the estimator: a MatMul for linear models, the
LightGBM trees converted by onnxmltools, distances for k-means, a projection for PCA.

Models with a TRANSFORM clause (SQL), TIMESTAMP, ARRAY or target-encoded features have no ONNX
form; EXPORT MODEL still writes their files and manifest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sqlml.errors import ModelError
from sqlml.ml.preprocessing.automatic.encoders import CategoricalEncoder, NumericEncoder

if TYPE_CHECKING:
    import onnx

    from sqlml.ml.models.model import Model

OPSET = 15
# LabelEncoder's keys_*/values_* attributes need ai.onnx.ml 2; the tree ensemble operators the
# LightGBM converter emits are unchanged from version 1 to 2, so its model is declared at 2 too.
ML_OPSET = 2


class Graph:
    """Collects nodes, initializers, inputs and outputs of an ONNX graph."""

    def __init__(self) -> None:
        from onnx import helper

        self.helper = helper
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self._count = 0

    def name(self, hint: str) -> str:
        """A tensor name unique in the graph."""
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: object, dtype: type = np.float64, hint: str = "c") -> str:
        """The name of a new initializer holding ``value``."""
        from onnx import numpy_helper

        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str | None = None, domain: str = "", outputs: int = 1, **attrs: object) -> str | list[str]:
        """Add an ``op`` node; the name of its output (or of its ``outputs`` outputs)."""
        names = [self.name(hint or op.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, inputs, names, domain=domain or None, **attrs))
        return names[0] if outputs == 1 else names


def _input(graph: Graph, name: str, string: bool) -> str:
    from onnx import TensorProto

    element = TensorProto.STRING if string else TensorProto.DOUBLE
    graph.inputs.append(graph.helper.make_tensor_value_info(name, element, [None, 1]))
    return name


def _numeric(graph: Graph, encoder: NumericEncoder) -> str:
    x = _input(graph, encoder.name, string=False)
    filled = graph.node("Where", [graph.node("IsNaN", [x]), graph.const([[encoder.mean]]), x])
    if not encoder.standardize:
        return filled
    return graph.node("Div", [graph.node("Sub", [filled, graph.const([[encoder.mean]])]), graph.const([[encoder.std]])])


def _categorical(graph: Graph, encoder: CategoricalEncoder) -> str:
    x = _input(graph, encoder.name, string=True)
    if encoder.method == "label":
        codes = graph.node(
            "LabelEncoder", [x], domain="ai.onnx.ml",
            keys_strings=encoder.vocabulary, values_int64s=list(range(1, len(encoder.vocabulary) + 1)), default_int64=0,
        )  # fmt: skip
        return graph.node("Cast", [codes], to=11)  # DOUBLE
    if encoder.method not in ("one_hot", "dummy"):
        raise ModelError(f"The {encoder.method} encoding of {encoder.name} has no ONNX form.")
    columns = encoder.columns
    if not columns:
        return graph.node("Mul", [graph.node("Cast", [graph.node("Shape", [x])], to=11), graph.const([[0.0]])])
    hot = graph.node("OneHotEncoder", [x], domain="ai.onnx.ml", cats_strings=columns, zeros=1)
    flat = graph.node("Reshape", [hot, graph.const([-1, len(columns)], np.int64)])
    return graph.node("Cast", [flat], to=11)


def _features(graph: Graph, model: Model) -> str:
    blocks = []
    for encoder in model.preprocessor.encoders:
        if isinstance(encoder, NumericEncoder):
            blocks.append(_numeric(graph, encoder))
        elif isinstance(encoder, CategoricalEncoder):
            blocks.append(_categorical(graph, encoder))
        else:
            raise ModelError(f"The feature {encoder.name} ({encoder.kind}) has no ONNX form.")
    return graph.node("Concat", blocks, axis=1) if len(blocks) > 1 else blocks[0]


def output(graph: Graph, source: str, name: str, element: int, shape: list) -> None:
    """Make the tensor ``source`` a graph output called ``name`` (ONNX element type, shape)."""
    graph.nodes.append(graph.helper.make_node("Identity", [source], [name]))
    graph.outputs.append(graph.helper.make_tensor_value_info(name, element, shape))


def _label_values(graph: Graph, model: Model, index: str) -> tuple[str, int]:
    """Class index → the label value, in the label's type."""
    from onnx import TensorProto

    classes = model.label["classes"]
    keys = list(range(len(classes)))
    if all(isinstance(c, str) for c in classes):
        values = graph.node("LabelEncoder", [index], domain="ai.onnx.ml", keys_int64s=keys, values_strings=classes, default_string="")
        return values, TensorProto.STRING
    if all(isinstance(c, bool) for c in classes):
        return graph.node("Cast", [index], to=TensorProto.BOOL), TensorProto.BOOL
    mapped = graph.node("LabelEncoder", [index], domain="ai.onnx.ml", keys_int64s=keys, values_int64s=[int(c) for c in classes], default_int64=-1)
    return mapped, TensorProto.INT64


def _classifier_outputs(graph: Graph, model: Model, probabilities: str) -> None:
    from onnx import TensorProto

    name = model.label["name"]
    k = len(model.label["classes"])
    index = graph.node("ArgMax", [probabilities], axis=1, keepdims=1)
    labels, element = _label_values(graph, model, index)
    output(graph, labels, f"predicted_{name}", element, [None, 1])
    output(graph, graph.node("Cast", [probabilities], to=11), f"predicted_{name}_probs", TensorProto.DOUBLE, [None, k])


def linear_graph(graph: Graph, model: Model, features: str) -> None:
    """The linear model's scores on ``features``: the prediction, or class probabilities (sigmoid/softmax) and the predicted class."""
    estimator = model.estimator
    coef = np.atleast_2d(estimator.coef_)
    scores = graph.node("Add", [graph.node("MatMul", [features, graph.const(coef.T)]), graph.const(np.atleast_1d(estimator.intercept_))])
    score_outputs(graph, model, scores)


def score_outputs(graph: Graph, model: Model, scores: str) -> None:
    """ML.PREDICT's outputs from a supervised model's raw ``scores`` (the prediction, one logit of
    a binary classifier or a logit per class): the prediction, or class probabilities
    (sigmoid/softmax) and the predicted class."""
    from onnx import TensorProto

    kind = model.task.kind
    if kind == "regression":
        output(graph, scores, f"predicted_{model.label['name']}", TensorProto.DOUBLE, [None, 1])
        return
    if kind == "binary":
        positive = graph.node("Sigmoid", [scores])
        probabilities = graph.node("Concat", [graph.node("Sub", [graph.const([[1.0]]), positive]), positive], axis=1)
    else:
        probabilities = graph.node("Softmax", [scores], axis=1)
    _classifier_outputs(graph, model, probabilities)


def kmeans_graph(graph: Graph, model: Model, features: str) -> None:
    """Euclidean distances from ``features`` to each centroid, and the nearest centroid (1-based)."""
    from onnx import TensorProto

    if model.options.get("distance_type") == "COSINE":
        raise ModelError("K-means models with distance_type='COSINE' have no ONNX form.")
    centroids = model.estimator.centroids_
    difference = graph.node("Sub", [graph.node("Unsqueeze", [features, graph.const([1], np.int64)]), graph.const(centroids[None, :, :])])
    distances = graph.node("Sqrt", [graph.node("ReduceSum", [graph.node("Mul", [difference, difference]), graph.const([2], np.int64)], keepdims=0)])
    nearest = graph.node("Add", [graph.node("ArgMin", [distances], axis=1, keepdims=1), graph.const([[1]], np.int64)])
    output(graph, nearest, "CENTROID_ID", TensorProto.INT64, [None, 1])
    output(graph, distances, "centroid_distances", TensorProto.DOUBLE, [None, len(centroids)])


def pca_graph(graph: Graph, model: Model, features: str) -> None:
    """The projections of the centered ``features`` on the kept components."""
    from onnx import TensorProto

    estimator = model.estimator
    centered = graph.node("Sub", [features, graph.const(estimator.mean_[None, :])])
    projections = graph.node("MatMul", [centered, graph.const(estimator.components_.T)])
    output(graph, projections, "principal_components", TensorProto.DOUBLE, [None, len(estimator.components_)])


def _trees(preprocessing, model: Model, members: list[tuple[object, float]]):
    """The preprocessing graph merged with onnxmltools' conversion of the members' LightGBM
    boosters, summed as one ensemble with each member's leaves scaled by its weight."""
    import onnx

    trees = _converted(model, *members[0])
    for estimator, weight in members[1:]:
        _append_trees(trees, _converted(model, estimator, weight))
    for opset in trees.opset_import:
        opset.version = ML_OPSET if opset.domain == "ai.onnx.ml" else OPSET
    trees.ir_version = preprocessing.ir_version
    merged = onnx.compose.merge_models(preprocessing, trees, io_map=[("features_float", "tree_features")])
    graph = Graph()
    graph.inputs, graph.nodes, graph.initializers = list(merged.graph.input), list(merged.graph.node), list(merged.graph.initializer)
    kind = model.task.kind
    if kind == "regression":
        predicted = graph.node("Cast", [merged.graph.output[0].name], to=11)
        output(graph, predicted, f"predicted_{model.label['name']}", onnx.TensorProto.DOUBLE, [None, 1])
    else:
        probabilities = next(o.name for o in merged.graph.output if o.name.endswith("probabilities"))
        _classifier_outputs(graph, model, probabilities)
    return graph


def _converted(model: Model, estimator, weight: float):
    """One LightGBM booster as onnxmltools converts it, its leaves scaled by ``weight`` (and by
    1/trees for a random forest, which averages its trees where the converter sums them)."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = estimator.booster_
    width = len(model.task.feature_names)
    trees = onnxmltools.convert_lightgbm(
        booster, initial_types=[("tree_features", FloatTensorType([None, width]))], zipmap=False, target_opset=OPSET
    )
    scale = weight / booster.current_iteration() if estimator.random_forest else weight
    if scale != 1.0:
        _scale_trees(trees, scale)
    return trees


def _tree_node(trees):
    return next(n for n in trees.graph.node if n.op_type in ("TreeEnsembleRegressor", "TreeEnsembleClassifier"))


def _append_trees(trees, other) -> None:
    """Add ``other``'s trees to ``trees``' ensemble (tree ids shifted past its own): the outputs
    sum the two ensembles' leaf values before the shared post-transform (sigmoid, softmax or none).

    Raises:
        ModelError: the two ensembles' operators differ in what they predict (not one ensemble).
    """
    target, source = _tree_node(trees), _tree_node(other)
    attributes = {a.name: a for a in target.attribute}
    shift = max(attributes["nodes_treeids"].ints) + 1
    for attribute in source.attribute:
        mine = attributes.get(attribute.name)
        if attribute.name.endswith("treeids"):
            mine.ints.extend(i + shift for i in attribute.ints)
        elif attribute.name.startswith("nodes_") or attribute.name.split("_")[0] in ("class", "target"):
            (mine.ints if attribute.ints else mine.floats if attribute.floats else mine.strings).extend(
                attribute.ints or attribute.floats or attribute.strings
            )
        elif attribute.name == "base_values":
            mine.floats[:] = [a + b for a, b in zip(mine.floats, attribute.floats)]
        elif mine is None or mine != attribute:
            raise ModelError(f"The trees' ONNX operators differ in {attribute.name}: they cannot be one ensemble.")


def _scale_trees(trees, scale: float) -> None:
    """Multiply every leaf value (and base value) of the converted ensemble by ``scale``."""
    for attribute in _tree_node(trees).attribute:
        if attribute.name in ("target_weights", "class_weights", "base_values"):
            scaled = [value * scale for value in attribute.floats]
            del attribute.floats[:]
            attribute.floats.extend(scaled)


def tree_graph(graph: Graph, model: Model, features: str, members: list[tuple[object, float]] | None = None) -> Graph:
    """The preprocessing graph (``features`` cast to FLOAT) merged with the booster's trees — or
    with ``members``' boosters (estimator, weight) as one ensemble whose raw scores are their
    weighted sum (an AutoML model's averaged tree members)."""
    import onnx

    graph.nodes.append(graph.helper.make_node("Cast", [features], ["features_float"], to=onnx.TensorProto.FLOAT))
    graph.outputs.append(graph.helper.make_tensor_value_info("features_float", onnx.TensorProto.FLOAT, [None, None]))
    return _trees(_model_proto(graph), model, members or [(model.estimator, 1.0)])


def to_onnx(model: Model) -> onnx.ModelProto:
    """An ``onnx.ModelProto`` computing ML.PREDICT's values from the model's raw input columns.

    Raises:
        ModelError: the model type, a feature's type or the TRANSFORM clause has no ONNX form.
    """
    import onnx

    if model.spec.get("transform"):
        raise ModelError("Models with a TRANSFORM clause have no ONNX form (the clause is SQL).")
    graph = Graph()
    features = _features(graph, model)
    graph = model.family.onnx_graph(graph, model, features)
    proto = _model_proto(graph)
    onnx.checker.check_model(proto)
    return proto


def _model_proto(graph: Graph):
    helper = graph.helper
    body = helper.make_graph(graph.nodes, "sqlml", graph.inputs, graph.outputs, graph.initializers)
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    return helper.make_model(body, opset_imports=opsets, producer_name="sqlml")
