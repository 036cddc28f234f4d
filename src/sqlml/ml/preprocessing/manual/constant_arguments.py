"""The Python value of a constant argument of a manual preprocessing function (``ML.BUCKETIZE``'s
split points, ``ML.NGRAMS``' range …), which BigQuery evaluates before the function runs.

It lives above the SQL front end because evaluating an expression needs the engine: the
front end (:mod:`sqlml.sql.templates`) only builds trees.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from sqlml.engine.base import EngineError
from sqlml.engine.duckdb import scratch
from sqlml.errors import InvalidOptionError
from sqlml.sql.transpile import to_duckdb


def constant(node: exp.Expression, what: str) -> Any:
    """The Python value of a constant argument: a literal, an array of them, or any expression
    that reads no column, parameter or query — ``GENERATE_ARRAY(15, 45, 1)``,
    ``CAST('+inf' AS FLOAT64)`` — which BigQuery evaluates before the function runs.

    Args:
        node: the argument.
        what: the argument, as error messages name it (``num_buckets of ML.QUANTILE_BUCKETIZE``).

    Raises:
        InvalidOptionError: the argument is not a constant, or cannot be evaluated.
    """
    from sqlml.ml.models.options import option_value  # the model options' reader, needed only here

    try:
        return option_value(node)
    except InvalidOptionError:
        pass
    if node.find(exp.Column, exp.Parameter, exp.Placeholder, exp.Query, exp.Rand, exp.Star) is not None:
        raise InvalidOptionError(f"The {what} must be a constant; got {node.sql('bigquery')}.")
    return _evaluated(node, what)


def _evaluated(node: exp.Expression, what: str) -> Any:
    """Run a constant BigQuery expression on the process's scratch DuckDB (no warehouse, no data)."""
    sql = to_duckdb(exp.select(exp.alias_(node.copy(), "v")))
    try:
        return scratch.cursor().execute(sql).fetchall()[0][0]
    except EngineError as error:
        message = str(error).partition(": ")[2] or str(error)
        raise InvalidOptionError(f"The {what} could not be evaluated: {message}") from None
