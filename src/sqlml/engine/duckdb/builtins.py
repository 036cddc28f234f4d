"""BigQuery functions that DuckDB lacks, installed into each DuckDB instance the implementation
opens: a connection's (:class:`~sqlml.engine.duckdb.instance.Instance`) and the process's scratch
instance (:mod:`~sqlml.engine.duckdb.scratch`).

Their code belongs to the layers above the seam (FARM_FINGERPRINT and GEOGRAPHY to the warehouse,
ML.TFDV_VALIDATE's check to the ML code), so the engine names none of them: whoever opens an engine
hands in their installers (:func:`sqlml.udfs.duckdb_installers`). An installer registers its
functions on an instance: Arrow (vectorized) Python UDFs via ``db.create_function`` are visible on
every cursor of the instance; SQL macros are created in the instance's own ``memory`` catalog and
referenced by their qualified name (``memory.main.f``), because the cursors' default catalog is the
attached warehouse file. Keeping them out of the file means a warehouse written by sqlml opens in
plain DuckDB too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb

#: Registers some functions on a DuckDB instance.
Installer = Callable[[duckdb.DuckDBPyConnection], None]


def install(db: duckdb.DuckDBPyConnection, installers: Iterable[Installer]) -> None:
    """Run each of ``installers`` on the DuckDB instance ``db``, in order."""
    for installer in installers:
        installer(db)
