"""The k-means family: KMEANS, BigQuery's clustering model.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-kmeans —
options and defaults; ML.PREDICT returns ``CENTROID_ID`` and ``NEAREST_CENTROIDS_DISTANCE``;
ML.EVALUATE reports the Davies-Bouldin index and the mean squared distance of the rows it is
given (no label needed); ML.TRAINING_INFO has ``cluster_info`` instead of ``eval_loss``;
ML.DETECT_ANOMALIES flags rows far from every centroid relative to its cluster's radius
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies),
so a model keeps its clusters' radii and its training rows' normalized distances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.errors import InvalidOptionError
from sqlml.ml.models import metrics
from sqlml.ml.models.base import Evaluation, ModelFamily, Preprocessing, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, ITERATIVE, TUNING, option, table
from sqlml.ml.models.options import Kind
from sqlml.ml.models.prediction_columns import kmeans_columns, kmeans_schema

if TYPE_CHECKING:
    import numpy as np

    from sqlml.ml.models.estimator import Dataset, Estimator
    from sqlml.ml.models.model import Model
    from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor
    from sqlml.ml.models.onnx_graph import Graph
    from sqlml.ml.models.options import Option

KMEANS_OPTIONS = [
    *ITERATIVE,
    option("warm_start", Kind.BOOL, False),
    # Default log10(training rows), at least 2 — computed at training time (None here).
    option("num_clusters", Kind.INT, None, low=2, high=100, search=(2, 10, "LINEAR")),
    option("kmeans_init_method", Kind.ENUM, "RANDOM", choices=("RANDOM", "KMEANS++", "CUSTOM")),
    option("kmeans_init_col", Kind.STRING),
    option("distance_type", Kind.ENUM, "EUCLIDEAN", choices=("EUCLIDEAN", "COSINE")),
    option("standardize_features", Kind.BOOL, True),
]
_CLUSTER_INFO = pa.list_(pa.struct([("centroid_id", pa.int64()), ("cluster_radius", pa.float64()), ("cluster_size", pa.int64())]))


class KMeansFamily(ModelFamily):
    """KMEANS."""

    name = "kmeans"
    model_types = (ModelType.KMEANS,)
    evaluation = Evaluation.OUTPUTS
    search_space = ("num_clusters",)
    reports_eval_loss = False

    def target(self, model_type: str) -> Target:
        """Clustering."""
        return Target.CLUSTERING

    def functions(self, model_type: str) -> frozenset[str]:
        """PREDICT, EVALUATE, CENTROIDS and DETECT_ANOMALIES."""
        return frozenset({"PREDICT", "EVALUATE", "CENTROIDS", "DETECT_ANOMALIES"})

    def export_formats(self, model_type: str) -> tuple[str, ...]:
        """An ONNX model that includes the preprocessing."""
        return ("model.onnx",)

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common and tuning options, then k-means' own."""
        return table(COMMON, TUNING, KMEANS_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """``kmeans_init_method='CUSTOM'`` needs the column that marks the initial centroids."""
        if options["kmeans_init_method"] == "CUSTOM" and not options["kmeans_init_col"]:
            raise InvalidOptionError("kmeans_init_method='CUSTOM' needs kmeans_init_col.", option="kmeans_init_col")

    def preprocessing(self, model_type: str, options: dict) -> Preprocessing:
        """One-hot categories; numbers standardized unless ``standardize_features=FALSE``."""
        return Preprocessing(standardize=options["standardize_features"])

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.models.kmeans_estimator.KMeans`."""
        from sqlml.ml.models.kmeans_estimator import KMeans

        return KMeans

    def fitted_arrays(
        self, model_type: str, estimator: Estimator, train: Dataset, preprocessor: Preprocessor, options: dict
    ) -> dict[str, np.ndarray]:
        """Each cluster's radius and the training rows' normalized distances (ML.DETECT_ANOMALIES)."""
        from sqlml.ml.models.anomaly import kmeans_arrays

        return kmeans_arrays(estimator, train)

    def output_schema(self, model: Model) -> pa.Schema:
        """``CENTROID_ID`` and ``NEAREST_CENTROIDS_DISTANCE``."""
        return kmeans_schema()

    def prediction_columns(self, model: Model, raw: np.ndarray, threshold: float | None) -> list[pa.Array]:
        """The nearest centroid and the distances to the nearest five, from the distances to each."""
        return kmeans_columns(raw)

    def metric_names(self, model_type: str) -> tuple[str, ...]:
        """``davies_bouldin_index`` and ``mean_squared_distance``."""
        return metrics.KMEANS_METRICS

    def metrics(self, model_type: str, estimator: Estimator, y: np.ndarray | None, raw: np.ndarray, threshold: float | None = None) -> dict:
        """Davies-Bouldin index and mean squared distance of the rows' distances to the centroids."""
        return metrics.kmeans_metrics(raw, estimator.prepare(estimator.centroids_))

    def training_info_extras(self, rows: list[dict]) -> dict[str, pa.Array]:
        """``cluster_info``: each centroid's radius and size after each iteration."""
        return {"cluster_info": pa.array([row.get("cluster_info") for row in rows], _CLUSTER_INFO)}

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """Euclidean distances to the centroids and the nearest one."""
        from sqlml.ml.models.onnx_graph import kmeans_graph

        kmeans_graph(graph, model, features)
        return graph
