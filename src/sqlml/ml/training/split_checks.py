"""The data split of a CREATE MODEL, checked: the split column's type and values, and a
training part that is not empty.

:mod:`sqlml.ml.training.split` computes which rows train and which evaluate; this module checks what it
is given first, so that a split column of the wrong type is an error naming it, for tuned and
untuned models alike, and a split that leaves nothing to train on fails before training.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm#data_split_col —
for CUSTOM the column is BOOL (TRUE or NULL evaluates, FALSE trains); when tuning it may also be
a STRING of TRAIN, EVAL and TEST (https://cloud.google.com/bigquery/docs/hp-tuning-overview);
for SEQ it is any orderable type (numbers, STRING, BYTES, BOOL, DATE, TIME, DATETIME, TIMESTAMP).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.models.catalog import family_of
from sqlml.ml.training.split import Split, split_rows

TUNING_PARTS = ("TRAIN", "EVAL", "TEST")


def no_split(table: pa.Table) -> Split:
    """Every row trains (unsupervised models, NO_SPLIT)."""
    empty = np.array([], dtype=np.int64)
    return Split(np.arange(table.num_rows), empty, empty, "NO_SPLIT")


def split_for(model_type: str, options: dict, table: pa.Table, hashes: np.ndarray) -> Split:
    """The training, evaluation and test rows of ``table`` under the model's ``data_split_*``
    options (unsupervised models but matrix factorization train on every row).

    Raises:
        InvalidModelInputError: the split column has a type or value BigQuery does not allow.
        InvalidOptionError: the split leaves no training rows.
    """
    if not family_of(model_type).target(model_type).splits_rows:
        return no_split(table)
    tuning = bool(options.get("num_trials"))
    check_split_column(table, options, tuning)
    split = split_rows(table, hashes, options, tuning)
    if not len(split.train):
        raise no_training_rows_error(split.method, table.num_rows, options)
    return split


def no_training_rows_error(method: str, rows: int, options: dict) -> InvalidOptionError:
    """The error of a split of ``rows`` rows that leaves none to train on, naming the first split option given."""
    given = [key for key in ("data_split_col", "data_split_eval_fraction", "data_split_method") if options.get(key) is not None]
    return InvalidOptionError(
        f"The data split ({method}) leaves no training rows: all {rows} row(s) went to evaluation or test.",
        option=given[0] if given else "data_split_method",
        hint="Mark some rows for training, or lower data_split_eval_fraction.",
    )


def check_split_column(table: pa.Table, options: dict, tuning: bool) -> None:
    """The ``data_split_col`` of a CUSTOM or SEQ split has a type (and values) BigQuery allows.

    A missing option or column is left to :func:`sqlml.ml.training.split.split_rows`, which names it.
    """
    method, wanted = options.get("data_split_method"), options.get("data_split_col")
    names = {name.lower(): name for name in table.column_names}
    if method not in ("CUSTOM", "SEQ") or not wanted or wanted.lower() not in names:
        return
    name = names[wanted.lower()]
    column = table.column(name)
    if method == "SEQ":
        if pa.types.is_nested(column.type) or pa.types.is_null(column.type):
            raise InvalidModelInputError(
                f"data_split_col {name} must have an orderable type for data_split_method='SEQ' "
                f"(a number, STRING, DATE or TIMESTAMP); it is {column.type}.",
                column=name,
            )
        return
    if pa.types.is_boolean(column.type):
        return
    if tuning and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        _check_tuning_parts(name, column)
        return
    raise InvalidModelInputError(
        f"data_split_col {name} must be a BOOL column for data_split_method='CUSTOM' (TRUE or NULL = eval, "
        f"FALSE = training; with num_trials, a STRING of 'TRAIN', 'EVAL' and 'TEST'); it is {column.type}.",
        column=name,
        hint=f"Compute it in the query, e.g. {name} = 'EVAL' AS {name}_is_eval.",
    )


def _check_tuning_parts(name: str, column: pa.ChunkedArray) -> None:
    values = pc.unique(column).to_pylist()
    unknown = sorted("NULL" if value is None else repr(value) for value in values if value is None or value.upper() not in TUNING_PARTS)
    if unknown:
        raise InvalidModelInputError(
            f"data_split_col {name} may hold only 'TRAIN', 'EVAL' and 'TEST' for a tuned CUSTOM split; "
            f"it also has {', '.join(unknown[:5])}.",
            column=name,
        )
