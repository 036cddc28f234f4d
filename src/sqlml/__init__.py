"""sqlml: BigQuery ML's SQL on an embedded DuckDB warehouse.

>>> import sqlml
>>> sqlml.connect(":memory:").query("SELECT 1 AS x").fetchall()
[(1,)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.api import connect, query
from sqlml.connection import Connection
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
from sqlml.result import Result

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__version__ = "0.1.0"


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
