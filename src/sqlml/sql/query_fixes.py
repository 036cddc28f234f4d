"""Query shapes and values BigQuery accepts and DuckDB refuses or reads differently, rewritten
before generation.

Part of :data:`sqlml.sql.compat.TREE_FIXES`; each fix is proven by ``tests/sql/test_bigquery_compat.py``.
"""

from __future__ import annotations

import secrets

from sqlglot import exp

# 2**64: a UBIGINT hash divided by it is a FLOAT64 in [0, 1), as RAND() is.
_HASH_RANGE = exp.Literal.number("18446744073709551616.0")


def volatile_window_keys(tree: exp.Expression) -> exp.Expression:
    """``ROW_NUMBER() OVER (ORDER BY RAND())`` (or RAND() in a window's PARTITION BY): DuckDB
    refuses volatile window keys ("ORDER BY window expressions cannot be volatile"), BigQuery
    orders the rows randomly, as tutorials do to sample or split them.

    Each such RAND() becomes a hash of the row it is computed for (the rows of every FROM
    source, or the group's keys in an aggregate query) with a seed drawn now: a value in [0, 1)
    that differs between rows and between runs. Identical rows get the same value, which changes
    nothing, since they are indistinguishable.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#rand
    """
    for window in list(tree.find_all(exp.Window)):
        keys = [*(window.args.get("partition_by") or []), window.args.get("order")]
        calls = [rand for key in keys if key is not None for rand in key.find_all(exp.Rand)]
        select = window.find_ancestor(exp.Select)
        if not calls or select is None:
            continue
        row = _row_identity(select)
        for rand in calls:
            seed = exp.Literal.number(secrets.randbits(62))
            hashed = exp.Anonymous(this="hash", expressions=[*(part.copy() for part in row), seed])
            rand.replace(exp.Paren(this=exp.Div(this=hashed, expression=_HASH_RANGE.copy(), safe=True)))
    return tree


def _row_identity(select: exp.Select) -> list[exp.Expression]:
    """Expressions that tell the rows a window of ``select`` sees apart."""
    group = select.args.get("group")
    if group is not None:
        return [_grouped(select, key) for key in group.expressions]
    if any(node.find_ancestor(exp.Window) is None for node in select.find_all(exp.AggFunc) if node.find_ancestor(exp.Select) is select):
        return []  # one row
    sources = [select.args["from_"].this] if select.args.get("from_") else []
    sources += [join.this for join in select.args.get("joins") or []]
    return [ref for source in sources for ref in _source_rows(source)]


def _grouped(select: exp.Select, key: exp.Expression) -> exp.Expression:
    # GROUP BY 2 names the second select-list expression
    if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.this) <= len(select.expressions):
        return select.expressions[int(key.this) - 1].unalias()
    return key


def _source_rows(source: exp.Expression) -> list[exp.Expression]:
    """A DuckDB reference to a FROM source's whole row (its alias reads as a STRUCT)."""
    if isinstance(source, exp.Unnest):
        alias = source.args.get("alias")
        if alias is not None and alias.this:
            return [exp.column(alias.this.copy())]
        return [exp.column(c.copy()) for c in (alias.columns if alias is not None else [])]
    if isinstance(source, (exp.Table, exp.Subquery)):
        if not source.alias_or_name:
            source.set("alias", exp.TableAlias(this=exp.to_identifier(f"__sqlml_row_{secrets.token_hex(4)}")))
        return [exp.column(exp.to_identifier(source.alias_or_name, quoted=True))]
    return []


def array_struct_names(tree: exp.Expression) -> exp.Expression:
    """``[STRUCT(1 AS a, 'x' AS b), STRUCT(2, 'y')]`` and ``SELECT STRUCT(1 AS a) UNION ALL SELECT
    STRUCT(2)``: BigQuery gives the later STRUCTs the first one's field names (nested structs and
    arrays of structs included); DuckDB would make one struct type of fields ``a``, ``_0``… with
    NULLs where a value lacks them.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#constructing_a_struct

    A tuple ``(2, 'y')`` after a STRUCT in an array is a STRUCT too (BigQuery's tuple syntax), and
    after a typed ``STRUCT<a INT64, b STRING>(…)`` every later element takes that type, as in the
    forecasting tutorials' ``UNNEST([STRUCT<ts TIMESTAMP, v FLOAT64>('…', 1.0), ('…', 2.5)])``.
    """
    for array in tree.find_all(exp.Array):
        _type_like_first(array)
        structs = [element for element in array.expressions if isinstance(element, exp.Struct)]
        for other in structs[1:]:
            _name_like(structs[0], other)
    for operation in tree.find_all(exp.SetOperation):
        left, right = _first_select(operation.left), _first_select(operation.right)
        if left is not None and right is not None:
            for model, value in zip(left.expressions, right.expressions):
                _align(model.unalias(), value.unalias())
    return tree


def _type_like_first(array: exp.Array) -> None:
    """Make the tuples (and, after a typed STRUCT, the untyped STRUCTs) of ``array`` STRUCTs of
    its first element's type."""
    first = array.expressions[0] if array.expressions else None
    typed = isinstance(first, exp.Cast) and isinstance(first.this, exp.Struct) and first.to.is_type(exp.DataType.Type.STRUCT)
    if not (typed or isinstance(first, exp.Struct)):
        return
    for element in array.expressions[1:]:
        if isinstance(element, exp.Tuple) or (typed and isinstance(element, exp.Struct)):
            struct = exp.Struct(expressions=[value.copy() for value in element.expressions])
            element.replace(exp.Cast(this=struct, to=first.to.copy()) if typed else struct)


def _first_select(query: exp.Expression) -> exp.Select | None:
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.left if isinstance(query, exp.SetOperation) else query.this
    return query if isinstance(query, exp.Select) else None


def _align(model: exp.Expression, value: exp.Expression) -> None:
    """Name the fields of ``value`` (a STRUCT, or an ARRAY of them) after those of ``model``."""
    if isinstance(model, exp.Struct) and isinstance(value, exp.Struct):
        _name_like(model, value)
    elif isinstance(model, exp.Array) and isinstance(value, exp.Array):
        first = next((e for e in model.expressions if isinstance(e, exp.Struct)), None)
        for element in value.expressions if first is not None else []:
            if isinstance(element, exp.Struct):
                _name_like(first, element)


def _name_like(template: exp.Struct, other: exp.Struct) -> None:
    if len(template.expressions) != len(other.expressions):
        return
    for model, field in zip(template.expressions, list(other.expressions)):
        name = model.this if isinstance(model, exp.PropertyEQ) else None
        _align(model.expression if isinstance(model, exp.PropertyEQ) else model, field.expression if isinstance(field, exp.PropertyEQ) else field)
        if name is not None and not isinstance(field, (exp.PropertyEQ, exp.Alias)):
            field.replace(exp.PropertyEQ(this=name.copy(), expression=field.copy()))


def unnest_aliases(tree: exp.Expression) -> exp.Expression:
    """``FROM t, UNNEST(hits) AS hits``: the alias shadows the column it unnests, and BigQuery's
    later ``hits.page.pagePath`` reads the element (the GA360 sample tutorials write this). DuckDB
    calls ``hits`` ambiguous, so the element gets a name of its own and the references after the
    UNNEST follow it; a selected ``hits`` keeps its name.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        alias = unnest.args.get("alias")
        select = unnest.find_ancestor(exp.Select)
        if select is None or not isinstance(unnest.parent, (exp.From, exp.Join)) or alias is None or alias.this or len(alias.columns) != 1:
            continue
        name = alias.columns[0].name
        unnested = [column for e in unnest.expressions for column in e.find_all(exp.Column)]
        if not any(name.lower() in (_root(column).name.lower(), column.name.lower()) for column in unnested):
            continue  # UNNEST(hits) AS hits, UNNEST(s.hits) AS hits
        own = f"__sqlml_{name}"
        alias.set("columns", [exp.to_identifier(own, quoted=True)])
        _follow(select, unnest, name, own)
    return tree


def _root(column: exp.Column) -> exp.Identifier:
    return column.parts[0]


def _follow(select: exp.Select, unnest: exp.Unnest, name: str, own: str) -> None:
    """Point the references to ``name`` that come after ``unnest`` in ``select`` at ``own``."""
    before = _sources_up_to(select, unnest)
    for column in list(select.find_all(exp.Column)):
        root = _root(column)
        if root.name.lower() != name.lower() or any(is_inside(column, source) for source in before):
            continue
        selected = isinstance(column.parent, exp.Select) and column.arg_key == "expressions" and len(column.parts) == 1
        root.replace(exp.to_identifier(own, quoted=True))
        if selected:
            column.replace(exp.alias_(column.copy(), name, quoted=root.quoted))
    for star in select.expressions:
        if isinstance(star, exp.Star):
            renames = list(star.args.get("rename") or [])
            star.set("rename", [*renames, exp.alias_(exp.column(exp.to_identifier(own, quoted=True)), name)])


def _sources_up_to(select: exp.Select, unnest: exp.Unnest) -> list[exp.Expression]:
    """The FROM and JOIN items of ``select`` up to and including ``unnest``."""
    sources = [select.args["from_"]] if select.args.get("from_") else []
    sources += list(select.args.get("joins") or [])
    taken = []
    for source in sources:
        taken.append(source)
        if is_inside(unnest, source):
            break
    return taken


def is_inside(node: exp.Expression, ancestor: exp.Expression | None) -> bool:
    """Whether ``node`` is ``ancestor`` or lies in its subtree."""
    parent = node
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def implicit_aliases(tree: exp.Expression) -> exp.Expression:
    """``SELECT device.os … GROUP BY os ORDER BY os``: a path's last name is its column's implicit
    alias in BigQuery, which GROUP BY, ORDER BY, HAVING and QUALIFY may name
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#implicit_aliases);
    DuckDB gives a struct field's projection no name they can use ("Referenced column "os" not
    found"). A path projection named that way gets its implicit alias written out."""
    for select in tree.find_all(exp.Select):
        clauses = [select.args.get(key) for key in ("group", "order", "having", "qualify")]
        named = {
            column.name.lower()
            for clause in clauses if clause is not None
            for column in clause.find_all(exp.Column) if not column.table
        }  # fmt: skip
        if not named:
            continue
        for projection in select.expressions:
            is_path = isinstance(projection, exp.Dot) or (isinstance(projection, exp.Column) and projection.table)
            if is_path and projection.output_name.lower() in named:
                projection.replace(exp.alias_(projection.copy(), projection.output_name))
    return tree
