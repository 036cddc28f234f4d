"""Encoders of ARRAY columns (BigQuery's automatic preprocessing): dense vectors, multi-hot
categories and sparse (index, value) vectors, fitted once and replayed exactly.

https://cloud.google.com/bigquery/docs/auto-preprocessing — ARRAY<numeric> is a dense vector,
ARRAY<STRUCT<INT64, numeric>> a sparse one, arrays of other types are multi-hot encoded.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.preprocessing.automatic.encoders import as_categories, as_float


class ArrayEncoder:
    """ARRAY<numeric> as a dense vector (one feature per position, mean-imputed per position)."""

    kind = "array"

    def __init__(self, name: str, standardize: bool, dimension: int = 0, means=None, stds=None):
        self.name, self.standardize, self.dimension = name, standardize, dimension
        self.means, self.stds = list(means or []), list(stds or [])

    def _matrix(self, column: pa.Array) -> np.ndarray:
        lengths = pc.list_value_length(column).fill_null(self.dimension).to_numpy(zero_copy_only=False)
        if self.dimension and np.any(lengths != self.dimension):
            raise InvalidModelInputError(
                f"Every value of the ARRAY column {self.name} must have {self.dimension} elements."
            )
        filled = pc.if_else(pc.is_null(column), pa.scalar([None] * self.dimension, column.type), column)
        flat = as_float(pc.list_flatten(filled))
        return flat.reshape(len(column), self.dimension) if self.dimension else flat.reshape(len(column), 0)

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> ArrayEncoder:
        lengths = pc.unique(pc.list_value_length(column.filter(pc.is_valid(column)))).to_pylist()
        if len(lengths) > 1:
            raise InvalidModelInputError(
                f"The ARRAY column {self.name} has values of different lengths {sorted(lengths)}.", column=self.name
            )
        self.dimension = lengths[0] if lengths else 0
        matrix = self._matrix(column)
        if np.isinf(matrix).any():
            raise InvalidModelInputError(
                f"The ARRAY column '{self.name}' has infinite elements; a feature must be finite or NULL.", column=self.name
            )
        means, stds = _position_moments(matrix)
        self.means, self.stds = means.tolist(), stds.tolist()
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.name}_{k}" for k in range(self.dimension)]

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        matrix = self._matrix(column)
        means = np.asarray(self.means)
        matrix = np.where(np.isnan(matrix), means, matrix)
        if self.standardize:
            matrix = (matrix - means) / np.asarray(self.stds)
        out[:, :] = matrix

    def state(self) -> dict:
        return {
            "kind": self.kind, "name": self.name, "standardize": self.standardize,
            "dimension": self.dimension, "means": self.means, "stds": self.stds,
        }  # fmt: skip


def _position_moments(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation of each column over its non-NULL (NaN) values; 0 and 1
    where a column has too few values (NumPy's nanmean would warn on stderr about them)."""
    present = ~np.isnan(matrix)
    counts = present.sum(axis=0)
    filled = np.where(present, matrix, 0.0)
    means = np.divide(filled.sum(axis=0), counts, out=np.zeros(matrix.shape[1]), where=counts > 0)
    squares = (np.where(present, matrix - means, 0.0) ** 2).sum(axis=0)
    stds = np.sqrt(np.divide(squares, counts - 1, out=np.zeros(matrix.shape[1]), where=counts > 1))
    return means, np.where(stds > 0, stds, 1.0)


class MultiHotEncoder:
    """ARRAY<STRING> (or of other non-numeric elements): one feature per distinct element."""

    kind = "multi_hot"

    def __init__(self, name: str, vocabulary=None):
        self.name = name
        self.vocabulary: list[str] = list(vocabulary or [])

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> MultiHotEncoder:
        elements = as_categories(pc.list_flatten(column)).drop_null()
        self.vocabulary = sorted(pc.unique(elements).to_pylist())
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.name}_{value}" for value in self.vocabulary]

    def entries(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The multi-hot block's non-zero cells ``(rows, features, values)``."""
        lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        rows = np.repeat(np.arange(len(column)), lengths)
        elements = as_categories(pc.list_flatten(column))
        index = pc.index_in(elements, value_set=pa.array(self.vocabulary, pa.string()))
        index = index.fill_null(-1).to_numpy(zero_copy_only=False)
        keep = index >= 0
        return rows[keep], index[keep], np.ones(int(keep.sum()))

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        rows, index, _ = self.entries(column)
        out[:, :] = 0.0
        out[rows, index] = 1.0

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "vocabulary": self.vocabulary}


class SparseEncoder:
    """ARRAY<STRUCT<index INT64, value numeric>>: a sparse vector, used as is (one feature per index).

    This is the output of ML.ONE_HOT_ENCODER, ML.MULTI_HOT_ENCODER, ML.BAG_OF_WORDS and ML.TF_IDF;
    indices beyond those seen in training are ignored at prediction time.
    """

    kind = "sparse"

    def __init__(self, name: str, dimension: int = 0):
        self.name, self.dimension = name, dimension

    @staticmethod
    def _entries(column: pa.Array):
        lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(column)
        index = pc.struct_field(flat, [0]).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        value = as_float(pc.struct_field(flat, [1]))
        return np.repeat(np.arange(len(column)), lengths), index, np.nan_to_num(value)

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> SparseEncoder:
        _, index, _ = self._entries(column)
        self.dimension = int(index.max()) + 1 if index.size else 1
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.name}_{k}" for k in range(self.dimension)]

    def entries(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The vector's cells ``(rows, features, values)`` within the training dimension; an index
        given twice in a row adds up."""
        rows, index, value = self._entries(column)
        keep = (index >= 0) & (index < self.dimension)
        return rows[keep], index[keep], value[keep]

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        out[:, :] = 0.0
        rows, index, value = self.entries(column)
        np.add.at(out, (rows, index), value)

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "dimension": self.dimension}
