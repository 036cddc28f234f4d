"""One private in-memory DuckDB per process, with the warehouse's built-in functions, for SQL
over values that are not in the warehouse: frozen TRANSFORM lists run over a batch of input rows,
constant arguments of ML preprocessing functions evaluated before planning. This local evaluation
is DuckDB's whichever engine holds the warehouse; its cursor is the seam's
:class:`~sqlml.engine.base.Cursor`, so callers see no DuckDB type or exception.

The instance is created once and shared through one cursor per thread (a view registered on a
cursor is visible to that cursor only). A fresh instance with Python UDFs per thread, created
from DuckDB's scan threads (ML.TRANSFORM's batches are computed inside the warehouse's scan),
crashed DuckDB 2.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import duckdb

from sqlml.engine.base import Cursor
from sqlml.engine.duckdb import builtins
from sqlml.engine.duckdb.builtins import Installer
from sqlml.engine.duckdb.cursor import DuckDBCursor

_instance: duckdb.DuckDBPyConnection | None = None
_instance_lock = threading.Lock()
_local = threading.local()
#: The built-in functions handed in so far (:func:`provide`), installed into the instance.
_installers: list[Installer] = []


def provide(installers: Sequence[Installer]) -> None:
    """Have the scratch instance carry the built-in functions ``installers`` register, as each
    connection's instance does (called when a connection's instance opens; new ones only)."""
    with _instance_lock:
        new = [installer for installer in installers if installer not in _installers]
        _installers.extend(new)
        if _instance is not None:
            builtins.install(_instance, new)


def cursor() -> Cursor:
    """This thread's cursor of the process's scratch DuckDB instance (created on first use).

    Consume each result before the next statement on the cursor: DuckDB refuses a query while a
    result of the same cursor is still open.
    """
    connection = getattr(_local, "cursor", None)
    if connection is None:
        connection = _local.cursor = DuckDBCursor(_shared().cursor())
    return connection


def _shared() -> duckdb.DuckDBPyConnection:
    global _instance
    with _instance_lock:
        if _instance is None:
            instance = duckdb.connect(":memory:", config={"python_enable_replacements": False})
            builtins.install(instance, _installers)
            _instance = instance
        return _instance
