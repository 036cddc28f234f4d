"""Evaluate a constant SQL argument of an ML function (``GENERATE_ARRAY(0, 1, 0.1)``) in DuckDB."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqlml.engine.base import EngineError
from sqlml.errors import InvalidOptionError
from sqlml.sql.transpile import parameter_names, to_duckdb

if TYPE_CHECKING:
    from sqlml.ml.functions.call import Call


def constant_value(call: Call, node: exp.Expression) -> Any:
    """The Python value of a constant expression (parameters allowed, no columns)."""
    if node.find(exp.Column) is not None:
        raise InvalidOptionError(f"The arguments of {call.name} must be constants, not columns: {node.sql('bigquery')}.")
    select = exp.select(exp.alias_(node.copy(), "value"))
    names = parameter_names(select)
    cursor = call.executor.engine.new_cursor()
    try:
        values = {n: call.params[n] for n in names if n in call.params} or None
        return cursor.sql(to_duckdb(select), params=values).fetchall()[0][0]
    except EngineError as error:
        raise InvalidOptionError(f"Cannot evaluate {node.sql('bigquery')}: {str(error).splitlines()[0]}") from None
    finally:
        with contextlib.suppress(EngineError):
            cursor.close()
