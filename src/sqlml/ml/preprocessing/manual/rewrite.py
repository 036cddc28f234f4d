"""Find ML.* preprocessing calls in a statement and replace them with DuckDB expressions.

Standalone (``SELECT ML.STANDARD_SCALER(x) OVER () FROM t``) the statistics become window
aggregates over the query's rows. Inside a TRANSFORM clause, :func:`freeze` computes them once on
the training rows and writes them into the expression as literals.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import Cursor
from sqlml.errors import SqlSyntaxError
from sqlml.execution.survey import Survey, survey_of
from sqlml.sql.templates import literal
from sqlml.sql.transpile import to_duckdb

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor
    from sqlml.ml.preprocessing.manual.library import Function

_LIBRARY: dict[str, Function] = {}


def library() -> dict[str, Function]:
    """The preprocessing functions by name (built once, and imported then: a statement without an
    ``ML.<name>(…)`` call, the statement table's common case, never loads them)."""
    if not _LIBRARY:
        from sqlml.ml.preprocessing.manual.library import functions

        _LIBRARY.update(functions())
    return _LIBRARY


@dataclass
class Call:
    """One ``ML.<NAME>(args) [OVER ()]`` in a tree."""

    node: exp.Expression  # the Window (analytic) or the Dot (scalar) to replace
    function: Function
    args: list[exp.Expression]

    @property
    def is_innermost(self) -> bool:
        """No other preprocessing call in its arguments (those are replaced first)."""
        return not any(calls(arg, nested=True) for arg in self.args)


def calls(tree: exp.Expression, *, inside_transform: bool = False, nested: bool = False) -> list[Call]:
    """The preprocessing calls in ``tree`` (those in a TRANSFORM clause only if asked).

    ``nested`` looks inside an argument subtree, wherever it sits.
    """
    found = []
    for dot in tree.find_all(exp.Dot):
        if not _is_ml_call(dot):
            continue
        name = _name(dot.expression)
        function = library().get(name)
        if function is None:
            continue
        if not nested and (dot.find_ancestor(exp.TransformModelProperty) is not None) != inside_transform:
            continue
        window = dot.parent if isinstance(dot.parent, exp.Window) and dot.parent.this is dot else None
        _check_shape(function, window)
        args = list(dot.expression.expressions) if isinstance(dot.expression, exp.Anonymous) else list(dot.expression.args.values())
        if not function.arity[0] <= len(args) <= function.arity[1]:
            low, high = function.arity
            raise SqlSyntaxError(f"ML.{name} takes {low}{'' if low == high else f' to {high}'} argument(s); got {len(args)}.")
        found.append(Call(window or dot, function, args))
    return found


def _is_ml_call(dot: exp.Dot) -> bool:
    """Whether ``dot`` is ``ML.<function>(…)``."""
    return isinstance(dot.this, exp.Identifier) and dot.this.name.upper() == "ML" and isinstance(dot.expression, exp.Func)


def _name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()


def _check_shape(function: Function, window: exp.Window | None) -> None:
    if function.analytic and window is None:
        raise SqlSyntaxError(f"ML.{function.name} is an analytic function: write ML.{function.name}(…) OVER ().")
    if not function.analytic and window is not None:
        raise SqlSyntaxError(f"ML.{function.name} is a scalar function and takes no OVER clause.")
    if window is not None and (window.args.get("partition_by") or window.args.get("order") or window.args.get("spec")):
        raise SqlSyntaxError(f"ML.{function.name} needs an empty window: OVER ().")


def _over_all_rows(statistic: exp.Expression) -> exp.Expression:
    """Put ``OVER ()`` on every aggregate inside a statistic expression."""

    def wrap(node: exp.Expression) -> exp.Expression:
        is_aggregate = isinstance(node, exp.AggFunc) or (isinstance(node, exp.Anonymous) and node.name.lower() == "histogram")
        if is_aggregate and not isinstance(node.parent, exp.Window):
            return exp.Window(this=node.copy(), over="OVER")
        return node

    return statistic.transform(wrap, copy=True)


def rewrite_standalone(tree: exp.Expression, executor: Executor | None = None, survey: Survey | None = None) -> exp.Expression:
    """Replace preprocessing calls outside TRANSFORM clauses (an executor rewrite hook)."""
    survey = survey_of(tree, survey)
    if not any(_is_ml_call(dot) for dot in survey.dots):  # the common case: no ML.<name>(…) at all
        return tree
    # innermost calls first: ML.BUCKETIZE(ML.STANDARD_SCALER(x) OVER (), […]) scales, then buckets
    while found := [call for call in calls(tree) if call.is_innermost]:
        for call in found:
            statistics = [_over_all_rows(s) for s in call.function.statistics(call.args)] if call.function.analytic else []
            call.node.replace(call.function.output(call.args, statistics))
        survey.changed()
    return tree


def freeze(items: list[exp.Expression], connection: Cursor, source: str) -> list[exp.Expression]:
    """Copies of ``items`` whose preprocessing calls use statistics computed over ``source``.

    Args:
        items: TRANSFORM select items (BigQuery trees).
        connection: a cursor where ``source`` names the training rows.
        source: the relation holding the training rows.

    Returns:
        The items with every ML call replaced by an expression over literal statistics.
    """
    holder = exp.select(*[item.copy() for item in items])
    # one aggregate query per nesting level: inner calls are frozen before the outer ones read them
    while found := [call for call in calls(holder) if call.is_innermost]:
        plans = [(call, call.function.statistics(call.args) if call.function.analytic else []) for call in found]
        aggregates = [statistic for _, statistics in plans for statistic in statistics]
        values = []
        if aggregates:
            query = exp.select(*[exp.alias_(a, f"s{i}") for i, a in enumerate(aggregates)]).from_(source)
            values = list(connection.sql(to_duckdb(query)).fetchall()[0])
        position = 0
        for call, statistics in plans:
            fitted = [literal(_plain(v)) for v in values[position : position + len(statistics)]]
            position += len(statistics)
            call.node.replace(call.function.output(call.args, fitted))
    return list(holder.expressions)


def _plain(value):
    """DuckDB values as plain Python (Decimal → float) for literals."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
