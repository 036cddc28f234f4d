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

A connection's instance installs them on first need (:class:`OnFirstNeed`): registering a Python UDF
makes DuckDB import NumPy, which a ``SELECT 1`` should not pay for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

import duckdb

#: Registers some functions on a DuckDB instance.
Installer = Callable[[duckdb.DuckDBPyConnection], None]

#: Where the built-in macros live: a statement whose text names this may call one of them.
BUILTIN_PREFIX = "memory.main."


def install(db: duckdb.DuckDBPyConnection, installers: Iterable[Installer]) -> None:
    """Run each of ``installers`` on the DuckDB instance ``db``, in order."""
    for installer in installers:
        installer(db)


class OnFirstNeed:
    """The built-in functions of one instance, installed when a statement first needs them.

    A statement needs them when its text names the ``memory`` catalog's ``main`` schema
    (:data:`BUILTIN_PREFIX`, where the macros live), when a transaction begins (a macro created
    while a transaction runs is invisible to it), or when DuckDB reports a missing function (a view
    stored in the warehouse may call them): the statement is then run again once they are in.

    Args:
        db: the DuckDB instance.
        installers: what to install, in order.
    """

    def __init__(self, db: duckdb.DuckDBPyConnection, installers: Sequence[Installer]) -> None:
        self._db = db
        self._pending = list(installers)
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        """Whether some functions are not installed yet."""
        return bool(self._pending)

    def install(self) -> None:
        """Install every function not installed yet."""
        with self._lock:
            if self._pending:
                install(self._db, self._pending)
                self._pending = []

    def before(self, sql: str) -> None:
        """Install them now if the statement ``sql`` names where they live."""
        if self._pending and BUILTIN_PREFIX in sql.lower():
            self.install()

    def after_missing(self, error: duckdb.Error) -> bool:
        """Whether ``error`` (a failed statement) may be a call of a function not installed yet;
        if so they are installed now, and the statement should be run once more."""
        if not self._pending or not isinstance(error, duckdb.CatalogException) or "Function with name" not in str(error):
            return False
        self.install()
        return True
