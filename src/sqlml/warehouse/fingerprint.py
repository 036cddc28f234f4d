"""BigQuery's FARM_FINGERPRINT: FarmHash Fingerprint64 of a STRING or BYTES value, as a signed INT64.

https://cloud.google.com/bigquery/docs/reference/standard-sql/hash_functions#farm_fingerprint —
"Computes the fingerprint of the STRING or BYTES input using the Fingerprint64 function from the
open-source FarmHash library"; ``FARM_FINGERPRINT('alphabet')`` is ``-2427165924636348523``. No other
argument type is accepted, so ``FARM_FINGERPRINT(1)`` is an error here as there. The hash comes
from the ``farmhash`` module of the ``cityhash`` package (Google's C++ code, wheels for Linux, macOS
and Windows), called once per value from a vectorized (Arrow) UDF: DuckDB has no Fingerprint64.

SQL calls :data:`MACRO` (``memory.main.farm_fingerprint``), which picks the STRING or the BYTES UDF
by the argument's type when the query is bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
from duckdb import sqltypes

if TYPE_CHECKING:
    import pyarrow as pa

# The macro SQL calls: ``memory.main.farm_fingerprint(value)``, named where the SQL front end writes it.
from sqlml.sql.duckdb_names import FARM_FINGERPRINT as MACRO
_STRING_UDF = "sqlml_farm_fingerprint_string"
_BYTES_UDF = "sqlml_farm_fingerprint_bytes"


def fingerprints(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Fingerprint64 of each STRING (UTF-8) or BYTES value, reinterpreted as signed INT64; NULL stays NULL."""
    # here, not at the top: a connection installs this function only when a statement calls it
    import numpy as np
    import pyarrow as pa
    from farmhash import Fingerprint64

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    empty = b"" if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type) else ""
    filled = values.fill_null(empty) if values.null_count else values
    # object array + fromiter is the fastest way to feed a per-value C function (bench/bench_functions.py)
    hashes = np.fromiter((Fingerprint64(v) for v in filled.to_numpy(zero_copy_only=False)), np.uint64, len(filled))
    mask = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else None
    return pa.array(hashes.view(np.int64), pa.int64(), mask=mask)


def _udf(values):  # noqa: ANN001, ANN202 - DuckDB reads annotations when registering, and pyarrow is not imported
    return fingerprints(values)


def install(db: duckdb.DuckDBPyConnection) -> None:
    """Register the two typed UDFs and the FARM_FINGERPRINT macro on the DuckDB instance ``db``."""
    options = {"type": "arrow", "null_handling": "special", "side_effects": False}
    db.create_function(_STRING_UDF, _udf, [sqltypes.VARCHAR], sqltypes.BIGINT, **options)
    db.create_function(_BYTES_UDF, _udf, [sqltypes.BLOB], sqltypes.BIGINT, **options)
    # typeof() is a constant, so DuckDB folds the CASE when it binds the query: one UDF runs, and an
    # argument of any other type is an error naming BigQuery's two signatures.
    db.execute(
        f"CREATE OR REPLACE MACRO {MACRO}(value) AS CASE typeof(value) "
        f"WHEN 'VARCHAR' THEN {_STRING_UDF}(CAST(value AS VARCHAR)) "
        f"WHEN 'BLOB' THEN {_BYTES_UDF}(CAST(value AS BLOB)) "
        "WHEN '\"NULL\"' THEN CAST(NULL AS BIGINT) "
        "ELSE error('No matching signature for function FARM_FINGERPRINT for argument type ' || typeof(value) || "
        "'. Supported signatures: FARM_FINGERPRINT(STRING); FARM_FINGERPRINT(BYTES). Cast the value first, "
        "e.g. FARM_FINGERPRINT(CAST(x AS STRING)).') END"
    )
