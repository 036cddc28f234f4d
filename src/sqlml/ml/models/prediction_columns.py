"""ML.PREDICT's output columns, with BigQuery's names and types, built vectorised from raw outputs.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict

* regression: ``predicted_<label>`` FLOAT64;
* classification: ``predicted_<label>`` (the label's type) and ``predicted_<label>_probs``
  ARRAY<STRUCT<label, prob>>, one entry per class. Entries are ordered by label, higher first —
  the order BigQuery's tutorial output shows for a binary model (the positive class first);
* k-means: ``CENTROID_ID`` INT64 and ``NEAREST_CENTROIDS_DISTANCE``
  ARRAY<STRUCT<CENTROID_ID, DISTANCE>> for the min(num_clusters, 5) nearest, upper-case as the
  real schema is;
* PCA: ``principal_component_1`` … ``principal_component_k`` FLOAT64.

Each family (:mod:`sqlml.ml.models`) picks the builders its model types need.
"""

from __future__ import annotations

import weakref

import numpy as np
import pyarrow as pa

MAX_NEAREST = 5
#: Batches up to this many entries (rows × classes) are built from one cached
#: :class:`ClassOutputs` per classes array (a model's, see ``Model.classes``).
CACHED_LABEL_ENTRIES = 65_536
#: Up to this many rows, predicted classes are looked up in Python (a kernel's setup costs more).
SMALL_ROWS = 64
#: (classes, its ClassOutputs), newest last.
_cached: list[tuple[weakref.ref, ClassOutputs]] = []


class ClassOutputs:
    """What the classification columns of small batches repeat, worked out once per classes.

    Args:
        classes: the classes in index order.
    """

    def __init__(self, classes: pa.Array) -> None:
        k = len(classes)
        self.rows = max(1, CACHED_LABEL_ENTRIES // max(k, 1))
        self.values = classes.to_pylist()
        #: The classes higher first, repeated for ``rows`` rows.
        self.labels = classes.take(pa.array(np.tile(np.arange(k)[::-1], self.rows)))
        self.offsets = pa.array(np.arange(0, (self.rows + 1) * k, k, dtype=np.int32))

    @staticmethod
    def of(classes: pa.Array) -> ClassOutputs:
        """The cached outputs of ``classes`` (the same array object, as ``Model.classes`` returns)."""
        for known, outputs in _cached:
            if known() is classes:
                return outputs
        outputs = ClassOutputs(classes)
        _cached[:] = [*_cached[-7:], (weakref.ref(classes), outputs)]
        return outputs


def regression_schema(label: str) -> pa.Schema:
    """``predicted_<label>`` FLOAT64."""
    return pa.schema([pa.field(f"predicted_{label}", pa.float64())])


def regression_columns(predictions: np.ndarray) -> list[pa.Array]:
    """The predicted values."""
    return [pa.array(predictions, pa.float64())]


def classification_schema(label: str, label_type: pa.DataType) -> pa.Schema:
    """``predicted_<label>`` and ``predicted_<label>_probs``."""
    entry = pa.struct([pa.field("label", label_type), pa.field("prob", pa.float64())])
    return pa.schema([pa.field(f"predicted_{label}", label_type), pa.field(f"predicted_{label}_probs", pa.list_(entry))])


def kmeans_schema() -> pa.Schema:
    """``CENTROID_ID`` and ``NEAREST_CENTROIDS_DISTANCE``."""
    entry = pa.struct([pa.field("CENTROID_ID", pa.int64()), pa.field("DISTANCE", pa.float64())])
    return pa.schema([pa.field("CENTROID_ID", pa.int64()), pa.field("NEAREST_CENTROIDS_DISTANCE", pa.list_(entry))])


def components_schema(k: int) -> pa.Schema:
    """``principal_component_1`` … ``principal_component_k``."""
    return pa.schema([pa.field(f"principal_component_{i}", pa.float64()) for i in range(1, k + 1)])


def components_columns(projections: np.ndarray) -> list[pa.Array]:
    """One column per component."""
    return [pa.array(projections[:, i], pa.float64()) for i in range(projections.shape[1])]


def predicted_class_index(probabilities: np.ndarray, threshold: float | None) -> np.ndarray:
    """The predicted class of each row: ``P(positive) > threshold`` for binary, argmax otherwise."""
    if probabilities.shape[1] == 2:
        return (probabilities[:, 1] > (0.5 if threshold is None else threshold)).astype(np.int64)
    return probabilities.argmax(axis=1)


def classification_columns(classes: pa.Array, probabilities: np.ndarray, threshold: float | None) -> list[pa.Array]:
    """``predicted_<label>`` and ``predicted_<label>_probs`` (``classes`` in class index order)."""
    n, k = probabilities.shape
    index = predicted_class_index(probabilities, threshold)
    order = np.arange(k)[::-1]  # higher label first
    probs = pa.array(probabilities[:, order].reshape(-1), pa.float64())
    if n * k > CACHED_LABEL_ENTRIES:
        labels = classes.take(pa.array(np.tile(order, n)))
        entries = pa.StructArray.from_arrays([labels, probs], names=["label", "prob"])
        offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
        return [classes.take(pa.array(index)), pa.ListArray.from_arrays(offsets, entries)]
    cached = ClassOutputs.of(classes)
    if n <= SMALL_ROWS:
        predicted = pa.array([cached.values[i] for i in index.tolist()], classes.type)
    else:
        predicted = classes.take(pa.array(index))
    entries = pa.StructArray.from_arrays([cached.labels.slice(0, n * k), probs], names=["label", "prob"])
    return [predicted, pa.ListArray.from_arrays(cached.offsets.slice(0, n + 1), entries)]


def kmeans_columns(distances: np.ndarray) -> list[pa.Array]:
    """``CENTROID_ID`` (1-based) and the nearest centroids with their distances."""
    n, k = distances.shape
    nearest = min(k, MAX_NEAREST)
    order = np.argsort(distances, axis=1, kind="stable")[:, :nearest]
    ids = pa.array((order + 1).reshape(-1), pa.int64())
    values = pa.array(np.take_along_axis(distances, order, axis=1).reshape(-1), pa.float64())
    entries = pa.StructArray.from_arrays([ids, values], names=["CENTROID_ID", "DISTANCE"])
    offsets = pa.array(np.arange(0, n * nearest + 1, nearest, dtype=np.int32))
    return [pa.array(order[:, 0] + 1, pa.int64()), pa.ListArray.from_arrays(offsets, entries)]
