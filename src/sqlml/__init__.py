"""sqlml: BigQuery ML's SQL on an embedded DuckDB warehouse.

>>> import sqlml
>>> sqlml.connect(":memory:").query("SELECT 1 AS x").fetchall()
[(1,)]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sqlml.errors import (
    AlreadyExistsError,
    Cancelled,
    CorruptModelError,
    Error,
    ExecutionError,
    InvalidModelInputError,
    InvalidOptionError,
    ModelError,
    ModelNotFoundError,
    NotFoundError,
    ParameterError,
    ProjectError,
    ScriptError,
    SqlError,
    SqlSyntaxError,
    SqlTypeError,
    TrainingError,
    TransactionError,
    UnsupportedStatementError,
    WarehouseError,
    WarehouseLockedError,
)

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from sqlml.api import connect, query
    from sqlml.connection import Connection
    from sqlml.result import Result

__version__ = "0.1.0"

#: Public names whose modules load on first use (PEP 562), so that ``import sqlml`` (and the
#: ``sqlml`` command's start) does not pay for DuckDB, sqlglot and Arrow until they are needed.
_LAZY = {"connect": "sqlml.api", "query": "sqlml.api", "Connection": "sqlml.connection", "Result": "sqlml.result"}


def __getattr__(name: str):
    """Load ``connect``, ``query``, ``Connection`` and ``Result`` from their modules on first access."""
    if name not in _LAZY:
        raise AttributeError(f"module 'sqlml' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, including those not loaded yet."""
    return sorted({*globals(), *_LAZY})


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """``%load_ext sqlml``: the ``%sqlml`` / ``%%sqlml`` magics (see :mod:`sqlml.magics`)."""
    from sqlml.magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "AlreadyExistsError",
    "Cancelled",
    "Connection",
    "CorruptModelError",
    "Error",
    "ExecutionError",
    "InvalidModelInputError",
    "InvalidOptionError",
    "ModelError",
    "ModelNotFoundError",
    "NotFoundError",
    "ParameterError",
    "ProjectError",
    "Result",
    "ScriptError",
    "SqlError",
    "SqlSyntaxError",
    "SqlTypeError",
    "TrainingError",
    "TransactionError",
    "UnsupportedStatementError",
    "WarehouseError",
    "WarehouseLockedError",
    "__version__",
    "connect",
    "query",
]
