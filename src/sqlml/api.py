"""The module-level entry points: :func:`connect` and :func:`query` on a default connection."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping, Sequence

from sqlml.connection import Connection
from sqlml.result import Result

_default: Connection | None = None
_default_lock = threading.Lock()


def connect(
    warehouse: str | os.PathLike = "warehouse",
    models: str | os.PathLike | None = "models",
    dialect: str = "bigquery",
    **options,
) -> Connection:
    """Open a warehouse and a model store.

    ``sqlml.connect()`` opens (creating on first use) ``./warehouse/warehouse.duckdb`` and the
    model store ``./models/``; ``sqlml.connect(":memory:")`` gives an in-memory warehouse and a
    temporary model store.

    Args:
        warehouse: the warehouse folder, or ``":memory:"``.
        models: the model store folder.
        dialect: ``"bigquery"`` or ``"duckdb"``.
        **options: ``read_only``, ``lock_timeout``, ``idle_release``, ``config``, ``compile``, ``engine``
            (``"duckdb"`` or ``"spark"``) and ``spark`` (a SparkSession or master URL; see
            :class:`Connection`).

    Returns:
        A :class:`Connection`; use it as a context manager or call ``close()``.
    """
    return Connection(warehouse, models, dialect, **options)


def default_connection() -> Connection:
    """The connection :func:`query` uses: ``connect()`` in the current folder, opened once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = connect()
            atexit.register(_default.close)
        return _default


def query(sql: str, params: Mapping | Sequence | None = None) -> Result:
    """Run SQL on the default connection (``./warehouse`` and ``./models``).

    See :meth:`Connection.query`.
    """
    return default_connection().query(sql, params)
