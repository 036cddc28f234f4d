"""Automatic preprocessing: from a model's input columns (Arrow) to its feature matrix (NumPy).

The encoder of each column follows its type and the model type, as BigQuery documents
(https://cloud.google.com/bigquery/docs/auto-preprocessing): numbers are mean-imputed and
standardized for linear models, k-means and PCA; STRING, BOOL, BYTES, DATE, DATETIME and TIME are
one-hot encoded (label encoded for trees); TIMESTAMP splits into epoch and calendar parts;
ARRAY<numeric> is a dense vector, other arrays multi-hot; STRUCT fields become ``struct_field``
columns. Everything is learned on the training rows and replayed identically on new rows.

A model whose one-hot encodings are wide gets its feature matrix as a SciPy CSR matrix
(``transform(..., sparse=True)``), built from the encoders' non-zero cells: a column of 90,000
distinct strings costs one entry per row, not 90,000.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.preprocessing.automatic.array_encoders import ArrayEncoder, MultiHotEncoder, SparseEncoder
from sqlml.ml.preprocessing.automatic.columnwise import map_columns
from sqlml.ml.preprocessing.automatic.encoders import (
    CONVERSION_ERRORS, CategoricalEncoder, ColumnEncoder, NumericEncoder, TimestampEncoder, as_float,
)
from sqlml.ml.preprocessing.automatic.rows import RowEncoding

if TYPE_CHECKING:
    from sqlml.ml.preprocessing.automatic.feature_matrix import FeatureMatrix

#: Below this many rows, preprocessing works on all numeric columns at once (see transform).
SMALL_BATCH_ROWS = 1_000


def is_numeric_type(arrow_type: pa.DataType) -> bool:
    """INT64, FLOAT64, NUMERIC, BIGNUMERIC."""
    return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type)


def flatten_structs(table: pa.Table | pa.RecordBatch) -> pa.Table:
    """STRUCT columns become one column per field, named ``{struct}_{field}`` (BigQuery's naming)."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    if not any(pa.types.is_struct(field.type) for field in table.schema):
        return table
    names, columns = [], []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_struct(field.type):
            chunks = column.combine_chunks()
            for index in range(field.type.num_fields):
                names.append(f"{field.name}_{field.type.field(index).name}")
                columns.append(pc.struct_field(chunks, [index]))
        else:
            names.append(field.name)
            columns.append(column)
    return pa.table(dict(zip(names, columns)))


@dataclass(frozen=True)
class SchemaPlan:
    """How a preprocessor reads inputs of one schema.

    Attributes:
        positions: each model column's position in the input.
        same_type: whether each has its training type (no cast needed).
        float_positions: the plain numeric columns' positions when all are FLOAT64, else None.
    """

    positions: list[int]
    same_type: list[bool]
    float_positions: list[int] | None

    def read(self, data: pa.Table | pa.RecordBatch, index: int, column: InputColumn) -> pa.Array:
        """The model's column ``index`` (``column``) of ``data`` as one array, cast where its type differs."""
        values = data.column(self.positions[index])
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        return values if self.same_type[index] else _coerce(values, column)


@dataclass
class InputColumn:
    """A column the model reads, by its name in the training query and its Arrow type."""

    name: str
    arrow_type: str


class Preprocessor:
    """Encodes a model's input columns into a float64 feature matrix.

    Args:
        columns: the input columns, in training order.
        encoders: one fitted encoder per column.
    """

    def __init__(self, columns: list[InputColumn], encoders: list[ColumnEncoder]) -> None:
        self.columns = columns
        self.encoders = encoders
        self._widths = [len(encoder.feature_names) for encoder in encoders]

    @classmethod
    def fit(
        cls,
        table: pa.Table,
        features: list[str],
        *,
        standardize: bool,
        categorical: str,
        target: np.ndarray | None = None,
    ) -> "Preprocessor":
        """Learn the encoders from the training rows.

        Args:
            table: training rows (STRUCT columns already flattened).
            features: the columns to encode, in order.
            standardize: z-score numeric columns (linear models, k-means, PCA).
            categorical: ``one_hot``, ``dummy``, ``label`` or ``target``.
            target: the encoded label, for target encoding.
        """

        def fit_one(name: str):
            column = table.column(name).combine_chunks()
            encoder = _encoder_for(name, column.type, standardize, categorical)
            return InputColumn(name, str(column.type)), encoder.fit(column, target)

        fitted = map_columns(fit_one, features, table.num_rows * len(features))
        return cls([column for column, _ in fitted], [encoder for _, encoder in fitted])

    @property
    def feature_names(self) -> list[str]:
        """Names of the processed features (``processed_input`` in ML.WEIGHTS)."""
        return [name for encoder in self.encoders for name in encoder.feature_names]

    @property
    def groups(self) -> dict[str, list[int]]:
        """Input column → indices of its processed features (for weights and explanations)."""
        groups, start = {}, 0
        for column, width in zip(self.columns, self._widths):
            groups[column.name] = list(range(start, start + width))
            start += width
        return groups

    @property
    def categorical_indices(self) -> list[int]:
        """Features that are label-encoded categories (LightGBM's ``categorical_feature``)."""
        indices, start = [], 0
        for encoder, width in zip(self.encoders, self._widths):
            parts = encoder.components if isinstance(encoder, TimestampEncoder) else [encoder]
            offset = start + (1 if isinstance(encoder, TimestampEncoder) else 0)
            for part in parts:
                part_width = len(part.feature_names)
                if isinstance(part, CategoricalEncoder) and part.method == "label":
                    indices.append(offset)
                offset += part_width
            start += width
        return indices

    @property
    def width(self) -> int:
        """The number of processed features."""
        return sum(self._widths)

    def transform(self, data: pa.Table | pa.RecordBatch, sparse: bool = False) -> FeatureMatrix:
        """The feature matrix of ``data`` (columns matched by name, case-insensitively): a float64
        array, or a SciPy CSR matrix when ``sparse``.

        Raises:
            InvalidModelInputError: a column the model needs is missing or cannot be converted.
        """
        if not sparse and data.num_rows < SMALL_BATCH_ROWS:
            out = self._small_batch(data)
            if out is not None:
                return out
        table = flatten_structs(data)
        by_name = self._columns_by_name(table.column_names)
        if sparse:
            return self._sparse(table, by_name)
        # Column-major: each encoder fills whole columns, which are then contiguous in memory
        # (LightGBM, NumPy and scikit-learn take either layout without copying).
        out = np.empty((table.num_rows, self.width), dtype=np.float64, order="F")
        starts = self._starts

        def encode(index: int) -> None:
            column, encoder = self.columns[index], self.encoders[index]
            with _conversion_errors(column, table.column(by_name[column.name.lower()])) as values:
                encoder.transform(_coerce(values, column), out[:, starts[index] : starts[index + 1]])

        # Each encoder writes only its own columns of ``out``, so they can run side by side.
        map_columns(encode, range(len(self.columns)), out.size)
        return out

    def row_encoding(self, types: list[pa.DataType]) -> RowEncoding:
        """How a few rows of Python values whose columns have ``types`` (the training types, in
        column order) become the feature matrix, as :meth:`transform` makes it: a served request
        (:mod:`sqlml.ml.preprocessing.automatic.rows`)."""
        return RowEncoding.of(self.encoders, types)

    def _columns_by_name(self, names: list[str]) -> dict[str, str]:
        """Lower-case name → the input's name, for the input column ``names``.

        Raises:
            InvalidModelInputError: a column the model needs is missing.
        """
        by_name = {name.lower(): name for name in names}
        for column in self.columns:
            if column.name.lower() not in by_name:
                raise InvalidModelInputError(
                    f"The input has no column {column.name}, which the model was trained on.",
                    hint=f"Select {column.name} ({column.arrow_type}) in the query you pass to the model.",
                )
        return by_name

    @functools.cached_property
    def _starts(self) -> list[int]:
        """The first feature of each column's block, and the width at the end."""
        return np.concatenate([[0], np.cumsum(self._widths)]).astype(int).tolist()

    @functools.cached_property
    def _numeric(self) -> list[int]:
        """The plain numeric columns (a served request imputes and scales them together)."""
        return [i for i, encoder in enumerate(self.encoders) if type(encoder) is NumericEncoder]

    @functools.cached_property
    def _others(self) -> list[int]:
        """The columns that are not plain numeric."""
        return [i for i, encoder in enumerate(self.encoders) if type(encoder) is not NumericEncoder]

    def _small_batch(self, data: pa.Table | pa.RecordBatch) -> np.ndarray | None:
        """The dense feature matrix of a few rows (a served request; per-column overhead dominates):
        columns located once per schema, plain numeric ones imputed and scaled together. None when
        a value does not convert: the column-by-column path then names the column in its error.

        Raises:
            InvalidModelInputError: a column the model needs is missing.
        """
        plan = self._located(data.schema)
        if plan is None:
            return None
        out = np.empty((data.num_rows, self.width), dtype=np.float64, order="F")
        starts, numeric = self._starts, self._numeric
        try:
            if numeric:
                block = NumericEncoder.encode_block([self.encoders[i] for i in numeric], self._numeric_values(data, plan))
                out[:, [starts[i] for i in numeric]] = block
            for index in self._others:
                self.encoders[index].transform(plan.read(data, index, self.columns[index]), out[:, starts[index] : starts[index + 1]])
        except CONVERSION_ERRORS:
            return None
        return out

    def _numeric_values(self, data: pa.Table | pa.RecordBatch, plan: SchemaPlan) -> np.ndarray:
        """The plain numeric columns as float64 rows × columns, NULL as NaN."""
        if plan.float_positions is not None and isinstance(data, pa.RecordBatch) and data.num_rows:
            return data.select(plan.float_positions).to_tensor(null_to_nan=True).to_numpy()
        return np.column_stack([as_float(plan.read(data, index, self.columns[index])) for index in self._numeric])

    def _located(self, schema: pa.Schema) -> SchemaPlan | None:
        """How inputs of ``schema`` are read (once per schema; a server's requests share one); None
        for STRUCT columns or names that differ only in case (the general path then reads them).

        Raises:
            InvalidModelInputError: a column the model needs is missing.
        """
        known = self.__dict__.setdefault("_plans", [])
        for seen, plan in known:
            if seen.equals(schema):
                return plan
        names = [name.lower() for name in schema.names]
        plan = None
        if len(set(names)) == len(names) and not any(pa.types.is_struct(field.type) for field in schema):
            self._columns_by_name(schema.names)
            positions = [names.index(column.name.lower()) for column in self.columns]
            same = [str(schema.field(p).type) == c.arrow_type for p, c in zip(positions, self.columns)]
            floats = [positions[i] for i in self._numeric]
            plan = SchemaPlan(positions, same, floats if floats and all(pa.types.is_float64(schema.field(p).type) for p in floats) else None)
        if len(known) >= 16:
            known.clear()
        known.append((schema, plan))
        return plan

    def _sparse(self, table: pa.Table, by_name: dict[str, str]):
        """The feature matrix as CSR: one-hot and array encoders give their non-zero cells, the
        other (narrow) blocks are computed dense and converted."""
        from scipy import sparse

        rows, blocks = table.num_rows, []
        for column, encoder, width in zip(self.columns, self.encoders, self._widths):
            with _conversion_errors(column, table.column(by_name[column.name.lower()])) as raw:
                values = _coerce(raw, column)
                cells = encoder.entries(values) if hasattr(encoder, "entries") else None
                if cells is None:
                    block = np.empty((rows, width))
                    encoder.transform(values, block)
                    blocks.append(sparse.csr_matrix(block))
                else:
                    row, feature, value = cells
                    blocks.append(sparse.csr_matrix((value, (row, feature)), shape=(rows, width)))
        if not blocks:
            return sparse.csr_matrix((rows, 0))
        return sparse.hstack(blocks, format="csr", dtype=np.float64)

    def state(self) -> dict:
        """JSON-able description of the fitted preprocessing."""
        return {
            "columns": [{"name": c.name, "arrow_type": c.arrow_type} for c in self.columns],
            "encoders": [encoder.state() for encoder in self.encoders],
        }

    @classmethod
    def from_state(cls, state: dict) -> "Preprocessor":
        """Rebuild from :meth:`state`."""
        columns = [InputColumn(c["name"], c["arrow_type"]) for c in state["columns"]]
        return cls(columns, [encoder_from_state(s) for s in state["encoders"]])


def encoder_from_state(state: dict) -> ColumnEncoder:
    """Rebuild an encoder from its ``state()`` output."""
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


def _encoder_for(name: str, arrow_type: pa.DataType, standardize: bool, categorical: str) -> ColumnEncoder:
    if is_numeric_type(arrow_type) or pa.types.is_null(arrow_type):
        return NumericEncoder(name, standardize)
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
        return TimestampEncoder(name, standardize, categorical)
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        if is_numeric_type(arrow_type.value_type):
            return ArrayEncoder(name, standardize)
        if _is_sparse_vector(arrow_type.value_type):
            return SparseEncoder(name)
        return MultiHotEncoder(name)
    categorical_types = (
        pa.types.is_string, pa.types.is_large_string, pa.types.is_boolean, pa.types.is_binary,
        pa.types.is_large_binary, pa.types.is_date, pa.types.is_time, pa.types.is_timestamp,
    )  # fmt: skip
    if any(check(arrow_type) for check in categorical_types):
        return CategoricalEncoder(name, categorical)
    raise InvalidModelInputError(
        f"The column {name} has type {arrow_type}, which sqlml cannot use as a feature.",
        hint=f"Cast it in the query (e.g. CAST({name} AS STRING)) or leave it out with SELECT * EXCEPT({name}).",
    )


def _is_sparse_vector(element: pa.DataType) -> bool:
    """STRUCT<INT64, numeric>: an (index, value) entry of a sparse vector."""
    return (
        pa.types.is_struct(element)
        and element.num_fields == 2
        and pa.types.is_integer(element.field(0).type)
        and is_numeric_type(element.field(1).type)
    )


@contextlib.contextmanager
def _conversion_errors(column: InputColumn, chunked: pa.ChunkedArray):
    """The column's values as one array; a value that does not convert is a clear input error."""
    values = chunked.combine_chunks()
    try:
        yield values
    except CONVERSION_ERRORS as error:
        raise InvalidModelInputError(
            f"The column {column.name} has type {values.type}, which does not convert to the "
            f"type the model was trained on ({column.arrow_type}): {error}",
        ) from None


def _coerce(values: pa.Array, column: InputColumn) -> pa.Array:
    """Implicit coercion at prediction time: cast to the training type where they differ."""
    if str(values.type) == column.arrow_type or pa.types.is_null(values.type):
        return values
    target = _arrow_type(column.arrow_type)
    if target is None:
        return values
    if is_numeric_type(target) and not is_numeric_type(values.type):
        return values.cast(pa.float64())
    return values.cast(target) if not (is_numeric_type(target) and is_numeric_type(values.type)) else values


def _arrow_type(text: str) -> pa.DataType | None:
    simple = {
        "int64": pa.int64(), "int32": pa.int32(), "double": pa.float64(), "float": pa.float32(),
        "string": pa.string(), "large_string": pa.large_string(), "bool": pa.bool_(), "date32[day]": pa.date32(),
    }  # fmt: skip
    return simple.get(text)
