"""The Python value of a constant written in SQL, as the option readers need it.

``OPTIONS(k = v, …)`` of CREATE/ALTER MODEL, ``OPTIONS(…)``/``FILES(…)`` of EXPORT DATA and LOAD
DATA, and the settings of the ML functions hold constants: literals, arrays and structs of them, a
negated number, a typed literal (``TIMESTAMP '2030-01-01'``) or a query parameter. This module reads
them once for all of those readers; each reader adds the forms only it takes (``HPARAM_RANGE(…)``,
``format=CSV`` without quotes) through ``other`` and words its own error from :class:`NotConstant`.
The scalar table and materialized view options take a literal of one type (:func:`literal_value`).
https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#literals
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp


class NotConstant(ValueError):
    """An expression that is not a constant; ``node`` is the part of it that is not (an array's
    element, a struct's field), which the caller names in its message."""

    def __init__(self, node: exp.Expression):
        super().__init__(node.sql(dialect="bigquery"))
        self.node = node


def constant_value(node: exp.Expression, params: dict | None = None, other: Callable[[exp.Expression], object] | None = None) -> object:
    """The Python value of a constant expression.

    Args:
        node: the expression.
        params: query parameters and script variables by name, for ``@name`` (none by default).
        other: reads the forms this function does not know (and raises :class:`NotConstant` for
            those its caller does not take either); applied inside arrays and structs too.

    Returns:
        a ``str``, ``int``, ``float``, ``bool`` or None; a list for an array; a tuple for a struct
        or tuple; a typed literal's text.

    Raises:
        NotConstant: ``node``, or a part of it, is not a constant.
    """
    params = params or {}
    read = lambda part: constant_value(part, params, other)  # noqa: E731
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else _number(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg):
        value = read(node.this)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        raise NotConstant(node)
    if isinstance(node, (exp.Paren, exp.Alias)):
        return read(node.this)
    if isinstance(node, exp.Array):
        return [read(e) for e in node.expressions]
    if isinstance(node, (exp.Tuple, exp.Struct)):
        return tuple(read(e.expression if isinstance(e, exp.PropertyEQ) else e) for e in node.expressions)  # a named field: its value
    if isinstance(node, exp.Cast) and node.this.is_string and node.to.is_type(*exp.DataType.TEMPORAL_TYPES):
        return node.this.this  # a typed literal such as TIMESTAMP '2030-01-01 00:00:00 UTC'
    bound = node.this if isinstance(node, exp.Cast) else node  # a script variable is bound with its declared type
    if isinstance(bound, exp.Parameter) and bound.name in params:
        return params[bound.name]
    if other is not None:
        return other(node)
    raise NotConstant(node)


def literal_value(node: exp.Expression, wanted: type) -> bool | float | str:
    """The value of a literal of the SQL type ``wanted`` stands for, for the scalar ``OPTIONS(…)`` of
    CREATE TABLE and CREATE MATERIALIZED VIEW, which take literals only.

    Args:
        node: the option's value.
        wanted: ``bool`` (TRUE/FALSE), ``float`` (a number literal, read as float) or ``str`` (a
            quoted string).

    Returns:
        the literal's value as ``wanted``.

    Raises:
        NotConstant: ``node`` is not a literal of that type.
    """
    value = constant_value(node) if isinstance(node, (exp.Literal, exp.Boolean)) else None
    if wanted is float and type(value) is int:
        value = float(value)
    if type(value) is not wanted:
        raise NotConstant(node)
    return value


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
