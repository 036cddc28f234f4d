"""Run a statement whose DuckDB text is already known (:mod:`sqlml.sql.known_statements`): no
parsing, no rewrites, no statement table — nor the imports they need."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlml.result import Result

if TYPE_CHECKING:
    from sqlml.engine.base import SqlEngine
    from sqlml.sql.known_statements import Known


def run_known(engine: SqlEngine, known: Known, on_error: Callable[[BaseException], BaseException]) -> Result:
    """The pending rows of ``known`` run on ``engine``'s cursor, holding a lease until they are read.

    Args:
        engine: the connection's session on the engine.
        known: the statement's DuckDB text and verb.
        on_error: turns a failure while the rows are read into a sqlml error.

    Raises:
        EngineError: DuckDB refused the text (the lease is given back).
    """
    engine.acquire()
    try:
        relation = engine.cursor().sql(known.duckdb_sql)
    except BaseException:
        engine.release()
        raise
    return Result(relation=relation, statement=known.verb, on_close=engine.release, on_error=on_error)
