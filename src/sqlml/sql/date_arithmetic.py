"""DATE ± INT64 and DATE − DATE as BigQuery computes them, decided from the operands' types.

BigQuery (https://cloud.google.com/bigquery/docs/reference/standard-sql/operators, "Date
arithmetics operators"): ``date + int64``, ``int64 + date`` and ``date - int64`` add or take away
days and return a DATE; "Datetime subtraction": ``date - date`` is an INTERVAL
(``DATE "2021-05-20" - DATE "2020-04-19"`` is ``0-0 396 0:0:0``). DuckDB adds only an INTEGER to
a DATE — an INT64 is a BIGINT there, and ``+(DATE, BIGINT)`` does not bind — and gives
DATE − DATE as a BIGINT count of days. So the INT64 side becomes an INTEGER (DuckDB's
``+(DATE, INTEGER)`` returns a DATE) and DATE − DATE becomes ``to_days(CAST(a - b AS INTEGER))``.
TIMESTAMP, DATETIME and DATE ± INTERVAL already agree and are left alone, as is an operand whose
type cannot be inferred (DuckDB then says what it cannot bind).

The operands' types come from sqlglot's inference (``qualify_columns`` + ``annotate_types``,
BigQuery dialect) over a throwaway copy of the tree: in the transpile passes from the text alone
(literals, casts, date functions, through CTEs and subqueries: :func:`date_arithmetic`), and where
the statement runs, also from the columns of the tables and views it reads
(:func:`with_table_columns`). A rewritten node is marked, so the passes leave it as it is.

That typing of a statement from its tables' columns is also the one the column-typed rewrites of
:mod:`sqlml.sql.typed_columns` read (an INTERVAL column cast to STRING, a STRUCT column's
positional subscript, FORMAT('%T', …) of ARRAY and STRUCT columns): one copy typed once for both.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.errors import SqlglotError

from sqlml.sql import typed_columns
from sqlml.sql.passes_key import tree_key

#: ``columns(dataset, table)``: the ``(column, engine type)`` pairs of a table or view (empty when
#: unknown); ``dataset`` is None for an unqualified name.
TableColumns = Callable[[str | None, str], Iterable[tuple[str, str]]]

_DONE = "sqlml_date_arithmetic"  # meta key of an Add/Sub already rewritten
_UNQUALIFIED = ""  # the schema's dataset key for tables named without one
_TYPED_SIZE = 256
_TYPED: dict[tuple[bytes | str, str], exp.Expression | None] = {}  # (tree, column types) → rewritten tree, None: unchanged
_UNSEEN = object()


class Surveyed(Protocol):
    """What one walk of a tree found, so the tree need not be walked again here
    (:class:`sqlml.execution.survey.Survey` is one)."""

    @property
    def tables(self) -> list[exp.Table]: ...  # every Table node, in walk order

    @property
    def ctes(self) -> list[exp.CTE]: ...  # every CTE node

    @property
    def kinds(self) -> frozenset[type]: ...  # the type of every node

    @property
    def nodes(self) -> list[exp.Expression]: ...  # every node, in walk order


def date_arithmetic(tree: exp.Expression) -> exp.Expression:
    """``tree`` (changed in place) with the date arithmetic its text alone types rewritten."""
    if _outline(tree).dated:
        _rewrite(tree, {})
    return tree


def with_table_columns(tree: exp.Expression, columns: TableColumns, survey: Surveyed | None = None, *, intervals: bool = True) -> exp.Expression:
    """``tree``, or a rewritten copy of it, with date arithmetic typed from the columns of the
    tables and views it reads (``tree`` itself is not changed).

    Only a statement with ``+`` or ``-`` (or a construct :mod:`sqlml.sql.typed_columns` rewrites)
    that reads a table looks its columns up, and only one that may hold a DATE (a DATE column, a
    DATE-typed expression) or a column of a type that construct depends on is typed. ``survey``:
    what a walk of ``tree`` already found (the renderer's); without it the tree is walked here.
    ``intervals``: type INTERVAL columns (see :func:`sqlml.sql.typed_columns.rewrite`).
    """
    outline = _outline(tree) if survey is None else _surveyed_outline(survey)
    if outline.columns and not (typed_columns.candidates(tree) if survey is None else typed_columns.candidates_among(survey.nodes)):
        outline = outline._replace(columns=False)
    if not (outline.arithmetic or outline.columns):
        return tree
    schema: dict[str, dict[str, dict[str, str]]] = {}
    for table in outline.tables:
        name, dataset = table.name.lower(), table.db.lower() or None
        if not name or (dataset is None and name in outline.ctes):
            continue
        found = {column.lower(): kind for column, kind in columns(dataset, name)}
        if found:
            schema.setdefault(dataset or _UNQUALIFIED, {})[name] = found
    dated = outline.arithmetic and (_has_date_column(schema) or _dated(outline, tree))
    if not schema or not (dated or outline.columns and typed_columns.wanted(_types(schema))):
        return tree
    # the rewrite depends on the tree and the column types alone, so a statement run again over
    # the same columns (a loop's statement) is not typed again; a changed column type is a new key
    key = (tree_key(tree), repr(schema) + ("" if intervals else " no intervals"))
    typed = _TYPED.get(key, _UNSEEN)
    if typed is _UNSEEN:
        typed = tree.copy()
        typed = typed if _rewrite(typed, schema, outline.columns, intervals) else None
        if len(_TYPED) >= _TYPED_SIZE:
            _TYPED.clear()  # bounded; clear() is atomic where threads share the cache
        _TYPED[key] = typed
    return tree if typed is None else typed.copy()


class _Outline(NamedTuple):
    """What typing a tree's date arithmetic needs to know first, found in one walk (a walk of a
    short statement costs about as much as typing it from remembered columns; most stop at
    ``arithmetic``)."""

    arithmetic: bool  # a + or -
    columns: bool  # a node of a construct typed_columns rewrites (a CAST, FORMAT or subscript)
    dated: bool | None  # a DATE type or a function that may return a DATE (None: a type, whether DATE not looked at)
    tables: list[exp.Table]
    ctes: set[str]  # lower-case CTE names


def _outline(tree: exp.Expression) -> _Outline:
    arithmetic = dated = columns = False
    tables: list[exp.Table] = []
    ctes: set[str] = set()
    returns_date = _date_results()
    for node in tree.walk():
        if isinstance(node, (exp.Add, exp.Sub)):
            arithmetic = True
        elif isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, (exp.Cast, exp.Format, exp.Bracket)):
            columns = True
        elif isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name.lower())
        elif isinstance(node, returns_date) or isinstance(node, exp.DataType) and node.this == exp.DType.DATE:
            dated = True
    return _Outline(arithmetic, columns, dated and arithmetic, tables, ctes)


def _surveyed_outline(survey: Surveyed) -> _Outline:
    """:func:`_outline` from what a survey found: its node types tell ``arithmetic`` and a
    function that may return a DATE; whether a type in the tree is DATE is left to :func:`_dated`."""
    kinds = survey.kinds
    arithmetic, columns = any(issubclass(kind, (exp.Add, exp.Sub)) for kind in kinds), typed_columns.has_candidates(kinds)
    if not (arithmetic or columns):
        return _Outline(False, False, False, [], set())
    returns_date = _date_results()
    dated = True if any(issubclass(kind, returns_date) for kind in kinds) else None if any(issubclass(kind, exp.DataType) for kind in kinds) else False
    return _Outline(arithmetic, columns, dated and arithmetic, survey.tables, {cte.alias_or_name.lower() for cte in survey.ctes})


def _dated(outline: _Outline, tree: exp.Expression) -> bool:
    """``outline.dated``, looking for a DATE type among ``tree``'s types when the outline did not."""
    if outline.dated is not None:
        return outline.dated
    return any(node.this == exp.DType.DATE for node in tree.find_all(exp.DataType))


def _has_date_column(schema: dict) -> bool:
    """Whether a column in ``schema`` is a DATE."""
    return any(kind.upper() == "DATE" for tables in schema.values() for cols in tables.values() for kind in cols.values())


def _types(schema: dict) -> list[str]:
    """The engine type names of the columns in ``schema``."""
    return [kind for tables in schema.values() for cols in tables.values() for kind in cols.values()]


def _rewrite(tree: exp.Expression, schema: dict, columns: bool = False, intervals: bool = True) -> bool:
    """Rewrite, in place, each DATE ± integer and DATE − DATE of ``tree`` and, with ``columns``,
    the constructs :mod:`sqlml.sql.typed_columns` types; whether one was."""
    nodes = [node for node in tree.find_all(exp.Add, exp.Sub) if not node.meta.get(_DONE)]
    typed = typed_columns.candidates(tree) if columns else []
    if not (nodes or typed):
        return False
    twins = _typed_twins(tree, schema, len(nodes), columns)
    changed = typed_columns.rewrite(list(zip(typed, twins[len(nodes):])), intervals=intervals)
    # innermost first (a node's descendants come after it in find_all's order), so that an outer
    # node sees an inner DATE − DATE as the INTERVAL it has become
    for node, twin in reversed(list(zip(nodes, twins[: len(nodes)]))):
        left, right = _type(twin.this), _type(twin.expression)
        if left.is_type(exp.DType.DATE) and right.is_type(*exp.DataType.INTEGER_TYPES):
            node.set("expression", exp.cast(node.expression, exp.DType.INT))
        elif isinstance(node, exp.Add) and left.is_type(*exp.DataType.INTEGER_TYPES) and right.is_type(exp.DType.DATE):
            node.set("this", exp.cast(node.this, exp.DType.INT))
        elif isinstance(node, exp.Sub) and left.is_type(exp.DType.DATE) and right.is_type(exp.DType.DATE):
            twin.type = exp.DType.INTERVAL
            days = exp.ToDays(this=exp.cast(node.copy(), exp.DType.INT, copy=False))
            node.replace(days)
            node = days.this.this
        else:
            continue
        node.meta[_DONE] = True
        changed = True
    return changed


def _type(operand: exp.Expression) -> exp.DataType:
    """The inferred type of ``operand`` (through parentheses, which keep their content's type as
    it was inferred before a rewrite changed it)."""
    while isinstance(operand, exp.Paren):
        operand = operand.this
    return operand.type or exp.DataType.build("UNKNOWN")


def _typed_twins(tree: exp.Expression, schema: dict, count: int, columns: bool = False) -> list[exp.Expression]:
    """The not yet rewritten Add/Sub nodes of a copy of ``tree``, then (with ``columns``) its
    :func:`sqlml.sql.typed_columns.candidates`, in the order ``tree`` lists them, annotated with
    sqlglot's types (UNKNOWN where it cannot tell)."""
    # imported here: only statements with date arithmetic need sqlglot's optimizer
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    typed = tree.copy()
    twins = [node for node in typed.find_all(exp.Add, exp.Sub) if not node.meta.get(_DONE)]
    assert len(twins) == count  # the copy lists the same nodes in the same order
    twins += typed_columns.candidates(typed) if columns else []
    for identifier in typed.find_all(exp.Identifier):  # DuckDB resolves names case-insensitively
        identifier.set("this", identifier.this.lower())
    typed = _as_query(typed)
    mapping = MappingSchema(schema, dialect="duckdb", normalize=False)
    try:
        typed = qualify(typed, dialect="bigquery", schema=mapping, expand_alias_refs=False, expand_stars=True,
                        validate_qualify_columns=False, quote_identifiers=False, identify=False)
        annotate_types(typed, schema=mapping, dialect="bigquery")
    except SqlglotError:  # a statement sqlglot cannot scope: types from the text alone, if it can
        with contextlib.suppress(SqlglotError):
            annotate_types(typed, dialect="bigquery")
    return twins


def _as_query(tree: exp.Expression) -> exp.Expression:
    """An UPDATE or DELETE as a SELECT of its expressions from its tables, which sqlglot can
    scope and type (it types no column of an UPDATE); any other statement as it is."""
    if not isinstance(tree, (exp.Update, exp.Delete)) or not isinstance(tree.this, exp.Table):
        return tree
    if isinstance(tree, exp.Update):
        source = tree.args.get("from_")
        tables = [tree.this, *([source.this] if source else [])]
        values = [item.expression for item in tree.expressions if isinstance(item, exp.EQ)]
    else:
        tables = [tree.this, *(tree.args.get("using") or [])]
        values = []
    return exp.Select(
        expressions=values or [exp.Star()],
        from_=exp.From(this=tables[0]),
        joins=[exp.Join(this=table) for table in tables[1:]],
        where=tree.args.get("where"),
        with_=tree.args.get("with_"),
    )


@functools.cache
def _date_results() -> tuple[type[exp.Expression], ...]:
    """The expression classes that may return a DATE, from sqlglot's BigQuery type table, and the
    date functions typed by their argument (DATE_ADD, DATE_SUB, DATE_TRUNC of a DATE)."""
    listed = [kind for kind, meta in BigQuery.EXPRESSION_METADATA.items() if meta.get("returns") == exp.DType.DATE]
    return (*listed, exp.DateAdd, exp.DateSub, exp.DateTrunc)
