"""Served instances typed without Arrow per request: each column a model reads is checked value by
value in Python against the type it had in training, and the checked rows wait, as plain
lists, until the rows of several requests are scored together (:mod:`.batching`): straight to the
model's feature matrix (:func:`sqlml.serve.scoring.predict_batch`), or as one Arrow batch
(:meth:`InputColumns.batch`) for a value or model the row encoding leaves to Arrow.

What a request is worked out once per loaded model (:func:`input_columns`): the columns, their
Arrow types and a cheap check per type. A value the check does not vouch for (a float for an
INT64 column, a date, a decimal) is left to Arrow, for that request's column only, so every value
is accepted or refused exactly as :func:`sqlml.serve.scoring.instances_batch` would. A model whose
inputs are not known ahead (TRANSFORM, an imported file, STRUCT columns given as objects) is not
typed here (None): such a request takes the per-request path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError
from sqlml.ml.models.model import Model, arrow_type_from_string

#: Integers a float64 column takes exactly (Arrow refuses larger ones).
EXACT_DOUBLE = 2**53
INT64 = (-(2**63), 2**63 - 1)


def _is_float(value: object) -> bool:
    kind = type(value)
    return kind is float or value is None or (kind is int and -EXACT_DOUBLE <= value <= EXACT_DOUBLE)


def _is_int(value: object) -> bool:
    return value is None or (type(value) is int and INT64[0] <= value <= INT64[1])


def _is_str(value: object) -> bool:
    return value is None or type(value) is str


def _is_bool(value: object) -> bool:
    return value is None or type(value) is bool


#: Arrow types whose columns :meth:`InputColumns.batch` builds through NumPy, all at once.
NUMPY_TYPES = {pa.float64(): np.float64, pa.int64(): np.int64}
#: Arrow type → the check that a JSON value converts to it as it is; other types are left to Arrow.
CHECKS: dict[pa.DataType, Callable[[object], bool]] = {
    pa.float64(): _is_float, pa.int64(): _is_int, pa.string(): _is_str, pa.bool_(): _is_bool,
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class InputColumns:
    """The columns a model reads, with their training types, and the schema of their batch."""

    names: tuple[str, ...]
    schema: pa.Schema
    checks: tuple[Callable[[object], bool] | None, ...]
    #: (NumPy dtype, positions) of the columns built together, as one array per type.
    blocks: tuple[tuple[type, tuple[int, ...]], ...] = ()

    @staticmethod
    def of(schema: pa.Schema) -> InputColumns:
        """The columns of ``schema``, with their checks and NumPy blocks."""
        blocks = tuple(
            (dtype, positions) for arrow_type, dtype in NUMPY_TYPES.items()
            if (positions := tuple(i for i, field in enumerate(schema) if field.type == arrow_type))
        )  # fmt: skip
        return InputColumns(tuple(schema.names), schema, tuple(CHECKS.get(field.type) for field in schema), blocks)

    def typed(self, instances: list[dict]) -> list[list] | None:
        """Each instance's values of the columns, in column order (null where it lacks one),
        checked against the columns' types; None when a column is in no instance under its own
        name (the per-request path then names it, or reads it from a STRUCT).

        Raises:
            InvalidModelInputError: a value does not convert to its column's type.
        """
        keys = _keys(self.names, instances)
        if keys is None:
            return None
        rows = [[instance.get(key) for key in keys] for instance in instances]
        if len(rows) == 1:  # a single row (most requests): one pass over its values
            unchecked = [i for i, (check, value) in enumerate(zip(self.checks, rows[0])) if check is None or not check(value)]
        else:
            unchecked = [i for i, check in enumerate(self.checks) if check is None or not all(check(row[i]) for row in rows)]
        for index in unchecked:
            for row, value in zip(rows, _converted(keys[index], [row[index] for row in rows], self.schema.field(index).type)):
                row[index] = value
        return rows

    def batch(self, requests: list[list[list]]) -> pa.RecordBatch:
        """One Arrow batch of the typed rows of several requests, in order.

        The FLOAT64 columns become one NumPy array, column after column, and so one Arrow array
        whose slices are the columns (the INT64 ones alike): a converted array per column costs
        as much as scoring a row. The values were checked (:meth:`typed`), so NumPy converts
        them as Arrow would; a null is masked, not a NaN.
        """
        rows = list(chain.from_iterable(requests))
        count = len(rows)
        arrays: list[pa.Array | None] = [None] * len(self.names)
        for dtype, positions in self.blocks:
            values = [row[index] for index in positions for row in rows]
            mask = np.fromiter((value is None for value in values), bool, len(values)) if None in values else None
            if mask is not None:
                values = [0 if value is None else value for value in values]
            block = pa.array(np.array(values, dtype), mask=mask)
            for number, index in enumerate(positions):
                arrays[index] = block.slice(number * count, count)
        for index, field in enumerate(self.schema):
            if arrays[index] is None:
                arrays[index] = pa.array([row[index] for row in rows], field.type)
        return pa.RecordBatch.from_arrays(arrays, names=self.names)  # the arrays have the schema's types (half the time of schema=)


@functools.lru_cache(maxsize=64)
def input_columns(model: Model) -> InputColumns | None:
    """The typed input columns of a loaded model (remembered); None when they are not known ahead."""
    if model.preprocessor is None or model.spec.get("transform") or "imported" in model.spec:
        return None
    fields = [pa.field(column.name, arrow_type_from_string(column.arrow_type)) for column in model.preprocessor.columns]
    if not fields or any(pa.types.is_nested(field.type) for field in fields):
        return None  # no columns: a batch of them would have no rows to count
    return InputColumns.of(pa.schema(fields))


def _keys(names: tuple[str, ...], instances: list[dict]) -> list[str] | None:
    """The key each column has in the instances (column names are case-insensitive)."""
    first = instances[0]
    if len(instances) == 1 and all(name in first for name in names):
        return list(names)
    given = {key.lower(): key for key in dict.fromkeys(chain.from_iterable(instances))}
    keys = [given.get(name.lower()) for name in names]
    return None if None in keys else keys


def refuse_fractions(key: str, values: list, arrow_type: pa.DataType) -> None:
    """Refuse a JSON number with a fraction (or NaN, or an infinity) for an integer column, which
    Arrow would truncate without a word (4.5 → 4); a whole float such as 4.0 is its integer.

    Raises:
        InvalidModelInputError: naming the column and the value.
    """
    if pa.types.is_integer(arrow_type):
        fraction = next((value for value in values if type(value) is float and not value.is_integer()), None)
        if fraction is not None:
            raise InvalidModelInputError(
                f"The column {key} has a value that is not {arrow_type}: {fraction!r} is not a whole number.",
                column=key, hint=f"Send {key} as a whole number, or retrain with {key} as FLOAT64.",
            )  # fmt: skip


def _converted(key: str, values: list, arrow_type: pa.DataType) -> list:
    """Arrow's own conversion of one column, or its refusal in the per-request path's words."""
    refuse_fractions(key, values, arrow_type)
    try:
        return pa.array(values, arrow_type).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InvalidModelInputError(f"The column {key} has a value that is not {arrow_type}: {first}") from None
