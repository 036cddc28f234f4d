"""BigQuery's data split: which training rows train and which evaluate.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-glm#data_split_method

Random splits are deterministic — "different training runs produce the same split results if the
same underlying training data is used" (the page above) — but BigQuery does not document how rows
are drawn, so no local split can pick BigQuery's rows: rows are ranked by a hash of their values
and column names (:mod:`sqlml.ml.training.row_hash`, which Spark's executors compute alike), and
the lowest-ranked rows go to evaluation; a SEQ split orders the rows that tie on its column by
that hash too, so that neither split depends on the order the rows are read in. A split that
must equal BigQuery's is written in SQL, ``MOD(ABS(FARM_FINGERPRINT(…)), 10)`` with
``data_split_method='CUSTOM'``: FARM_FINGERPRINT gives BigQuery's values (sqlml.warehouse.fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidOptionError

SMALL_DATA = 500
LARGE_DATA = 50_000
LARGE_EVAL_ROWS = 10_000


@dataclass
class Split:
    """Row indices of the training, evaluation and (when tuning) test parts."""

    train: np.ndarray
    evaluation: np.ndarray
    test: np.ndarray
    method: str

    def describe(self) -> dict:
        """Row counts, for the model's metadata."""
        return {
            "method": self.method,
            "training_rows": int(len(self.train)),
            "eval_rows": int(len(self.evaluation)),
            "test_rows": int(len(self.test)),
        }


def split_rows(table: pa.Table, hashes: np.ndarray, options: dict, tuning: bool = False) -> Split:
    """Split the rows of ``table`` by the model's ``data_split_*`` options.

    The split column's type is checked first, by :func:`sqlml.ml.training.split_checks.split_for`, which calls this.
    """
    method = options.get("data_split_method", "NO_SPLIT")
    n = table.num_rows
    everything, none = np.arange(n), np.array([], dtype=np.int64)
    if method == "NO_SPLIT":
        return Split(everything, none, none, method)
    if method in ("CUSTOM", "SEQ"):
        column = _split_column(table, options, method)
        if method == "CUSTOM":
            return _custom(column)
        return _sequential(column, hashes, options, tuning)
    eval_fraction, test_fraction = _fractions(options, n, tuning, method)
    order = np.argsort(hashes, kind="stable")
    n_eval, n_test = _count(eval_fraction, n), _count(test_fraction, n)
    evaluation = np.sort(order[:n_eval])
    test = np.sort(order[n_eval : n_eval + n_test])
    train = np.sort(order[n_eval + n_test :])
    return Split(train, evaluation, test, method)


def eval_rows(options: dict, n: int) -> int:
    """How many of ``n`` rows a RANDOM, AUTO_SPLIT or SEQ split (without tuning) evaluates."""
    method = options.get("data_split_method", "NO_SPLIT")
    return _count(_fractions(options, n, False, "RANDOM" if method == "SEQ" else method)[0], n)


def _count(fraction: float, n: int) -> int:
    """The rows of ``n`` a fraction takes; AUTO_SPLIT's large-data "fraction" is a row count."""
    return int(round(fraction * n)) if fraction < 1 else int(fraction)


def _fractions(options: dict, n: int, tuning: bool, method: str) -> tuple[float, float]:
    explicit = options.get("data_split_eval_fraction")
    test = round(options.get("data_split_test_fraction") or 0.0, 2)
    if method == "AUTO_SPLIT":
        if n < SMALL_DATA:
            return 0.0, 0.0
        if tuning:
            return 0.1, 0.1
        if n > LARGE_DATA:
            return float(LARGE_EVAL_ROWS), 0.0  # a row count, not a fraction
        return 0.2, 0.0
    eval_fraction = round(explicit if explicit is not None else 0.2, 2)
    if eval_fraction + test >= 1:
        raise InvalidOptionError(
            f"data_split_eval_fraction ({eval_fraction}) plus data_split_test_fraction ({test}) must be below 1.",
            option="data_split_eval_fraction",
        )
    return eval_fraction, (test if tuning else 0.0)


def _split_column(table: pa.Table, options: dict, method: str) -> pa.Array:
    return table.column(split_column_name(table.column_names, options, method)).combine_chunks()


def split_column_name(names: list[str], options: dict, method: str) -> str:
    """The training query's name (among ``names``) of a CUSTOM or SEQ split's ``data_split_col``.

    Raises:
        InvalidOptionError: the option is not set, or names no column.
    """
    name = options.get("data_split_col")
    if not name:
        raise InvalidOptionError(
            f"data_split_method='{method}' needs data_split_col.",
            option="data_split_col",
            hint="Name the column that decides the split, e.g. data_split_col='is_eval'.",
        )
    by_lower = {c.lower(): c for c in names}
    if name.lower() not in by_lower:
        raise InvalidOptionError(
            f"data_split_col '{name}' is not a column of the training query.",
            option="data_split_col",
            hint=f"Columns: {', '.join(names)}.",
        )
    return by_lower[name.lower()]


def _custom(column: pa.Array) -> Split:
    # the column's type and values were checked by sqlml.ml.training.split_checks: BOOL, or (tuning) a STRING
    if not pa.types.is_boolean(column.type):
        values = pc.utf8_upper(column).to_numpy(zero_copy_only=False)
        parts = [np.nonzero(values == part)[0] for part in ("TRAIN", "EVAL", "TEST")]
        return Split(*parts, method="CUSTOM")
    is_eval = pc.fill_null(column, True).to_numpy(zero_copy_only=False)
    return Split(np.nonzero(~is_eval)[0], np.nonzero(is_eval)[0], np.array([], dtype=np.int64), "CUSTOM")


def _sequential(column: pa.Array, hashes: np.ndarray, options: dict, tuning: bool) -> Split:
    n = len(column)
    eval_fraction, test_fraction = _fractions({**options, "data_split_method": "RANDOM"}, n, tuning, "RANDOM")
    # NULLs sort first, so they always land in the training part, as BigQuery documents; rows that
    # tie on the column are ordered by their hash (their values), not by their place in the result.
    keys = pa.table({"value": column, "hash": pa.array(hashes, pa.uint64())})
    ranked = pc.sort_indices(keys, sort_keys=[("value", "ascending", "at_start"), ("hash", "ascending", "at_end")]).to_numpy(zero_copy_only=False)
    n_eval, n_test = _count(eval_fraction, n), _count(test_fraction, n)
    cut_eval = n - n_eval - n_test
    train = np.sort(ranked[:cut_eval]).astype(np.int64)
    evaluation = np.sort(ranked[cut_eval : cut_eval + n_eval]).astype(np.int64)
    test = np.sort(ranked[cut_eval + n_eval :]).astype(np.int64)
    return Split(train, evaluation, test, "SEQ")
