"""BigQuery functions that DuckDB lacks, installed once into each warehouse's DuckDB instance.

Each entry of :data:`INSTALLERS` is a module with an ``install(db)`` function that registers its
functions on the instance: Arrow (vectorized) Python UDFs via ``db.create_function`` are visible
on every cursor of the instance; SQL macros are created in the instance's own ``memory`` catalog
and referenced by their qualified name (``memory.main.f``), because the cursors' default catalog
is the attached warehouse file. Keeping them out of the file means a warehouse written by sqlml
opens in plain DuckDB too.
"""

from __future__ import annotations

import importlib

import duckdb

#: Modules providing ``install(db)``, in the order they are installed.
INSTALLERS: tuple[str, ...] = ("sqlml.warehouse.fingerprint", "sqlml.warehouse.geography", "sqlml.ml.monitoring.tfdv_validate")


def install(db: duckdb.DuckDBPyConnection) -> None:
    """Register every built-in function of :data:`INSTALLERS` on the DuckDB instance ``db``."""
    for name in INSTALLERS:
        importlib.import_module(name).install(db)
