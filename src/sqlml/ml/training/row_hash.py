"""Each training row's hash: what RANDOM and AUTO_SPLIT splits rank the rows by (the lowest go to
evaluation), what breaks a SEQ split's ties and draws AutoML's folds, and the training data's
fingerprint.

The hash is DuckDB's ``hash`` of the whole row (its values, in the query's column order) XOR-ed
with a hash of the column names — computed over the rows as Arrow, not inside the training
query, so that Spark's executors, which hold the rows as Arrow batches, compute the same value
with this same function (:mod:`sqlml.ml.spark_training.rows`, on the batches cast to the types
one process reads). A row is thus evaluated on either engine by its values alone, not by where
it is stored or in which order the rows are read. (DuckDB's hash of a value does not depend on
how Arrow carries it: an INT32 or INT64 column, ``string`` or ``large_string``, hash alike.)
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

from sqlml.engine.duckdb import scratch


#: The name the rows are registered under on the scratch DuckDB.
ROWS = "__rows"


def row_hashes(rows: pa.Table | pa.RecordBatch) -> np.ndarray:
    """The uint64 hash of each row of ``rows`` (see the module's description), on the process's
    scratch DuckDB (:mod:`sqlml.engine.duckdb.scratch`: made once, a cursor per thread — a new
    connection costs ~30 ms of CPU, and Spark hashes batch by batch)."""
    cursor = scratch.cursor()
    cursor.register(ROWS, pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows)
    try:
        hashed = cursor.sql(f"SELECT hash(__data) FROM {ROWS} AS __data").to_arrow_table().column(0)
    finally:
        cursor.unregister(ROWS)
    return hashed.to_numpy().astype(np.uint64, copy=False) ^ _names_hash(rows.schema.names)


def _names_hash(names: list[str]) -> np.uint64:
    """The first 8 bytes of the SHA-256 of the column names joined by ``|``, little-endian."""
    return np.uint64(int.from_bytes(hashlib.sha256("|".join(names).encode()).digest()[:8], "little"))
