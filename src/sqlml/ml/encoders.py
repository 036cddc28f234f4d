"""Per-column encoders of BigQuery ML's automatic preprocessing, fitted once and replayed exactly.

https://cloud.google.com/bigquery/docs/auto-preprocessing — numeric columns are imputed with the
training mean and standardized (where the model type does), categorical columns are one-hot,
dummy, label or target encoded with NULL as its own ``_null_filler`` category, and unseen
categories at prediction time encode to nothing (all-zero one-hot, label code 0).

Every encoder turns an Arrow column into a block of float64 feature columns with vectorised
pyarrow/NumPy code (per-row Python only for a served request's few rows, where it is faster) and
keeps its learned state as JSON-able values.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NULL_CATEGORY = "_null_filler"
#: Up to this many values, categories are looked up in a dict rather than with pyarrow.compute.
SMALL_LOOKUP_ROWS = 64


def as_float(column: pa.Array) -> np.ndarray:
    """A numeric Arrow column as float64 NumPy, NULL as NaN."""
    if pa.types.is_boolean(column.type):
        column = column.cast(pa.int8())
    if pa.types.is_decimal(column.type) or pa.types.is_integer(column.type):
        column = column.cast(pa.float64())
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def as_categories(column: pa.Array) -> pa.Array:
    """A categorical Arrow column as strings (``true``/``false`` for BOOL, ISO text for dates)."""
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        # BYTES categories are named by their hex text; pyarrow has no vectorised hex encoding.
        return pa.array([None if v is None else v.hex() for v in column.to_pylist()], pa.string())
    if not pa.types.is_string(column.type):
        return column.cast(pa.string())
    return column


class NumericEncoder:
    """Mean imputation, optionally followed by standardization (z-score)."""

    kind = "numeric"

    def __init__(self, name: str, standardize: bool, mean: float = 0.0, std: float = 1.0):
        self.name, self.standardize, self.mean, self.std = name, standardize, mean, std

    def fit(self, column: pa.Array, target=None) -> "NumericEncoder":
        values = as_float(column)
        finite = values[~np.isnan(values)]
        self.mean = float(finite.mean()) if finite.size else 0.0
        std = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
        self.std = std if std > 0 else 1.0
        return self

    @property
    def feature_names(self) -> list[str]:
        return [self.name]

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        out[:, 0] = NumericEncoder.encode_block([self], as_float(column)[:, None])[:, 0]

    @staticmethod
    def encode_block(encoders: list["NumericEncoder"], block: np.ndarray) -> np.ndarray:
        """Columns of ``block`` (one per encoder, NULL as NaN) imputed with each training mean,
        then z-scored where the encoder standardizes. One column at a time or several at once
        (a served request's few rows), the arithmetic is the same."""
        means = np.array([e.mean for e in encoders])
        missing = np.isnan(block)
        if missing.any():
            block = np.where(missing, means, block)
        scaled = np.array([e.standardize for e in encoders])
        if not scaled.any():
            return block
        stds = np.array([e.std for e in encoders])
        if scaled.all():
            return (block - means) / stds
        block = np.array(block, copy=True)
        block[:, scaled] = (block[:, scaled] - means[scaled]) / stds[scaled]
        return block

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "standardize": self.standardize, "mean": self.mean, "std": self.std}


class CategoricalEncoder:
    """One-hot, dummy, label or target encoding over a vocabulary learned at training.

    Args:
        name: the input column.
        method: ``one_hot``, ``dummy`` (one-hot without the most frequent category),
            ``label`` (alphabetical codes from 1; NULL and unseen are 0) or ``target``.
        vocabulary: the categories, sorted alphabetically (``_null_filler`` for NULL).
    """

    kind = "categorical"

    def __init__(self, name: str, method: str, vocabulary=None, dropped=None, target_values=None, prior=None):
        self.name, self.method = name, method
        self.vocabulary: list[str] = list(vocabulary or [])
        self.dropped: str | None = dropped
        self.target_values: list[list[float]] = target_values or []
        self.prior: list[float] = prior or []

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> "CategoricalEncoder":
        values = as_categories(column).fill_null(NULL_CATEGORY)
        counts = pc.value_counts(values)
        categories = counts.field("values").to_pylist()
        frequency = dict(zip(categories, counts.field("counts").to_pylist()))
        self.vocabulary = sorted(categories)
        if self.method == "dummy" and len(self.vocabulary) > 1:
            # BigQuery drops the most frequent category (ties: alphabetically first here).
            self.dropped = max(self.vocabulary, key=lambda c: (frequency[c], -self.vocabulary.index(c)))
        if self.method == "target":
            self._fit_target(values, target)
        return self

    def _fit_target(self, values: pa.Array, target: np.ndarray) -> None:
        codes = self._codes(values)
        target = np.asarray(target, dtype=np.float64)
        matrix = target if target.ndim == 2 else target[:, None]
        self.prior = matrix.mean(axis=0).tolist()
        sums = np.zeros((len(self.vocabulary) + 1, matrix.shape[1]))
        np.add.at(sums, codes, matrix)
        counts = np.bincount(codes, minlength=len(self.vocabulary) + 1)[:, None]
        means = np.where(counts > 0, sums / np.maximum(counts, 1), self.prior)
        self.target_values = means[1:].tolist()

    def _codes(self, values: pa.Array) -> np.ndarray:
        """0 for unseen, 1 + vocabulary index otherwise (``values`` has no NULL)."""
        if len(values) <= SMALL_LOOKUP_ROWS:  # a served request: a dict beats a compute kernel's setup
            lookup = self._lookup
            return np.array([lookup.get(value, 0) for value in values.to_pylist()], dtype=np.int64)
        index = pc.index_in(values, value_set=self._value_set)
        return index.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) + 1

    @functools.cached_property
    def _value_set(self) -> pa.Array:
        return pa.array(self.vocabulary, pa.string())

    @functools.cached_property
    def _lookup(self) -> dict[str, int]:
        return {category: index + 1 for index, category in enumerate(self.vocabulary)}

    @property
    def columns(self) -> list[str]:
        """The categories that get a one-hot column."""
        if self.method == "dummy" and self.dropped is not None:
            return [c for c in self.vocabulary if c != self.dropped]
        return self.vocabulary

    @property
    def feature_names(self) -> list[str]:
        if self.method == "label":
            return [self.name]
        if self.method == "target":
            width = max(1, len(self.prior))
            return [self.name] if width == 1 else [f"{self.name}_{k}" for k in range(width)]
        return [f"{self.name}_{category}" for category in self.columns]

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        values = as_categories(column).fill_null(NULL_CATEGORY)
        codes = self._codes(values)
        if self.method == "label":
            out[:, 0] = codes
            return
        if self.method == "target":
            table = np.vstack([np.asarray(self.prior)[None, :], np.asarray(self.target_values).reshape(-1, len(self.prior))])
            out[:, :] = table[codes]
            return
        out[:, :] = 0.0
        columns = self.columns
        position = np.full(len(self.vocabulary) + 1, -1, dtype=np.int64)
        for k, category in enumerate(columns):
            position[self.vocabulary.index(category) + 1] = k
        target = position[codes]
        rows = np.nonzero(target >= 0)[0]
        out[rows, target[rows]] = 1.0

    def state(self) -> dict:
        return {
            "kind": self.kind, "name": self.name, "method": self.method, "vocabulary": self.vocabulary,
            "dropped": self.dropped, "target_values": self.target_values, "prior": self.prior,
        }  # fmt: skip


class TimestampEncoder:
    """TIMESTAMP: epoch seconds (numeric) plus BigQuery's calendar components (categorical).

    https://cloud.google.com/bigquery/docs/auto-preprocessing#timestamp_transformation
    """

    kind = "timestamp"
    COMPONENTS = ("DOM", "DOW", "MOY", "HOD", "MOH", "WOY", "YEAR")

    def __init__(self, name: str, standardize: bool, method: str, epoch=None, components=None):
        self.name = name
        self.epoch = NumericEncoder(name, standardize) if epoch is None else epoch
        self.components = components or [
            CategoricalEncoder(f"_TS_{part}_{name}", method) for part in self.COMPONENTS
        ]

    def _parts(self, column: pa.Array) -> list[pa.Array]:
        # Weeks start on Sunday as in BigQuery's WEEK; DAYOFWEEK 1 = Sunday.
        return [
            pc.day(column), pc.day_of_week(column, count_from_zero=False, week_start=7),
            pc.month(column), pc.hour(column), pc.minute(column),
            pc.us_week(column), pc.year(column),
        ]  # fmt: skip

    @staticmethod
    def _epoch(column: pa.Array) -> pa.Array:
        return pc.divide(column.cast(pa.timestamp("us")).cast(pa.int64()), 1_000_000.0)

    def fit(self, column: pa.Array, target=None) -> "TimestampEncoder":
        self.epoch.fit(self._epoch(column))
        for encoder, part in zip(self.components, self._parts(column)):
            encoder.fit(part)
        return self

    @property
    def feature_names(self) -> list[str]:
        names = list(self.epoch.feature_names)
        for encoder in self.components:
            names += encoder.feature_names
        return names

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        self.epoch.transform(self._epoch(column), out[:, :1])
        start = 1
        for encoder, part in zip(self.components, self._parts(column)):
            width = len(encoder.feature_names)
            encoder.transform(part, out[:, start : start + width])
            start += width

    def state(self) -> dict:
        return {
            "kind": self.kind, "name": self.name, "epoch": self.epoch.state(),
            "components": [encoder.state() for encoder in self.components],
        }  # fmt: skip


class ArrayEncoder:
    """ARRAY<numeric> as a dense vector (one feature per position, mean-imputed per position)."""

    kind = "array"

    def __init__(self, name: str, standardize: bool, dimension: int = 0, means=None, stds=None):
        self.name, self.standardize, self.dimension = name, standardize, dimension
        self.means, self.stds = list(means or []), list(stds or [])

    def _matrix(self, column: pa.Array) -> np.ndarray:
        lengths = pc.list_value_length(column).fill_null(self.dimension).to_numpy(zero_copy_only=False)
        if self.dimension and np.any(lengths != self.dimension):
            from sqlml.errors import InvalidModelInputError

            raise InvalidModelInputError(
                f"Every value of the ARRAY column {self.name} must have {self.dimension} elements."
            )
        filled = pc.if_else(pc.is_null(column), pa.scalar([None] * self.dimension, column.type), column)
        flat = as_float(pc.list_flatten(filled))
        return flat.reshape(len(column), self.dimension) if self.dimension else flat.reshape(len(column), 0)

    def fit(self, column: pa.Array, target=None) -> "ArrayEncoder":
        lengths = pc.unique(pc.list_value_length(column.filter(pc.is_valid(column)))).to_pylist()
        if len(lengths) > 1:
            from sqlml.errors import InvalidModelInputError

            raise InvalidModelInputError(f"The ARRAY column {self.name} has values of different lengths {sorted(lengths)}.")
        self.dimension = lengths[0] if lengths else 0
        matrix = self._matrix(column)
        self.means = np.nan_to_num(np.nanmean(matrix, axis=0)).tolist() if matrix.size else []
        stds = np.nan_to_num(np.nanstd(matrix, axis=0, ddof=1)) if len(matrix) > 1 else np.ones(self.dimension)
        self.stds = np.where(stds > 0, stds, 1.0).tolist()
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


class MultiHotEncoder:
    """ARRAY<STRING> (or of other non-numeric elements): one feature per distinct element."""

    kind = "multi_hot"

    def __init__(self, name: str, vocabulary=None):
        self.name = name
        self.vocabulary: list[str] = list(vocabulary or [])

    def fit(self, column: pa.Array, target=None) -> "MultiHotEncoder":
        elements = as_categories(pc.list_flatten(column)).drop_null()
        self.vocabulary = sorted(pc.unique(elements).to_pylist())
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.name}_{value}" for value in self.vocabulary]

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        out[:, :] = 0.0
        lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False)
        rows = np.repeat(np.arange(len(column)), lengths)
        elements = as_categories(pc.list_flatten(column))
        index = pc.index_in(elements, value_set=pa.array(self.vocabulary, pa.string()))
        index = index.fill_null(-1).to_numpy(zero_copy_only=False)
        keep = index >= 0
        out[rows[keep], index[keep]] = 1.0

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

    def fit(self, column: pa.Array, target=None) -> "SparseEncoder":
        _, index, _ = self._entries(column)
        self.dimension = int(index.max()) + 1 if index.size else 1
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.name}_{k}" for k in range(self.dimension)]

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        out[:, :] = 0.0
        rows, index, value = self._entries(column)
        keep = (index >= 0) & (index < self.dimension)
        np.add.at(out, (rows[keep], index[keep]), value[keep])

    def state(self) -> dict:
        return {"kind": self.kind, "name": self.name, "dimension": self.dimension}


def encoder_from_state(state: dict):
    """Rebuild an encoder from :meth:`state` output."""
    kind = state["kind"]
    if kind == "numeric":
        return NumericEncoder(state["name"], state["standardize"], state["mean"], state["std"])
    if kind == "categorical":
        return CategoricalEncoder(
            state["name"], state["method"], state["vocabulary"], state["dropped"], state["target_values"], state["prior"]
        )
    if kind == "timestamp":
        epoch = encoder_from_state(state["epoch"])
        components = [encoder_from_state(s) for s in state["components"]]
        return TimestampEncoder(state["name"], epoch.standardize, components[0].method, epoch, components)
    if kind == "array":
        return ArrayEncoder(state["name"], state["standardize"], state["dimension"], state["means"], state["stds"])
    if kind == "multi_hot":
        return MultiHotEncoder(state["name"], state["vocabulary"])
    if kind == "sparse":
        return SparseEncoder(state["name"], state["dimension"])
    raise ValueError(f"unknown encoder kind {kind!r}")
