"""A fitted matrix factorization as every reader sees it: users, items, their factors and intercepts.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
an explicit model predicts ``global + user_intercept + item_intercept + user·item``; an implicit
model predicts the confidence ``user·item`` (its intercepts are 0). A user or item unseen in
training has no factors: BigQuery predicts the global intercept plus the known side's intercept
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend).

ML.RECOMMEND, ML.WEIGHTS, ML.EVALUATE, ML.GENERATE_EMBEDDING and serving read a model through
:class:`Factorization`; training builds one. The users and items keep their training type (INT64,
STRING, DATE…): they are stored as NumPy arrays without pickle (:func:`keys_to_numpy`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.ml.recommendation.als import predict_pairs

EXPLICIT = "EXPLICIT"
IMPLICIT = "IMPLICIT"


@dataclass(frozen=True)
class Factorization:
    """A fitted matrix factorization.

    Attributes:
        feedback_type: ``EXPLICIT`` or ``IMPLICIT``.
        user_col: the user column's name, as written in training.
        item_col: the item column's name.
        rating_col: the rating column's name.
        users: the distinct users, in factor row order, with their training type.
        items: the distinct items, likewise.
        user_factors: (users, factors).
        item_factors: (items, factors).
        user_intercepts: (users,); zeros for an implicit model.
        item_intercepts: (items,); zeros for an implicit model.
        global_intercept: 0 for an implicit model.
    """

    feedback_type: str
    user_col: str
    item_col: str
    rating_col: str
    users: pa.Array
    items: pa.Array
    user_factors: np.ndarray
    item_factors: np.ndarray
    user_intercepts: np.ndarray
    item_intercepts: np.ndarray
    global_intercept: float

    @property
    def num_factors(self) -> int:
        """The number of latent factors."""
        return self.user_factors.shape[1]

    @property
    def prediction_column(self) -> str:
        """``predicted_<rating_col>`` (explicit) or ``predicted_<rating_col>_confidence`` (implicit)."""
        suffix = "_confidence" if self.feedback_type == IMPLICIT else ""
        return f"predicted_{self.rating_col}{suffix}"

    def user_index(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Each value's row in :attr:`users`; -1 for a user unseen in training or NULL."""
        return _index(self.users, values)

    def item_index(self, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Each value's row in :attr:`items`; -1 for an item unseen in training or NULL."""
        return _index(self.items, values)

    def score_pairs(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """The prediction for each (user row, item row) pair; -1 marks an unseen side, which
        contributes neither factors nor intercept."""
        return predict_pairs(self.user_factors, self.item_factors, self.user_intercepts, self.item_intercepts,
                             self.global_intercept, user_rows, item_rows)  # fmt: skip

    def score_block(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """The (len(user_rows), len(item_rows)) predictions of every pair of known users and items."""
        block = self.user_factors[user_rows] @ self.item_factors[item_rows].T
        block += self.user_intercepts[user_rows, None]
        block += self.item_intercepts[None, item_rows]
        block += self.global_intercept
        return block


def _index(keys: pa.Array, values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if values.type != keys.type:
        values = values.cast(keys.type)
    found = pc.index_in(values, value_set=keys)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def keys_to_numpy(keys: pa.Array) -> tuple[np.ndarray, str]:
    """Distinct users or items as a NumPy array that loads without pickle, and their Arrow type's
    name (for :func:`keys_from_numpy`): strings become a fixed-width Unicode array, NUMERIC and
    BIGNUMERIC values their exact text, BYTES their hex text, dates and timestamps their integer
    storage."""
    kind = str(keys.type)
    if pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type) or pa.types.is_decimal(keys.type):
        return np.asarray([str(value) for value in keys.to_pylist()], dtype=np.str_), kind
    if pa.types.is_binary(keys.type) or pa.types.is_large_binary(keys.type):
        return np.asarray([value.hex() for value in keys.to_pylist()], dtype=np.str_), kind
    if pa.types.is_temporal(keys.type):
        storage = pa.int32() if pa.types.is_date32(keys.type) else pa.int64()
        return keys.cast(storage).to_numpy(zero_copy_only=False), kind
    return keys.to_numpy(zero_copy_only=False), kind


#: TIME keys' types (DuckDB's TIME is time64[us]), which the model's type names do not cover.
_TIMES = {f"time64[{unit}]": pa.time64(unit) for unit in ("us", "ns")}


def keys_from_numpy(array: np.ndarray, kind: str) -> pa.Array:
    """The Arrow array :func:`keys_to_numpy` stored."""
    from sqlml.ml.models.model import arrow_type_from_string

    arrow_type = _TIMES.get(kind) or arrow_type_from_string(kind)
    if pa.types.is_decimal(arrow_type):
        return pa.array(array.tolist(), pa.string()).cast(arrow_type)
    if pa.types.is_binary(arrow_type):
        return pa.array([bytes.fromhex(text) for text in array.tolist()], arrow_type)
    if pa.types.is_temporal(arrow_type):
        storage = pa.int32() if pa.types.is_date32(arrow_type) else pa.int64()
        return pa.array(array, storage).cast(arrow_type)
    return pa.array(array.tolist() if array.dtype.kind == "U" else array, arrow_type)
