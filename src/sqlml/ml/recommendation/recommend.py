"""ML.RECOMMEND's rows from a :class:`~sqlml.ml.recommendation.factors.Factorization`, batch by batch.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend —
"If no input data is specified, ML.RECOMMEND outputs the ratings for every user and item
combination seen during training": every training user with every training item, not only the
rated pairs (the page's purpose is "the predictions for those missing values without requiring
specification of each entry", and the tutorials rank each user's unrated movies from it); an input with only the user (or only the item) column gives
"all the item ratings for every user in the table" (or every user's rating of each item), and the
input "can only contain one column"; an input with both columns gives "a rating for each user-item
pair" and passes its other columns through; neither column is an error. A user or item unseen in
training is scored with the global intercept plus the known side's intercept
(:meth:`Factorization.score_pairs`). The columns are the user and item columns with their
training types, then ``predicted_<rating_col>`` (``…_confidence`` for implicit feedback), then the
pass-through columns.

The user × item grid is never held whole: users are scored in blocks of about
:data:`BLOCK_CELLS` predictions (:meth:`Factorization.score_block`), each block one record batch.
With ``top_k`` a block keeps only each user's ``top_k`` best items — and every item tied with the
``top_k``-th — which is what a ranking of each user's rows by the prediction needs (and
:func:`best_users_per_item` the same per item, scoring items in blocks)
(:mod:`sqlml.ml.recommendation.pushdown`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sqlml.errors import InvalidModelInputError
from sqlml.ml.recommendation.factors import Factorization

#: Predictions per block (32 MiB of FLOAT64): a batch of at most this many rows at a time. Smaller
#: blocks cost more than they save, each gathering every item's factors again: every_pair(…,
#: top_k=10) of 10,000 × 5,000 × 32 factors took 2.1 s in blocks of 4 M cells, 2.5 s of 1 M,
#: 3.8 s of 256 k, 11 s of 64 k (best of three, 2026-12-02, the machine loaded).
BLOCK_CELLS = 1 << 22


def rows_per_block(width: int) -> int:
    """How many rows of ``width`` predictions a block of about :data:`BLOCK_CELLS` holds (at least one)."""
    return max(1, BLOCK_CELLS // max(width, 1))


def output_schema(factors: Factorization, passed: list[pa.Field] | tuple = ()) -> pa.Schema:
    """ML.RECOMMEND's columns: user, item (training types), the prediction, then ``passed``."""
    return pa.schema([
        pa.field(factors.user_col, factors.users.type), pa.field(factors.item_col, factors.items.type),
        pa.field(factors.prediction_column, pa.float64()), *passed,
    ])  # fmt: skip


def every_pair(factors: Factorization, top_k: int | None = None) -> pa.RecordBatchReader:
    """Every user seen in training with every item seen in training (each user's ``top_k`` best
    items, ties kept, when given)."""
    rows = np.arange(len(factors.users), dtype=np.int64)
    return pa.RecordBatchReader.from_batches(output_schema(factors), user_blocks(factors, factors.users, rows, top_k))


def best_users_per_item(factors: Factorization, reader: pa.RecordBatchReader | None, top_k: int) -> pa.RecordBatchReader:
    """ML.RECOMMEND's rows for a query that keeps each item's ``top_k`` best users (ties kept):
    without input, every training item with its best training users; with an input of items
    alone, those items' best users; with users or pairs, every row (an item's best among given
    users needs all of them first, and pairs are kept as given)."""
    if reader is None:
        rows = np.arange(len(factors.items), dtype=np.int64)
        return pa.RecordBatchReader.from_batches(output_schema(factors), item_blocks(factors, factors.items, rows, top_k))
    user, item = _positions(factors, reader.schema)
    if user is not None:
        return recommendation_reader(factors, reader)
    batches = (block for batch in reader for block in _for_items(factors, batch.column(item), top_k))
    return pa.RecordBatchReader.from_batches(output_schema(factors), batches)


def recommendation_reader(factors: Factorization, reader: pa.RecordBatchReader, top_k: int | None = None) -> pa.RecordBatchReader:
    """ML.RECOMMEND's rows for an input: users, items or (user, item) pairs, by its columns.

    Args:
        factors: the model's factorization.
        reader: the input rows.
        top_k: keep only each user's ``top_k`` best items (ties kept) where the input gives users
            alone; ignored for items alone and for pairs, whose rows are all kept.

    Raises:
        InvalidModelInputError: the input has neither column, or one of them and other columns,
            or a key column that does not convert to its training type.
    """
    user, item = _positions(factors, reader.schema)
    if user is not None and item is not None:
        passed = [i for i in range(len(reader.schema)) if i not in (user, item)]
        schema = output_schema(factors, [reader.schema.field(i) for i in passed])
        batches = (_scored_pairs(factors, batch, user, item, passed, schema) for batch in reader)
    elif user is not None:
        schema = output_schema(factors)
        batches = (block for batch in reader for block in _for_users(factors, batch.column(user), top_k))
    else:
        schema = output_schema(factors)
        batches = (block for batch in reader for block in _for_items(factors, batch.column(item)))
    return pa.RecordBatchReader.from_batches(schema, batches)


def user_blocks(factors: Factorization, keys: pa.Array, rows: np.ndarray, top_k: int | None = None) -> Iterator[pa.RecordBatch]:
    """Batches of ``keys`` (users, -1 in ``rows`` for one unseen) with every item, user by user.

    Args:
        factors: the model's factorization.
        keys: the users as the output shows them (training type).
        rows: each user's row in the factorization, -1 for an unseen or NULL user.
        top_k: keep only each user's ``top_k`` best items, and those tied with the last of them.
    """
    step = rows_per_block(len(factors.items))
    schema = output_schema(factors)
    for start in range(0, len(rows), step):
        scores = user_scores(factors, rows[start : start + step])
        yield pa.RecordBatch.from_arrays(grid_columns(keys.slice(start, step), factors.items, scores, top_k), schema=schema)


def user_scores(factors: Factorization, user_rows: np.ndarray) -> np.ndarray:
    """The (users, every item) predictions; a row of -1 (unseen user) scores the global and item
    intercepts only."""
    every_item = np.arange(len(factors.items), dtype=np.int64)
    known = user_rows >= 0
    if known.all():
        return factors.score_block(user_rows, every_item)
    scores = np.empty((len(user_rows), len(every_item)))
    scores[known] = factors.score_block(user_rows[known], every_item)
    scores[~known] = factors.global_intercept + factors.item_intercepts
    return scores


def item_scores(factors: Factorization, item_rows: np.ndarray) -> np.ndarray:
    """The (items, every user) predictions; a row of -1 (unseen item) scores the global and user
    intercepts only."""
    every_user = np.arange(len(factors.users), dtype=np.int64)
    known = item_rows >= 0
    scores = np.empty((len(item_rows), len(every_user)))
    scores[known] = factors.score_block(every_user, item_rows[known]).T
    scores[~known] = factors.global_intercept + factors.user_intercepts
    return scores


def best_cells(scores: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``top_k`` largest scores and of every score tied with the
    ``top_k``-th largest (in no particular order).

    ``argpartition`` finds ``top_k`` columns per row; only a row with more scores equal to its
    ``top_k``-th largest (rare with real-valued factors) is searched again for its ties.
    """
    height, width = scores.shape
    if top_k >= width:
        return np.repeat(np.arange(height), width), np.tile(np.arange(width), height)
    best = np.argpartition(scores, width - top_k, axis=1)[:, width - top_k :]
    kth = np.take_along_axis(scores, best, axis=1).min(axis=1)
    tied = np.count_nonzero(scores >= kth[:, None], axis=1) > top_k
    rows, columns = np.repeat(np.arange(height), top_k), best.ravel()
    if tied.any():
        keep = ~tied[rows]
        extra_rows, extra_columns = np.nonzero(scores[tied] >= kth[tied, None])
        rows = np.concatenate([rows[keep], np.flatnonzero(tied)[extra_rows]])
        columns = np.concatenate([columns[keep], extra_columns])
    return rows, columns


def grid_columns(outer: pa.Array, inner: pa.Array, scores: np.ndarray, top_k: int | None) -> list[pa.Array]:
    """A block of scores (rows: ``outer`` keys, columns: ``inner`` keys) as three columns: outer
    key, inner key, score — every cell row by row, or each row's best ``top_k``."""
    if top_k is None:
        rows = np.repeat(np.arange(len(outer)), len(inner))
        columns, values = np.tile(np.arange(len(inner)), len(outer)), scores.ravel()
    else:
        rows, columns = best_cells(scores, top_k)
        values = scores[rows, columns]
    return [outer.take(rows), inner.take(columns), pa.array(values, pa.float64())]


def coerced_keys(values: pa.Array | pa.ChunkedArray, target: pa.DataType, column: str, from_text: bool = False) -> pa.Array:
    """Input users or items as their training type, by BigQuery's implicit coercion
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules#coercion: an
    integer widens to another integer, FLOAT64 or NUMERIC; no number becomes a STRING, nor a
    STRING a number or a date).

    Args:
        values: the input's users or items.
        target: their training type.
        column: the column's name, for messages.
        from_text: the values come from JSON, which writes dates and timestamps as ISO text and
            exact decimals as text: text converts to a temporal type or NUMERIC too.

    Raises:
        InvalidModelInputError: the type does not coerce, or a value does not convert.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == target:
        return values
    problem = None
    if _coerces(values.type, target, from_text):
        try:
            return values.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            problem = str(error).splitlines()[0]
    raise InvalidModelInputError(
        f"The column {column} has type {values.type}, which does not convert to the type the model was trained on ({target})"
        + (f": {problem}" if problem else "."),
        column=column, hint=f"Give {column} values of type {target}, e.g. with CAST({column} AS …).",
    )  # fmt: skip


def _coerces(source: pa.DataType, target: pa.DataType, from_text: bool) -> bool:
    types = pa.types
    if types.is_null(source) or (types.is_integer(source) and (types.is_integer(target) or types.is_floating(target) or types.is_decimal(target))):
        return True
    if types.is_floating(source) and types.is_floating(target):
        return True
    text = types.is_string(source) or types.is_large_string(source)
    return text and (types.is_string(target) or types.is_large_string(target) or (from_text and (types.is_temporal(target) or types.is_decimal(target))))


def _positions(factors: Factorization, schema: pa.Schema) -> tuple[int | None, int | None]:
    """Where the user and item columns are in the input (names compared case-insensitively)."""
    names = [name.lower() for name in schema.names]
    user = names.index(factors.user_col.lower()) if factors.user_col.lower() in names else None
    item = names.index(factors.item_col.lower()) if factors.item_col.lower() in names else None
    if user is None and item is None:
        raise InvalidModelInputError(
            f"The input of ML.RECOMMEND has neither the user column {factors.user_col} nor the item column {factors.item_col} "
            f"of the model; its columns are {', '.join(schema.names) or 'none'}.",
            hint=f"Select {factors.user_col} (every item for those users), {factors.item_col} (every user for those items) "
            "or both (one prediction per pair).",
        )  # fmt: skip
    if (user is None or item is None) and len(names) > 1:
        given = factors.user_col if item is None else factors.item_col
        missing = factors.item_col if item is None else factors.user_col
        others = [name for name in schema.names if name.lower() != given.lower()]
        raise InvalidModelInputError(
            f"The input of ML.RECOMMEND has {given} but not {missing}, so it can only have that one column; "
            f"it also has {', '.join(others)}.",
            hint=f"Select only {given}, or add {missing} to score each ({factors.user_col}, {factors.item_col}) pair.",
        )
    return user, item


def _for_users(factors: Factorization, values: pa.Array, top_k: int | None) -> Iterator[pa.RecordBatch]:
    keys = coerced_keys(values, factors.users.type, factors.user_col)
    return user_blocks(factors, keys, factors.user_index(keys), top_k)


def _for_items(factors: Factorization, values: pa.Array, top_k: int | None = None) -> Iterator[pa.RecordBatch]:
    keys = coerced_keys(values, factors.items.type, factors.item_col)
    return item_blocks(factors, keys, factors.item_index(keys), top_k)


def item_blocks(factors: Factorization, keys: pa.Array, rows: np.ndarray, top_k: int | None = None) -> Iterator[pa.RecordBatch]:
    """Batches of ``keys`` (items, -1 in ``rows`` for one unseen) with every user, item by item
    (each item's ``top_k`` best users, ties kept, when given)."""
    schema = output_schema(factors)
    step = rows_per_block(len(factors.users))
    for start in range(0, len(rows), step):
        scores = item_scores(factors, rows[start : start + step])
        item_keys, user_keys, values = grid_columns(keys.slice(start, step), factors.users, scores, top_k)
        yield pa.RecordBatch.from_arrays([user_keys, item_keys, values], schema=schema)


def _scored_pairs(factors: Factorization, batch: pa.RecordBatch, user: int, item: int, passed: list[int], schema: pa.Schema) -> pa.RecordBatch:
    users = coerced_keys(batch.column(user), factors.users.type, factors.user_col)
    items = coerced_keys(batch.column(item), factors.items.type, factors.item_col)
    scores = factors.score_pairs(factors.user_index(users), factors.item_index(items))
    columns = [users, items, pa.array(scores, pa.float64()), *(batch.column(i) for i in passed)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)
