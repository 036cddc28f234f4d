"""The fields of an aliased UNNEST of STRUCTs, named without the alias.

BigQuery: ``SELECT id, x FROM t, UNNEST(t.arr) AS a`` with ``arr`` an ARRAY<STRUCT<x, y>> — the
element's fields are columns of the UNNEST's rows, so ``x`` names ``a.x`` (and ``a`` the whole
struct). DuckDB knows only the column ``a`` ("Unknown column x"; the GA360 notebooks'
``hitNumber`` over ``UNNEST(hits) AS h``). Which names are such fields depends on the element's
type, which the text rarely shows, so the statement's sources are bound (not run) by the engine:
an unqualified column becomes ``a.x`` when the element of exactly one aliased UNNEST is a STRUCT
with a field ``x`` and no source has a column ``x``. Any other name is left as written, so one
that stays ambiguous or unknown keeps its error.
https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from sqlml.sql.query_fixes import is_inside

#: ``bind(query)``: the ``(name, engine type)`` of each output column of the BigQuery query
#: ``query`` as the engine binds it (nothing runs); None when it does not bind.
Bind = Callable[[exp.Select], Sequence[tuple[str, str]] | None]

_CLAUSES = ("where", "group", "having", "qualify", "order")  # after the projections


def qualify_unnest_fields(tree: exp.Expression, bind: Bind) -> exp.Expression:
    """``tree``, or a copy of it with the unqualified names of aliased UNNESTs' STRUCT fields
    qualified by the UNNEST's alias (``tree`` itself is not changed; see the module)."""
    plans = []
    for index, select in enumerate(tree.find_all(exp.Select)):
        unnests = _aliased_unnests(select)
        names = _unqualified(select) if unnests else []
        if names:
            owners = _owners(select, unnests, {column.name.lower() for column in names}, bind)
            if owners:
                plans.append((index, owners))
    if not plans:
        return tree
    tree = tree.copy()
    selects = list(tree.find_all(exp.Select))  # the copy lists the same selects in the same order
    for index, owners in plans:
        for column in _unqualified(selects[index]):
            alias = owners.get(column.name.lower())
            if alias is not None:
                column.set("table", exp.to_identifier(alias))
    return tree


def _aliased_unnests(select: exp.Select) -> list[exp.Unnest]:
    sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
    unnests = []
    for source in sources:
        node = source.this if source is not None else None
        alias = node.args.get("alias") if isinstance(node, exp.Unnest) else None
        if alias is not None and not alias.this and len(alias.columns) == 1 and len(node.expressions) == 1:
            unnests.append(node)
    return unnests


def _unqualified(select: exp.Select) -> list[exp.Column]:
    """The one-part column names of ``select``'s own clauses and join conditions (not of its
    subqueries, nor of the sources themselves), less its projections' aliases that a later
    clause may name."""
    aliases = {projection.alias.lower() for projection in select.expressions if isinstance(projection, exp.Alias)}
    later = [select.args.get(key) for key in _CLAUSES] + [join.args.get("on") for join in select.args.get("joins") or []]
    found = []
    for clause, projected in [*((p, True) for p in select.expressions), *((c, False) for c in later)]:
        for column in clause.find_all(exp.Column) if clause is not None else ():
            if column.table or column.find_ancestor(exp.Select) is not select or not isinstance(column.this, exp.Identifier):
                continue
            if projected or column.name.lower() not in aliases:
                found.append(column)
    return found


def _owners(select: exp.Select, unnests: list[exp.Unnest], names: set[str], bind: Bind) -> dict[str, str]:
    """``{name: alias}`` for each of ``names`` that is a field of exactly one of ``unnests``'
    STRUCT elements and no column of ``select``'s sources."""
    aliases = [unnest.args["alias"].columns[0].name for unnest in unnests]
    bound = bind(_probe(select, aliases))
    if not bound or len(bound) < len(aliases):
        return {}
    elements, columns = bound[: len(aliases)], [name.lower() for name, _ in bound[len(aliases) :]]
    fields: dict[str, list[str]] = {}
    for alias, (_, kind) in zip(aliases, elements):
        for field in _struct_fields(kind):
            fields.setdefault(field, []).append(alias)
    return {name: owners[0] for name in names if len(owners := fields.get(name, [])) == 1 and name not in columns}


def _struct_fields(kind: str) -> list[str]:
    if not str(kind).startswith("STRUCT("):
        return []
    try:
        built = exp.DataType.build(str(kind), dialect="duckdb")
    except Exception:  # a type sqlglot cannot read: no fields known, nothing qualified  # noqa: BLE001
        return []
    return [field.name.lower() for field in built.expressions]


def _probe(select: exp.Select, aliases: list[str]) -> exp.Select:
    """``SELECT a, b, * FROM <select's sources>``: the UNNESTs' elements, then every column of the
    sources, with the CTEs that precede ``select`` in scope."""
    joins = []
    for join in select.args.get("joins") or []:
        join = join.copy()
        if join.args.get("on") is not None:
            join.set("on", exp.true())  # the condition may name the very fields being resolved
        joins.append(join)
    probe = exp.Select(
        expressions=[*(exp.column(exp.to_identifier(alias)) for alias in aliases), exp.Star()],
        from_=select.args["from_"].copy(),
        joins=joins,
    )
    ctes = _visible_ctes(select)
    if ctes:
        probe.set("with_", exp.With(expressions=[cte.copy() for cte in ctes]))
    return probe


def _visible_ctes(select: exp.Select) -> list[exp.CTE]:
    ctes: list[exp.CTE] = []
    node: exp.Expression | None = select
    while node is not None:
        with_ = node.args.get("with_") if isinstance(node, exp.Query) else None
        if with_ is not None:
            # a CTE that holds ``select`` and the ones after it are not in its scope
            earlier = []
            for cte in with_.expressions:
                if is_inside(select, cte):
                    break
                earlier.append(cte)
            ctes = earlier + ctes
        node = node.parent
    return ctes

