"""Recommendations of a stored matrix factorization model: ML.RECOMMEND's rows, and ``:recommend``'s.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend —
ML.RECOMMEND streams its rows (:mod:`sqlml.ml.recommendation.recommend`); a served request asks
for users and/or items, or pairs, and optionally each user's ``top_k`` best items, and gets the
same columns as a table, each user's rows best first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError, ModelError
from sqlml.ml.columns import column_named
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation.factors import Factorization
from sqlml.ml.recommendation.recommend import (
    coerced_keys,
    every_pair,
    grid_columns,
    item_scores,
    output_schema,
    recommendation_reader,
    rows_per_block,
    user_scores,
)

#: The most rows one served request may ask for (without ``top_k``, users × items).
MAX_SERVED_ROWS = 100_000


def model_factorization(model: Model, name: str, trial_id: int | None = None) -> Factorization:
    """The factorization of a MATRIX_FACTORIZATION model (of one tuning trial with ``trial_id``).

    Raises:
        ModelError: the model is of another type.
        InvalidOptionError: ``trial_id`` names no trial of the model.
    """
    if not model.family.supports("RECOMMEND", model.model_type):
        raise ModelError(
            f"{name} is a {model.model_type} model; recommendations come from MATRIX_FACTORIZATION models.", model=name,
            hint="Train one with CREATE MODEL … OPTIONS(model_type='matrix_factorization', user_col=…, item_col=…, rating_col=…).",
        )  # fmt: skip
    return _factorization(model, trial_id)


@functools.lru_cache(maxsize=16)
def _factorization(model: Model, trial_id: int | None) -> Factorization:
    """Remembered per loaded model and trial, as every query and request of a model asks for it
    (the model cache keeps a loaded model as long as it is current)."""
    from sqlml.ml.recommendation.stored import factorization_of

    return factorization_of(model, trial_id)


def recommendations(factors: Factorization, reader: pa.RecordBatchReader | None, top_k: int | None = None) -> pa.RecordBatchReader:
    """ML.RECOMMEND's rows: every (user, item) pair without input, else the input's users, items or
    pairs (:func:`~sqlml.ml.recommendation.recommend.recommendation_reader`); ``top_k`` keeps each
    user's best items (and their ties) where users come alone or from training."""
    return every_pair(factors, top_k) if reader is None else recommendation_reader(factors, reader, top_k)


def served_recommendations(
    factors: Factorization,
    users: Sequence | None = None,
    items: Sequence | None = None,
    pairs: list[dict] | None = None,
    top_k: int | None = None,
) -> pa.Table:
    """The rows of one served request, ML.RECOMMEND's columns.

    Args:
        factors: the model's factorization.
        users: users (JSON values) to recommend items to; every training user when only
            ``items`` is given, every one of them and every item when neither is.
        items: items to score; every training item when only ``users`` is given.
        pairs: (user, item) objects keyed by the column names, other fields passed through;
            neither ``users`` nor ``items`` with them.
        top_k: each user's ``top_k`` best rows (each item's, when only ``items`` is given),
            best first; of tied rows the earlier item (user) in the order given — the model's
            when none is given — comes first.

    Raises:
        InvalidModelInputError: pairs with users or items, a value of the wrong type, a pair
            without a key column, or more than :data:`MAX_SERVED_ROWS` rows asked for.
    """
    if pairs is not None:
        if users is not None or items is not None:
            raise InvalidModelInputError("Send either pairs, or users and/or items, not both.", hint="Put every user and item into pairs.")
        table = _pairs_table(factors, pairs)
        return recommendation_reader(factors, pa.RecordBatchReader.from_batches(table.schema, table.to_batches())).read_all()
    user_keys = factors.users if users is None else coerced_keys(_json_array(users, factors.user_col), factors.users.type, factors.user_col, True)
    item_keys = factors.items if items is None else coerced_keys(_json_array(items, factors.item_col), factors.items.type, factors.item_col, True)
    by_item = users is None and items is not None
    _check_size(len(user_keys), len(item_keys), top_k, by_item)
    user_rows, item_rows = factors.user_index(user_keys), factors.item_index(item_keys)
    if by_item:
        item_column, user_column, values = _in_blocks(item_keys, factors.users, lambda rows: item_scores(factors, item_rows[rows]), top_k)
    elif items is None:
        user_column, item_column, values = _in_blocks(user_keys, item_keys, lambda rows: user_scores(factors, user_rows[rows]), top_k)
    else:
        user_column, item_column, values = _in_blocks(user_keys, item_keys, lambda rows: _grid_scores(factors, user_rows[rows], item_rows), top_k)
    return pa.Table.from_arrays([user_column, item_column, values], schema=output_schema(factors))


def _in_blocks(outer: pa.Array, inner: pa.Array, scores: Callable[[slice], np.ndarray], top_k: int | None) -> list[pa.Array]:
    """:func:`_ranked` over blocks of ``outer`` rows of about ``BLOCK_CELLS`` predictions each
    (``scores(rows)`` gives a block's), concatenated: the grid is never held whole."""
    step = rows_per_block(len(inner))
    parts = [_ranked(outer[start : start + step], inner, scores(slice(start, start + step)), top_k) for start in range(0, len(outer), step)]
    if not parts:
        return [outer, inner.slice(0, 0), pa.array([], pa.float64())]
    return [pa.concat_arrays([part[column] for part in parts]) for column in range(3)]


def _grid_scores(factors: Factorization, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
    """The (users, items) predictions of given user and item rows, either side possibly unseen (-1)."""
    grid_users = np.repeat(user_rows, len(item_rows))
    grid_items = np.tile(item_rows, len(user_rows))
    return factors.score_pairs(grid_users, grid_items).reshape(len(user_rows), len(item_rows))


def _ranked(outer: pa.Array, inner: pa.Array, scores: np.ndarray, top_k: int | None) -> list[pa.Array]:
    """Outer key, inner key and score of every cell row by row — or of each row's ``top_k`` best,
    best first."""
    if top_k is None:
        return grid_columns(outer, inner, scores, None)
    keep = min(top_k, scores.shape[1])
    rows = np.repeat(np.arange(len(outer)), keep)
    columns = np.argsort(-scores, axis=1, kind="stable")[:, :keep].ravel()
    return [outer.take(rows), inner.take(columns), pa.array(scores[rows, columns], pa.float64())]


def _check_size(users: int, items: int, top_k: int | None, by_item: bool) -> None:
    per = min(top_k, users if by_item else items) if top_k is not None else (users if by_item else items)
    rows = (items if by_item else users) * per
    if rows > MAX_SERVED_ROWS:
        raise InvalidModelInputError(
            f"The request asks for {rows:,} rows ({users:,} users × {items:,} items"
            + (f", {top_k} a {'item' if by_item else 'user'}" if top_k is not None else "") + f"); :recommend answers at most {MAX_SERVED_ROWS:,}.",
            hint="Send top_k, or fewer users or items; run ML.RECOMMEND in SQL for every pair.",
        )  # fmt: skip


def _json_array(values: Sequence, column: str) -> pa.Array:
    try:
        return pa.array(list(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as error:
        raise InvalidModelInputError(f"The {column} values are not all of one type: {str(error).splitlines()[0]}", column=column) from None


def _pairs_table(factors: Factorization, pairs: list[dict]) -> pa.Table:
    """The pairs as a table whose key columns have their training types; other fields as JSON typed them."""
    names = list(dict.fromkeys(name for pair in pairs for name in pair))
    columns = {}
    for key, target in ((factors.user_col, factors.users.type), (factors.item_col, factors.items.type)):
        found = column_named(names, key)
        if found is None:
            raise InvalidModelInputError(
                f"The pairs have no {key} field.", column=key, hint=f"Give every pair its {factors.user_col} and {factors.item_col}.",
            )  # fmt: skip
        columns[found] = coerced_keys(_json_array([pair.get(found) for pair in pairs], key), target, key, True)
    for name in names:
        if name not in columns:
            columns[name] = _json_array([pair.get(name) for pair in pairs], name)
    return pa.table(columns)
