"""BigQuery behaviours that depend on a column's type, which the statement's text does not show.

The typing pass of :mod:`sqlml.sql.date_arithmetic` (sqlglot's ``annotate_types`` over the tables'
columns, through CTEs and subqueries) types the columns :func:`candidates` picks; :func:`rewrite`
then writes each one's type into the tree, where the text-only translations already act on it:

- ``CAST(interval_column AS STRING)`` and ``FORMAT('%T', interval_column)``: the column is typed
  INTERVAL, which :mod:`sqlml.sql.literal_text` writes as BigQuery's canonical ``0-0 1 0:0:0``
  (not DuckDB's ``1 day``).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type
- ``FORMAT('%T', c)`` of an ARRAY column: the column typed, printed ``[v, v]``; of a
  STRUCT column: the typed constructor of its fields (``STRUCT<…>(c.a, c.b)``), printed
  ``(v, v)`` with each field a literal (DuckDB printed ``{'a': 1, …}``), a NULL one ``NULL``.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string
- ``s[0]`` / ``s[OFFSET(i)]`` / ``s[ORDINAL(i)]`` of a STRUCT column: the field at that position,
  by name (``s.a``), with BigQuery's errors for an index out of range or not a literal.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#struct_subscript_operator
- ``DATE_TRUNC(c, MONTH)`` of a DATETIME or TIMESTAMP column: the column typed, so that the result
  keeps its type (:mod:`sqlml.sql.compat` casts DATE_TRUNC of a DATE to a DATE).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_trunc
- ``AVG(c)`` of a NUMERIC column: the column typed, so that the average is a NUMERIC
  (:mod:`sqlml.sql.numbers`; DuckDB's is a DOUBLE).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#avg
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from sqlml.sql.literal_text import STRUCT_COLUMN
from sqlml.sql.struct_subscripts import field_position

_TIMES = (exp.DType.DATETIME, exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ, exp.DType.TIMESTAMPTZ)
_TYPES = (exp.DType.INTERVAL, exp.DType.ARRAY, exp.DType.STRUCT, exp.DType.DECIMAL, *_TIMES)
#: The functions whose result type follows their argument's: the column they take is typed.
_TYPE_FOLLOWING = {exp.DateTrunc: _TIMES, exp.Avg: (exp.DType.DECIMAL,)}
_TYPED = "sqlml_column_type"  # meta key of a column whose type is set from the catalog


def wanted(engine_types) -> bool:
    """Whether any of the engine type names ``engine_types`` is one :func:`rewrite` acts on."""
    return any(("INTERVAL" in kind or "STRUCT" in kind or "TIMESTAMP" in kind or "DECIMAL" in kind or kind.endswith("]")) for kind in map(str, engine_types))


def has_candidates(kinds: frozenset[type] | set[type]) -> bool:
    """Whether a tree with nodes of these types may hold a construct :func:`candidates` picks."""
    return exp.Format in kinds or exp.Bracket in kinds or exp.Cast in kinds or any(kind in kinds for kind in _TYPE_FOLLOWING)


def candidates(tree: exp.Expression) -> list[exp.Column]:
    """The columns of ``tree`` whose translation depends on their type (see the module), in
    ``find_all`` order: the operand of a CAST to STRING, an argument of FORMAT, a subscripted one,
    the one DATE_TRUNC truncates or AVG averages."""
    return candidates_among(tree.find_all(exp.Column))


def candidates_among(nodes: Iterable[exp.Expression]) -> list[exp.Column]:
    """:func:`candidates` among ``nodes`` (a tree's nodes, already walked)."""
    return [node for node in nodes if type(node) is exp.Column and _candidate(node)]


def _candidate(column: exp.Column) -> bool:
    parent = column.parent
    if isinstance(parent, exp.Cast):
        return parent.this is column and parent.to.is_type(*exp.DataType.TEXT_TYPES)
    if isinstance(parent, exp.Format):
        return column.arg_key == "expressions"
    if type(parent) in _TYPE_FOLLOWING:
        return parent.this is column
    return isinstance(parent, exp.Bracket) and parent.this is column and len(parent.expressions) == 1


def rewrite(pairs: list[tuple[exp.Column, exp.Column]], *, intervals: bool = True) -> bool:
    """Rewrite, in place, each column of ``(column, typed twin)`` whose twin's type asks for it;
    whether one was. ``intervals``: INTERVAL columns too (not on Spark, whose two interval types
    take different parts, which the catalog's ``INTERVAL`` does not tell apart)."""
    changed = False
    for column, twin in pairs:
        kind = twin.type
        if kind is None or not kind.is_type(*_TYPES) or column.parent is None or not intervals and kind.is_type(exp.DType.INTERVAL):
            continue
        parent = column.parent
        if type(parent) in _TYPE_FOLLOWING or kind.is_type(*_TIMES, exp.DType.DECIMAL):
            if kind.is_type(*_TYPE_FOLLOWING.get(type(parent), ())):
                _typed(column, kind)
                changed = True
        elif isinstance(parent, exp.Bracket):
            changed |= _subscript(parent, column, kind)
        elif kind.is_type(exp.DType.INTERVAL) or isinstance(parent, exp.Format) and kind.is_type(exp.DType.ARRAY):
            _typed(column, kind)
            changed = True
        elif isinstance(parent, exp.Format):
            column.replace(_struct(column, kind))
            changed = True
    return changed


def _typed(column: exp.Column, kind: exp.DataType) -> None:
    # the type on the column node, which the translations read (a CAST would be one more
    # conversion, which Spark refuses from its INTERVAL DAY TO SECOND to INTERVAL); in its meta
    # too, so that the tree's cache key (sqlml.sql.passes_key) tells it from the untyped one
    column.type = kind.copy()
    column.meta[_TYPED] = kind.sql("duckdb")


def _fields(kind: exp.DataType) -> list[str]:
    return [field.name for field in kind.expressions]


def _field(column: exp.Column, name: str) -> exp.Dot:
    return exp.Dot(this=column.copy(), expression=exp.to_identifier(name, quoted=True))


def _subscript(bracket: exp.Bracket, column: exp.Column, kind: exp.DataType) -> bool:
    if not kind.is_type(exp.DType.STRUCT) or not kind.expressions:
        return False
    names = _fields(kind)
    bracket.replace(exp.paren(_field(column, names[field_position(bracket, len(names))]), copy=False))
    return True


def _struct(column: exp.Column, kind: exp.DataType) -> exp.Expression:
    if not kind.expressions:
        return column.copy()
    values = [_field(column, name) for name in _fields(kind)]
    struct = exp.Cast(this=exp.Struct(expressions=values), to=kind.copy())
    struct.meta[STRUCT_COLUMN] = column.copy()
    return struct
