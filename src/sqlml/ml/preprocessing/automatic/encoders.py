"""Per-column encoders of BigQuery ML's automatic preprocessing, fitted once and replayed exactly.

https://cloud.google.com/bigquery/docs/auto-preprocessing — numeric columns are imputed with the
training mean and standardized (where the model type does), categorical columns are one-hot,
dummy, label or target encoded with NULL as its own ``_null_filler`` category, and unseen
categories at prediction time encode to nothing (all-zero one-hot, label code 0).

Every encoder turns an Arrow column into a block of float64 feature columns with vectorised
pyarrow/NumPy code (per-row Python only for a served request's few rows, where it is faster) and
keeps its learned state as JSON-able values. A one-hot encoder also gives its block's non-zero
cells (``entries``), so that a wide encoding can be built as a sparse matrix without allocating
its zeros. ARRAY columns have their own encoders in :mod:`sqlml.ml.preprocessing.automatic.array_encoders`.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError

NULL_CATEGORY = "_null_filler"
#: What a value that does not convert to the model's input type raises.
CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError)
#: Up to this many values, categories are looked up in a dict rather than with pyarrow.compute.
SMALL_LOOKUP_ROWS = 64


class ColumnEncoder(Protocol):
    """The encoder of one input column, as the preprocessor uses it: fitted on the training rows,
    replayed on new rows into its block of the feature matrix, saved as JSON-ready state (read back
    by :func:`~sqlml.ml.preprocessing.automatic.preprocessor.encoder_from_state`)."""

    name: str

    @property
    def feature_names(self) -> list[str]:
        """The names of the processed features the column becomes, in block order."""
        ...

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> ColumnEncoder:
        """Learn from the column's training values (``target``: the label codes, for target encoding)."""
        ...

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        """Write the column's block of the feature matrix into ``out`` (rows × features)."""
        ...

    def state(self) -> dict:
        """What the encoder learned, as JSON-ready values."""
        ...


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


def _is_text_or_bool(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_boolean(arrow_type)


def check_trainable(name: str, values: np.ndarray) -> np.ndarray:
    """The non-missing values of a numeric training column (NULL and NaN are missing and will be
    imputed); an all-missing column or an infinite value is an error naming the column.

    BigQuery imputes a NULL with the column's training mean
    (https://cloud.google.com/bigquery/docs/auto-preprocessing#missing_data_imputation), so a
    column with no value has no mean: BigQuery fails with the message used here. An infinite
    value has no mean or standard deviation either.
    """
    present = values[~np.isnan(values)]
    if not present.size:
        raise InvalidModelInputError(
            f"Failed to calculate mean since the entries in corresponding column '{name}' are all NULLs.",
            column=name,
            hint=f"Give {name} values, or leave it out with SELECT * EXCEPT({name}).",
        )
    infinite = np.isinf(present)
    if infinite.any():
        raise InvalidModelInputError(
            f"The column '{name}' has {int(infinite.sum())} infinite value(s); a feature must be finite or NULL.",
            column=name,
            hint=f"Replace them in the query, e.g. IF(IS_INF({name}), NULL, {name}).",
        )
    return present


class NumericEncoder:
    """Mean imputation, optionally followed by standardization (z-score). NaN counts as missing."""

    kind = "numeric"

    def __init__(self, name: str, standardize: bool, mean: float = 0.0, std: float = 1.0):
        self.name, self.standardize, self.mean, self.std = name, standardize, mean, std

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> NumericEncoder:
        finite = check_trainable(self.name, as_float(column))
        self.mean = float(finite.mean())
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

    def _column_codes(self, column: pa.Array) -> np.ndarray:
        """The codes of a column's values (:meth:`_codes`), NULL as ``_null_filler``."""
        if len(column) <= SMALL_LOOKUP_ROWS and _is_text_or_bool(column.type):
            # A served request: Python values skip the compute kernels' setup (same codes).
            return self.value_codes(column.to_pylist(), pa.types.is_boolean(column.type))
        return self._codes(as_categories(column).fill_null(NULL_CATEGORY))

    def value_codes(self, values: list, boolean: bool = False) -> np.ndarray:
        """The codes of a few Python values of a STRING (or, ``boolean``, BOOL) column, None as
        ``_null_filler``: a served request's values, without an Arrow array."""
        if boolean:
            values = [None if value is None else ("true" if value else "false") for value in values]
        lookup = self._lookup
        return np.array([lookup.get(NULL_CATEGORY if value is None else value, 0) for value in values], dtype=np.int64)

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

    @functools.cached_property
    def _positions(self) -> np.ndarray:
        """Code (0 unseen, 1 + vocabulary index) → one-hot column, -1 for none (unseen, dropped)."""
        position = np.full(len(self.vocabulary) + 1, -1, dtype=np.int64)
        position[1:] = np.arange(len(self.vocabulary))
        if self.method == "dummy" and self.dropped is not None:
            code = self._lookup[self.dropped]
            position[code] = -1
            position[code + 1 :] -= 1
        return position

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

    def entries(self, column: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The one-hot block's non-zero cells ``(rows, features, values)``; None for label and
        target encoding, whose blocks are dense."""
        if self.method not in ("one_hot", "dummy"):
            return None
        return self._hot(self._column_codes(column))

    def _hot(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        target = self._positions[codes]
        rows = np.nonzero(target >= 0)[0]
        return rows, target[rows], np.ones(len(rows))

    def transform(self, column: pa.Array, out: np.ndarray) -> None:
        self.transform_codes(self._column_codes(column), out)

    def transform_codes(self, codes: np.ndarray, out: np.ndarray) -> None:
        """Write the block of the values whose codes (:meth:`value_codes`) are ``codes`` into ``out``."""
        if self.method in ("one_hot", "dummy"):
            rows, features, _ = self._hot(codes)
            out[:, :] = 0.0
            out[rows, features] = 1.0
            return
        if self.method == "label":
            out[:, 0] = codes
            return
        table = np.vstack([np.asarray(self.prior)[None, :], np.asarray(self.target_values).reshape(-1, len(self.prior))])
        out[:, :] = table[codes]

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

    def fit(self, column: pa.Array, target: np.ndarray | None = None) -> TimestampEncoder:
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
