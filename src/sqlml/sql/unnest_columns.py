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
from sqlglot.errors import SqlglotError

from sqlml.sql.query_fixes import is_inside

#: ``bind(query)``: the ``(name, engine type)`` of each output column of the BigQuery query
#: ``query`` as the engine binds it (nothing runs); None when it does not bind.
Bind = Callable[[exp.Select], Sequence[tuple[str, str]] | None]

_CLAUSES = ("where", "group", "having", "qualify", "order")  # after the projections


def qualify_unnest_fields(tree: exp.Expression, bind: Bind) -> exp.Expression:
    """``tree``, or a copy of it with the unqualified names of aliased UNNESTs' STRUCT fields
    qualified by the UNNEST's alias (``tree`` itself is not changed; see the module)."""
    if not any(_aliased_unnests(select) and (_references(select) or any(_arrays(select))) for select in tree.find_all(exp.Select)):
        return tree
    copy = tree.copy()
    changed = False
    for select in copy.find_all(exp.Select):
        # a later UNNEST's array may be a field of an earlier one's (UNNEST(hits) AS h, UNNEST(product))
        for count, references in enumerate(_arrays(select), 1):
            changed |= _qualify(select, references, count, bind)
        changed |= _qualify(select, _references(select), len(_sources(select)), bind)
    return copy if changed else tree


def _arrays(select: exp.Select) -> list[list[tuple[exp.Column, str]]]:
    """For each source of ``select`` after the first, the names in it that a field may be (an
    UNNEST's array; none in a table or subquery)."""
    sources = _sources(select)[1:]
    return [_columns(select, [(source.this, True)]) if isinstance(source.this, exp.Unnest) else [] for source in sources]


def _qualify(select: exp.Select, references: list[tuple[exp.Column, str]], count: int, bind: Bind) -> bool:
    """Qualify ``references`` that name fields of the aliased UNNESTs among ``select``'s first
    ``count`` sources; whether one was."""
    unnests = _aliased_unnests(select, count)
    if not references or not unnests:
        return False
    owners = _owners(select, unnests, {name for _, name in references}, count, bind)
    changed = False
    for column, name in references:
        alias = owners.get(name)
        if alias is not None and column.table:  # field.path → alias.field.path
            column.set("db", exp.to_identifier(alias))
        elif alias is not None:
            column.set("table", exp.to_identifier(alias))
        changed |= alias is not None
    return changed


def _aliased_unnests(select: exp.Select, count: int | None = None) -> list[exp.Unnest]:
    unnests = []
    for source in _sources(select)[:count]:
        node = source.this
        alias = node.args.get("alias") if isinstance(node, exp.Unnest) else None
        if alias is not None and not alias.this and len(alias.columns) == 1 and len(node.expressions) == 1:
            unnests.append(node)
    return unnests


def _sources(select: exp.Select) -> list[exp.From | exp.Join]:
    source = select.args.get("from_")
    return [*([source] if source is not None else []), *(select.args.get("joins") or [])]


def _outer(select: exp.Select) -> list[exp.Select]:
    """The selects whose sources ``select``'s clauses may name (it is in their clauses, not
    their sources), outermost first."""
    outer = []
    node = select.parent
    while node is not None:
        if isinstance(node, exp.Select):
            clauses = [*node.expressions, *(node.args.get(key) for key in _CLAUSES), *(join.args.get("on") for join in node.args.get("joins") or [])]
            if not any(clause is not None and is_inside(select, clause) for clause in clauses):
                break  # in a source or CTE: no correlation
            outer.insert(0, node)
        node = node.parent
    return outer


def _ranges(select: exp.Select) -> set[str]:
    """The lower-case names that ``select``'s clauses may read as a table, not a column: its and
    its outer selects' sources, the visible CTEs."""
    names = {cte.alias.lower() for cte in _visible_ctes(select)}
    for scope in [*_outer(select), select]:
        for source in _sources(scope):
            node = source.this
            alias = node.args.get("alias") if isinstance(node, exp.Unnest) else None
            names.add((alias.columns[0].name if alias is not None and alias.columns else node.alias_or_name).lower())
    return names


def _references(select: exp.Select) -> list[tuple[exp.Column, str]]:
    """The columns of ``select``'s own clauses and join conditions that a field may be named by
    (see :func:`_columns`), less its projections' aliases that a later clause may name."""
    later = [select.args.get(key) for key in _CLAUSES] + [join.args.get("on") for join in select.args.get("joins") or []]
    return _columns(select, [*((p, True) for p in select.expressions), *((c, False) for c in later)])


def _columns(select: exp.Select, clauses: list[tuple[exp.Expression | None, bool]]) -> list[tuple[exp.Column, str]]:
    """The columns of ``clauses`` (each with whether it is a projection) that are ``select``'s
    own (not of its subqueries) and that a field may be named by, each with that lower-case name:
    ``x`` (not a projection's alias outside the projections), ``x.path`` where ``x`` is no table."""
    aliases = {projection.alias.lower() for projection in select.expressions if isinstance(projection, exp.Alias)}
    ranges: set[str] | None = None
    found = []
    for clause, projected in clauses:
        for column in clause.find_all(exp.Column) if clause is not None else ():
            if column.find_ancestor(exp.Select) is not select or not isinstance(column.this, exp.Identifier) or column.args.get("db"):
                continue
            if column.table:
                ranges = _ranges(select) if ranges is None else ranges
                if column.table.lower() not in ranges:
                    found.append((column, column.table.lower()))
            elif projected or column.name.lower() not in aliases:
                found.append((column, column.name.lower()))
    return found


def _owners(select: exp.Select, unnests: list[exp.Unnest], names: set[str], count: int, bind: Bind) -> dict[str, str]:
    """``{name: alias}`` for each of ``names`` that is a field of exactly one of ``unnests``'
    STRUCT elements and no column of ``select``'s first ``count`` sources."""
    aliases = [unnest.args["alias"].columns[0].name for unnest in unnests]
    outer = [source for scope in _outer(select) for source in _sources(scope)]
    skipped = 0
    if outer:  # a correlated subquery: bound with the sources it reads from outside, whose columns come first
        around = bind(_probe([], outer, select))
        if around is None:
            return {}
        skipped = len(around)
    bound = bind(_probe(aliases, [*outer, *_sources(select)[:count]], select))
    if not bound or len(bound) < len(aliases) + skipped:
        return {}
    elements, columns = bound[: len(aliases)], {name.lower() for name, _ in bound[len(aliases) + skipped :]}
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
    except (SqlglotError, ValueError):  # a type sqlglot cannot read: no fields known, nothing qualified
        return []
    return [field.name.lower() for field in built.expressions]


def _probe(aliases: list[str], sources: list[exp.From | exp.Join], select: exp.Select) -> exp.Select:
    """``SELECT a, b, * FROM <sources>``: the UNNESTs' elements, then every column of the
    sources, with the CTEs that precede ``select`` in scope."""
    joins = []
    for source in sources:
        join = source.copy() if isinstance(source, exp.Join) else exp.Join(this=source.this.copy())
        if join.args.get("on") is not None:
            join.set("on", exp.true())  # the condition may name the very fields being resolved
        joins.append(join)
    probe = exp.Select(
        expressions=[*(exp.column(exp.to_identifier(alias)) for alias in aliases), exp.Star()],
        from_=exp.From(this=joins[0].this),
        joins=joins[1:],
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

