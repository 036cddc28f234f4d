"""Per-row outputs computed from a model's preprocessed features, streamed before the input columns.

The shape of ML.DETECT_ANOMALIES (KMEANS, PCA, autoencoder models), ML.RECONSTRUCTION_LOSS and
ML.GENERATE_EMBEDDING: as ML.PREDICT does (:mod:`sqlml.ml.runtime.predict`), each input batch (at
most 122,880 rows) is preprocessed (TRANSFORM, then automatic preprocessing) and scored as it is
read, so memory stays bounded whatever the input's size; the outputs come first, then every
input column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa

from sqlml.ml.models.model import Model
from sqlml.ml.preprocessing.automatic.feature_matrix import dense

#: Output columns (in the fields' order) from a batch's dense preprocessed feature matrix.
Compute = Callable[[np.ndarray], list[pa.Array]]


def feature_outputs_reader(model: Model, reader: pa.RecordBatchReader, outputs: list[pa.Field], compute: Compute) -> pa.RecordBatchReader:
    """A reader of ``outputs`` (computed by ``compute``), then the input columns, batch by batch.

    Raises:
        InvalidModelInputError: the input lacks a column the model was trained on (before any
            row is read).
    """
    model.check_input(reader.schema)
    schema = pa.schema(list(outputs) + list(reader.schema))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            if batch.num_rows:
                columns = compute(dense(model.features(batch), model.preprocessor))
            else:
                columns = [pa.array([], field.type) for field in outputs]
            yield pa.RecordBatch.from_arrays(list(columns) + batch.columns, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
