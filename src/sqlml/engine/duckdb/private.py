"""A private in-memory DuckDB for one computation over rows already read (a contribution
analysis's segments): its own catalog, so computations running at once never see each other's
tables, closed when the computation ends. Like :mod:`~sqlml.engine.duckdb.scratch`, this local
evaluation is DuckDB's whichever engine holds the warehouse; callers get the seam's
:class:`~sqlml.engine.base.Cursor` and see no DuckDB type or exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from sqlml.engine.base import Cursor
from sqlml.engine.duckdb.cursor import DuckDBCursor


@contextmanager
def private_cursor() -> Iterator[Cursor]:
    """A cursor of a new in-memory DuckDB instance, closed (with everything in it) on exit."""
    connection = duckdb.connect(":memory:", config={"python_enable_replacements": False})
    try:
        yield DuckDBCursor(connection)
    finally:
        connection.close()
