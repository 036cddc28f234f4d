"""The PCA family: principal component analysis.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-pca —
ML.PREDICT returns ``principal_component_1`` … ``_k`` and drops the feature columns unless
``keep_original_columns``; ML.EVALUATE reports the total explained variance ratio stored at
training, whatever rows it is given. PCA models cannot be tuned.

A PCA model reconstructs rows from their projections, so ML.DETECT_ANOMALIES flags rows whose
reconstruction error exceeds the training rows' cut-off
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies;
the errors are kept at training by :meth:`ModelFamily.fitted_arrays`), and ML.GENERATE_EMBEDDING
returns the projections as one array
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-generate-embedding).
ML.RECONSTRUCTION_LOSS is documented for autoencoders only; sqlml offers it for PCA too (the same
reconstruction), as an extension.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.ml.models import metrics
from sqlml.ml.models.base import Evaluation, ModelFamily, Preprocessing, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, option, table
from sqlml.ml.models.options import Kind
from sqlml.ml.models.prediction_columns import components_columns, components_schema

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph
    from sqlml.ml.models.options import Option

PCA_OPTIONS = [
    option("num_principal_components", Kind.INT, low=1),
    option("pca_explained_variance_ratio", Kind.FLOAT, low=0, high=1, low_open=True, high_open=True),
    option("scale_features", Kind.BOOL, True),
    option("pca_solver", Kind.ENUM, "AUTO", choices=("FULL", "RANDOMIZED", "AUTO")),
]


class PCAFamily(ModelFamily):
    """PCA."""

    name = "pca"
    model_types = (ModelType.PCA,)
    evaluation = Evaluation.STORED
    keeps_input_features = False

    def target(self, model_type: str) -> Target:
        """Decomposition."""
        return Target.DECOMPOSITION

    def functions(self, model_type: str) -> frozenset[str]:
        """PREDICT, EVALUATE, PRINCIPAL_COMPONENTS, PRINCIPAL_COMPONENT_INFO, DETECT_ANOMALIES,
        GENERATE_EMBEDDING and (a sqlml extension) RECONSTRUCTION_LOSS."""
        return frozenset({
            "PREDICT", "EVALUATE", "PRINCIPAL_COMPONENTS", "PRINCIPAL_COMPONENT_INFO",
            "DETECT_ANOMALIES", "GENERATE_EMBEDDING", "RECONSTRUCTION_LOSS",
        })  # fmt: skip

    def export_formats(self, model_type: str) -> tuple[str, ...]:
        """An ONNX model that includes the preprocessing."""
        return ("model.onnx",)

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common options, then PCA's own (no tuning options)."""
        return table(COMMON, PCA_OPTIONS)

    def preprocessing(self, model_type: str, options: dict) -> Preprocessing:
        """One-hot categories; numbers standardized unless ``scale_features=FALSE``."""
        return Preprocessing(standardize=options["scale_features"])

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.pca_estimator.PCA`."""
        from sqlml.ml.models.pca_estimator import PCA

        return PCA

    def output_schema(self, model: Model) -> pa.Schema:
        """One column per kept component."""
        return components_schema(len(model.estimator.components_))

    def prediction_columns(self, model: Model, raw: np.ndarray, threshold: float | None) -> list[pa.Array]:
        """The rows' projections on the components."""
        return components_columns(raw)

    def reconstruct(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The rows projected on the kept components and mapped back to the feature space."""
        return estimator.reconstruct(X)

    def embed(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The projections on the components: ML.PREDICT's ``principal_component_*`` numbers."""
        return estimator.predict(X)

    def metric_names(self, model_type: str) -> tuple[str, ...]:
        """``total_explained_variance_ratio``."""
        return metrics.PCA_METRICS

    def metrics(self, model_type: str, estimator: Estimator, y: np.ndarray | None, raw: np.ndarray, threshold: float | None = None) -> dict:
        """The share of the variance the kept components explain (a property of the fit, not of rows)."""
        return {"total_explained_variance_ratio": float(estimator.explained_variance_ratio.sum())}

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """The centered features times the components."""
        from sqlml.ml.models.onnx_graph import pca_graph

        pca_graph(graph, model, features)
        return graph
