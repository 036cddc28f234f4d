"""A matrix factorization's training rows: checked, and encoded as user and item row codes.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
"The query_statement is expected to contain exactly 3 columns (user, item, and rating) unless you
specify a DATA_SPLIT_METHOD value that requires use of a DATA_SPLIT_COL value"; user and item are
"any groupable data type", the rating INT64, NUMERIC, BIGNUMERIC or FLOAT64. "If a split
eliminates all of the ratings for a user or item, a factor weight vector is not generated for the
user or item": the users and items are those of the training rows, and an evaluation row of
another user or item has the code -1.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.preprocessing.automatic.preprocessor import is_numeric_type
from sqlml.ml.recommendation.factors import keys_to_numpy

ROLES = ("user", "item", "rating")
#: Integer users or items are encoded by a lookup table over their range when it spans at most
#: this many values per row (a table of 8 bytes a value).
DENSE_SPAN = 4


@dataclass(frozen=True)
class Ratings:
    """Training rows as a factorization learns them.

    Attributes:
        columns: the user, item and rating columns' names as the training query spells them.
        users: the distinct users of the training rows, sorted; a user's code is its position.
        items: the distinct items, likewise.
        codes: (rows, 2) int64 user and item code of every row (-1: not among the training rows').
        values: (rows,) float64 ratings.
    """

    columns: tuple[str, str, str]
    users: pa.Array
    items: pa.Array
    codes: np.ndarray
    values: np.ndarray

    def describe(self) -> dict:
        """The columns and the key types, for the model's description."""
        user, item, rating = self.columns
        return {"user_col": user, "item_col": item, "rating_col": rating,
                "user_type": str(self.users.type), "item_type": str(self.items.type)}  # fmt: skip

    def key_arrays(self) -> dict[str, np.ndarray]:
        """The users and items as pickle-free NumPy arrays (:func:`keys_to_numpy`)."""
        return {"users": keys_to_numpy(self.users)[0], "items": keys_to_numpy(self.items)[0]}

    def rows(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The codes and ratings of the rows at ``positions``; the arrays themselves, not a copy,
        when the positions are every row in order (NO_SPLIT's training rows)."""
        every = len(positions) == len(self.values) and bool(np.all(positions[1:] > positions[:-1]))
        return (self.codes, self.values) if every else (self.codes[positions], self.values[positions])

    def feature_info(self) -> list[dict]:
        """ML.FEATURE_INFO's rows: the user and item columns with their category counts only
        (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-feature)."""
        empty = dict.fromkeys(("min", "max", "mean", "median", "stddev", "null_count", "dimension"))
        return [{"input": name, **empty, "category_count": len(keys)} for name, keys in zip(self.columns, (self.users, self.items))]


def rating_columns(options: dict, table: pa.Table) -> tuple[str, str, str]:
    """The user, item and rating columns of the training rows, checked.

    Raises:
        InvalidModelInputError: a column is missing, another column is selected, or a column's
            type or values cannot be trained on (naming the column and the fix).
    """
    by_lower = {name.lower(): name for name in table.column_names}
    columns = tuple(_column(options, role, by_lower, table) for role in ROLES)
    _check_no_other_columns(options, columns, table)
    for name in columns[:2]:
        _check_key_column(name, table.column(name))
    _check_rating_column(columns[2], table.column(columns[2]))
    return columns


def encode(options: dict, table: pa.Table, train_rows: np.ndarray) -> Ratings:
    """The rows' codes against the users and items of ``train_rows``; the columns are those
    :func:`rating_columns` checked (called first)."""
    by_lower = {name.lower(): name for name in table.column_names}
    columns = tuple(_column(options, role, by_lower, table) for role in ROLES)
    # column-major: each column is written in place by its encoder and read whole by the pairs matrix
    codes = np.empty((table.num_rows, 2), dtype=np.int64, order="F")
    with ThreadPoolExecutor(2) as pool:  # the two columns at once (NumPy and Arrow release the GIL)
        users, items = pool.map(lambda side: _keys_and_codes(table.column(columns[side]), train_rows, codes[:, side]), (0, 1))
    values = pc.cast(table.column(columns[2]), pa.float64()).to_numpy()
    return Ratings(columns, users, items, codes, values)


def _column(options: dict, role: str, by_lower: dict[str, str], table: pa.Table) -> str:
    wanted = options.get(f"{role}_col") or role
    if wanted.lower() in by_lower:
        return by_lower[wanted.lower()]
    raise InvalidModelInputError(
        f"The training query has no {role} column '{wanted}' ({role}_col).",
        column=wanted,
        hint=f"Name the {role} column with OPTIONS({role}_col='…') or alias a column AS {wanted}. "
        f"Columns: {', '.join(table.column_names)}.",
    )


def _check_no_other_columns(options: dict, columns: tuple[str, ...], table: pa.Table) -> None:
    allowed = {name.lower() for name in columns}
    if options.get("data_split_method") in ("CUSTOM", "SEQ") and options.get("data_split_col"):
        allowed.add(options["data_split_col"].lower())
    others = [name for name in table.column_names if name.lower() not in allowed]
    if others:
        raise InvalidModelInputError(
            f"MATRIX_FACTORIZATION trains on exactly the user, item and rating columns ({', '.join(columns)}); "
            f"the training query also selects {', '.join(others)}.",
            column=others[0],
            hint="Select only those three columns (and data_split_col when data_split_method is CUSTOM or SEQ).",
        )


def _check_key_column(name: str, column: pa.ChunkedArray) -> None:
    kind = column.type
    if pa.types.is_nested(kind) or pa.types.is_null(kind):
        raise InvalidModelInputError(
            f"The column {name} has type {kind}, which cannot be grouped; users and items must be of a groupable type.",
            column=name,
            hint=f"Use an INT64, STRING, DATE… column, e.g. TO_JSON_STRING({name}).",
        )
    _check_no_nulls(column, f"The column {name}", "matrix factorization needs a user and an item in every row", name)


def _check_rating_column(name: str, column: pa.ChunkedArray) -> None:
    if not is_numeric_type(column.type):
        raise InvalidModelInputError(
            f"The rating column {name} has type {column.type}; it must be INT64, NUMERIC, BIGNUMERIC or FLOAT64.",
            column=name,
            hint=f"Convert it in the training query: CAST({name} AS FLOAT64).",
        )
    _check_no_nulls(column, f"The rating column {name}", "matrix factorization does not train on NULL ratings", name)
    values = pc.cast(column, pa.float64()).to_numpy()
    if not np.all(np.isfinite(values)):
        raise InvalidModelInputError(f"The rating column {name} has infinite or NaN values.", column=name, hint="Filter them out.")


def _check_no_nulls(column: pa.ChunkedArray, what: str, why: str, name: str) -> None:
    if column.null_count:
        raise InvalidModelInputError(
            f"{what} has {column.null_count} NULL value(s); {why}.",
            column=name,
            hint=f"Filter them out: add WHERE {name} IS NOT NULL to the training query.",
        )


def _keys_and_codes(column: pa.ChunkedArray, train_rows: np.ndarray, out: np.ndarray) -> pa.Array:
    """The distinct values of the training rows, sorted; every row's position among them (-1:
    not among the training rows') is written to ``out`` (int64, one per row): integers spanning at
    most :data:`DENSE_SPAN` values per row by a lookup table over their range, other values from
    one dictionary encoding of the column."""
    if pa.types.is_integer(column.type) and len(column):
        values = column.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low < DENSE_SPAN * len(values):
            return _dense_keys_and_codes(column.type, values, low, high - low + 1, train_rows, out)
    encoded = pc.dictionary_encode(column.combine_chunks())
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    seen = np.zeros(len(encoded.dictionary), dtype=bool)
    seen[indices[train_rows]] = True
    kept = np.flatnonzero(seen)
    keys = encoded.dictionary.take(pa.array(kept))
    order = pc.array_sort_indices(keys).to_numpy()
    lookup = np.full(len(seen), -1, dtype=np.int64)
    lookup[kept[order]] = np.arange(len(kept))
    np.take(lookup, indices, out=out, mode="clip")  # the indices are the dictionary's: in range
    return keys.take(pa.array(order))


def _dense_keys_and_codes(kind: pa.DataType, values: np.ndarray, low: int, span: int, train_rows: np.ndarray, out: np.ndarray) -> pa.Array:
    """:func:`_keys_and_codes` of integers low … low + span − 1: a table of the span's values
    marks the training rows' (already in order), their running count is each one's position."""
    # values − low wraps around in a narrow type (int8: 127 − (−128)); as unsigned it is exact
    offsets = (values - values.dtype.type(low)).view(f"u{values.dtype.itemsize}")
    seen = np.zeros(span, dtype=bool)
    seen[offsets[train_rows]] = True
    kept = np.flatnonzero(seen)
    lookup = np.full(span, -1, dtype=np.int64)
    lookup[kept] = np.arange(len(kept))
    np.take(lookup, offsets, out=out, mode="clip")  # the offsets are below span
    return pa.array(kept.astype(values.dtype) + values.dtype.type(low), kind)
