"""``SELECT * REPLACE (expr AS a)`` on Spark, which has no REPLACE: the star as its column list.

BigQuery's ``* REPLACE`` keeps every column of the FROM clause in its place, with the named ones
computed anew (``* EXCEPT`` Spark has). Spark SQL has no such star, so it is written out as the
columns it stands for, in order: those of a subquery or CTE (from their SELECT lists), those of a
table or view (from Spark's catalog). When they cannot be known here (an UNNEST, a table
function, a join with USING), the statement is refused, naming the source and the fix.
https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#select_replace
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from sqlml.engine.base import EngineBindError, EngineError
from sqlml.engine.spark.inline import unnest_columns

__all__ = ["expand_star_replace"]

#: ``(dataset or None, relation) -> column names`` (empty when there is no such relation).
Columns = Callable[[str | None, str], list[str]]


class _Unknown(Exception):
    """A source whose columns cannot be read from the statement or the catalog."""

    def __init__(self, source: exp.Expression) -> None:
        # the user's name for a table; any other relation is only DuckDB text by now
        super().__init__(f"table {source.sql(dialect='bigquery')}" if isinstance(source, exp.Table) else "its FROM clause")


def expand_star_replace(tree: exp.Expression, columns: Columns) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL) with each ``* REPLACE`` (also ``t.*``) as the list of the
    columns it stands for: a changed copy, or ``tree`` itself when it has none.

    Args:
        tree: the statement.
        columns: the column names of a table or view of the catalog.

    Raises:
        EngineError: a star's source has columns that cannot be known.
    """
    if not any(star.args.get("replace") for star in tree.find_all(exp.Star)):
        return tree
    tree = tree.copy()
    for select in list(tree.find_all(exp.Select)):
        if not any(_replace(item) is not None for item in select.expressions):
            continue
        try:
            select.set("expressions", [part for item in select.expressions for part in _expanded(item, select, columns)])
        except _Unknown as unknown:
            raise EngineError(
                f"SELECT * REPLACE on the Spark engine needs the columns of {unknown}, which are not known before "
                "the statement runs (Spark SQL has no * REPLACE). List the columns instead: SELECT expr AS a, b, …"
            ) from None
    return tree


def _replace(item: exp.Expression) -> list[exp.Expression] | None:
    star = item.this if isinstance(item, exp.Column) and isinstance(item.this, exp.Star) else item
    return star.args.get("replace") if isinstance(star, exp.Star) else None


def _expanded(item: exp.Expression, select: exp.Select, columns: Columns) -> list[exp.Expression]:
    replace = _replace(item)
    if replace is None:
        return [item]
    star = item.this if isinstance(item, exp.Column) else item
    qualifier = item.table if isinstance(item, exp.Column) else None
    dropped = {column.name.lower() for column in star.args.get("except_") or ()}
    computed = {alias.alias.lower(): alias for alias in replace}
    sources = _sources(select, columns)
    qualify = len(sources) > 1 and not qualifier
    listed, names = [], []
    for alias, source_names in sources:
        if qualifier and alias.lower() != qualifier.lower():
            continue
        for name in source_names:
            names.append(name)
            if name.lower() in dropped:
                continue
            column = exp.column(exp.to_identifier(name, quoted=True), table=alias if (qualify or qualifier) and alias else None)
            listed.append(computed[name.lower()].copy() if name.lower() in computed else column)
    _check_names(names, dropped, computed)
    return listed


def _check_names(names: list[str], dropped: set[str], computed: dict[str, exp.Expression]) -> None:
    """Refuse an EXCEPT or REPLACE name the star has not (Spark would ignore it) and a REPLACE name
    it has twice (Spark would replace both), as BigQuery does."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    for clause, listed in (("EXCEPT", dropped), ("REPLACE", computed)):
        missing = next((name for name in listed if name not in counts), None)
        if missing is not None:
            raise EngineBindError(f"Column {missing} in SELECT * {clause} list does not exist. The star's columns: {', '.join(names)}.")
    ambiguous = next((name for name in computed if counts[name] > 1), None)
    if ambiguous is not None:
        raise EngineBindError(
            f"Column {ambiguous} in SELECT * REPLACE list is ambiguous: the star has it from more than one relation. "
            f"Qualify the star (t.* REPLACE …) or list the columns."
        )


def _sources(select: exp.Select, columns: Columns) -> list[tuple[str, list[str]]]:
    """``(alias, columns)`` of each relation of ``select``'s FROM clause, in order."""
    from_ = select.args.get("from_")
    if from_ is None:
        raise _Unknown(select)
    joins = select.args.get("joins") or []
    if any(join.args.get("using") for join in joins):
        raise _Unknown(select)  # USING merges the join's columns: BigQuery's order is not read here
    return [(relation.alias_or_name, _columns_of(relation, select, columns)) for relation in (from_.this, *(j.this for j in joins))]


def _columns_of(relation: exp.Expression, select: exp.Select, columns: Columns) -> list[str]:
    if isinstance(relation, exp.Subquery):
        unnested = unnest_columns(relation)  # FROM UNNEST(structs): the fields, which no SELECT list names
        if unnested == []:
            raise _Unknown(relation)
        return unnested or _query_columns(relation.this, columns)
    if isinstance(relation, exp.Unnest) and relation.args.get("alias") is not None and relation.args["alias"].columns:
        return [column.name for column in relation.args["alias"].columns]  # UNNEST(a) AS x: the element's column
    if not isinstance(relation, exp.Table) or not isinstance(relation.this, exp.Identifier):
        raise _Unknown(relation)
    cte = _cte(select, relation) if not relation.db else None
    if cte is not None:
        return _query_columns(cte.this, columns)
    names = columns(relation.db or None, relation.name)
    if not names:  # the executor's "Unknown table" error, as Spark would have said it
        raise EngineBindError(f"Table with name {relation.name} does not exist!")
    return names


def _cte(select: exp.Select, table: exp.Table) -> exp.CTE | None:
    """The CTE ``table`` reads, the nearest WITH first."""
    for scope in _enclosing(select):
        for cte in (scope.args.get("with_") or exp.With()).expressions:
            if cte.alias_or_name.lower() == table.name.lower():
                return cte
    return None


def _enclosing(node: exp.Expression):  # noqa: ANN202 - the node and its ancestors
    while node is not None:
        yield node
        node = node.parent


def _query_columns(query: exp.Expression, columns: Columns) -> list[str]:
    """The output column names of ``query`` (the first SELECT of a set operation)."""
    while isinstance(query, exp.SetOperation):
        query = query.this
    if isinstance(query, exp.Subquery):
        return _query_columns(query.this, columns)
    if not isinstance(query, exp.Select):
        raise _Unknown(query)
    names = []
    for item in query.expressions:
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
            names.extend(column.alias_or_name for column in _expanded(_as_replace(item), query, columns))
        elif item.alias_or_name:
            names.append(item.alias_or_name)
        else:
            raise _Unknown(query)
    return names


def _as_replace(item: exp.Expression) -> exp.Expression:
    """A copy of the star ``item`` with an empty REPLACE, so that :func:`_expanded` lists it."""
    item = item.copy()
    star = item.this if isinstance(item, exp.Column) else item
    star.set("replace", star.args.get("replace") or [])
    return item
