"""The neural-network families: DNN_CLASSIFIER / DNN_REGRESSOR and wide & deep
(DNN_LINEAR_COMBINED_CLASSIFIER / DNN_LINEAR_COMBINED_REGRESSOR), trained with Keras 3 on JAX.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-dnn-models
and https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-wnd-models
(``../shared/reference/bigquery-ml.md`` §1.8–1.9): options and defaults, the default tuning
space (§3), and automatic preprocessing as for linear models — standardized numbers, one-hot
categories (https://cloud.google.com/bigquery/docs/auto-preprocessing). Explanations are
integrated gradients (:mod:`sqlml.ml.models.dnn_estimator`). Keras and JAX are the
``sqlml[deep]`` extra: without it CREATE MODEL fails naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.deep.options import NETWORK_OPTIONS, SINGLE_OPTIMIZER, check_hidden_units
from sqlml.ml.deep.training import OPTIMIZERS
from sqlml.ml.models.base import Preprocessing
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import option
from sqlml.ml.models.options import HparamCandidates, Kind
from sqlml.ml.models.supervised import SupervisedFamily

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph

#: ``integrated_gradients_num_steps``: points of the path integral of ML.EXPLAIN_PREDICT.
EXPLAIN_OPTIONS = [option("integrated_gradients_num_steps", Kind.INT, 15, low=0, low_open=True, high=30)]

#: Wide & deep: ``learn_rate`` and ``optimizer`` take one value or one per part.
PER_PART = [
    option("learn_rate", Kind.FLOAT_OR_PAIRS, 0.001, low=0, high=1),
    option("optimizer", Kind.ENUM_OR_PAIRS, (("dnn", "ADAM"), ("linear", "FTRL")), choices=tuple(OPTIMIZERS)),
]
PARTS = ("dnn", "linear")
EXAMPLES = {"learn_rate": "[STRUCT('dnn', 0.001), STRUCT('linear', 0.01)]", "optimizer": "[STRUCT('dnn', 'ADAM'), STRUCT('linear', 'FTRL')]"}


class DnnFamily(SupervisedFamily):
    """DNN_CLASSIFIER and DNN_REGRESSOR."""

    name = "dnn"
    model_types = (ModelType.DNN_CLASSIFIER, ModelType.DNN_REGRESSOR)
    regressor = ModelType.DNN_REGRESSOR
    classifier = ModelType.DNN_CLASSIFIER
    family_functions = frozenset({"EXPLAIN_PREDICT", "GLOBAL_EXPLAIN"})
    family_options = [*NETWORK_OPTIONS, *SINGLE_OPTIMIZER, *EXPLAIN_OPTIONS]
    # https://cloud.google.com/bigquery/docs/hp-tuning-overview: the ranged ones (hidden_units,
    # optimizer and activation_fn are tuned only over HPARAM_CANDIDATES)
    search_space = ("batch_size", "dropout", "learn_rate", "l1_reg", "l2_reg")

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """``hidden_units`` (each candidate of a tuning space too) has layers of at least 1 unit."""
        units = options.get("hidden_units")
        for candidate in units.values if isinstance(units, HparamCandidates) else [units]:
            check_hidden_units(model_type, candidate)

    def preprocessing(self, model_type: str, options: dict) -> Preprocessing:
        """Standardized numbers, one-hot categories."""
        return Preprocessing(standardize=True, categorical="one_hot")

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """The network replayed with ONNX operators (:mod:`sqlml.ml.models.dnn_onnx`)."""
        from sqlml.ml.models.dnn_onnx import dnn_graph

        return dnn_graph(graph, model, features)

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.dnn_estimator.DnnModel`, once Keras and JAX are found."""
        from sqlml.ml.deep.backend import keras

        keras(model_type)
        from sqlml.ml.models.dnn_estimator import DnnModel

        return DnnModel


class WideDeepFamily(DnnFamily):
    """DNN_LINEAR_COMBINED_CLASSIFIER and DNN_LINEAR_COMBINED_REGRESSOR."""

    name = "wide_and_deep"
    model_types = (ModelType.DNN_LINEAR_COMBINED_CLASSIFIER, ModelType.DNN_LINEAR_COMBINED_REGRESSOR)
    regressor = ModelType.DNN_LINEAR_COMBINED_REGRESSOR
    classifier = ModelType.DNN_LINEAR_COMBINED_CLASSIFIER
    family_options = [*NETWORK_OPTIONS, *PER_PART, *EXPLAIN_OPTIONS]
    # §3: learn_rate and optimizer are not tunable for wide & deep models
    search_space = ("batch_size", "dropout", "l1_reg", "l2_reg")

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """As DNN, and each per-part entry names ``dnn`` or ``linear`` with a rate in [0, 1]."""
        super().check_options(model_type, options, given)
        for name in ("learn_rate", "optimizer"):
            value = options.get(name)
            if not isinstance(value, list):
                continue
            parts = [str(part).lower() for part, _ in value]
            wrong = [part for part in parts if part not in PARTS] or [part for part in PARTS if parts.count(part) > 1]
            rates = [rate for _, rate in value] if name == "learn_rate" else []
            if wrong or any(not 0 <= rate <= 1 for rate in rates):
                raise InvalidOptionError(
                    f"The '{name}' option of CREATE MODEL (model_type='{model_type.lower()}') takes one entry per part, "
                    f"'dnn' and 'linear'{', with rates in [0, 1]' if rates else ''}. Got {value!r} instead.",
                    option=name,
                    hint=f"Write e.g. {name}={EXAMPLES[name]}.",
                )

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.dnn_estimator.WideDeepModel`."""
        super().estimator_class(model_type)
        from sqlml.ml.models.dnn_estimator import WideDeepModel

        return WideDeepModel
