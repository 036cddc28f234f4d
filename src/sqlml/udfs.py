"""The BigQuery functions DuckDB lacks, which sqlml adds to its engine as DuckDB UDFs and macros:
FARM_FINGERPRINT (:mod:`sqlml.warehouse.fingerprint`), the GEOGRAPHY functions
(:mod:`sqlml.warehouse.geography`), ML.TFDV_VALIDATE's check (:mod:`sqlml.ml.monitoring.tfdv_validate`)
and ML.DISTANCE / ML.LP_NORM (:mod:`sqlml.warehouse.vectors`).

They live with the code they belong to, above the engine seam, so the engine does not name them:
a connection hands their installers to the engine it opens (:mod:`sqlml.engine.duckdb.builtins`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlml.engine.duckdb.builtins import Installer


def duckdb_installers() -> tuple[Installer, ...]:
    """The installers of every built-in function, in the order they are installed."""
    # Imported on the first connection, not by `import sqlml`: GEOGRAPHY alone takes ~20 ms.
    from sqlml.ml.monitoring import tfdv_validate
    from sqlml.warehouse import fingerprint, geography, vectors

    return (fingerprint.install, geography.install, tfdv_validate.install, vectors.install)
