"""Joins of UNNEST on Spark as LATERAL subqueries, so they keep their ON condition and LEFT side.

BigQuery's ``t JOIN UNNEST(t.arr) …`` reads the joined row's array. Spark reads a generator over
another relation's column only in a LATERAL VIEW (which takes no ON condition, and whose OUTER is
the only LEFT JOIN it has; sqlglot writes a LEFT JOIN UNNEST as a plain LATERAL VIEW, dropping the
rows with an empty array) or in a LATERAL subquery, which joins like any relation: ``t LEFT JOIN
LATERAL (SELECT EXPLODE(t.arr) AS x) AS u ON x > 1`` keeps a row of ``t`` none of whose elements
pass the condition once, with NULLs, as BigQuery does.
https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
https://spark.apache.org/docs/latest/sql-ref-syntax-qry-select-lateral-subquery.html
"""

from __future__ import annotations

import itertools

from sqlglot import exp

__all__ = ["as_lateral", "lateral_unnest_joins"]

_names = itertools.count(1)  # a LATERAL VIEW needs a name; the front end's subqueries may have none


def as_lateral(subquery: exp.Subquery, array: exp.Expression) -> None:
    """Make ``subquery`` (changed in place), one generator over ``array``, a LATERAL subquery if
    it is joined and ``array`` reads a column (another relation's row); a LEFT JOIN without a
    condition, a LATERAL VIEW OUTER. An array of constants stays a plain subquery, which Spark
    joins on any side."""
    join = subquery.parent
    if not isinstance(join, exp.Join) or array.find(exp.Column) is None:
        return
    alias = subquery.args.get("alias")
    if join.side.upper() == "LEFT" and join.args.get("on") in (None, exp.true()) and _is_last_join(join):
        # Spark plans a LEFT JOIN LATERAL … ON TRUE as a join on the array's value (and drops the
        # empty arrays' rows without the ON): LATERAL VIEW OUTER generates the rows in place. A
        # LATERAL VIEW follows every join, so only the last join can become one (a later join's ON
        # may read the elements)
        join.parent.append("laterals", _lateral_view(subquery.this.expressions[0], alias))
        join.pop()
        return
    subquery.set("alias", None)
    subquery.replace(exp.Lateral(this=subquery.copy(), alias=alias))


def _is_last_join(join: exp.Join) -> bool:
    select = join.parent
    return isinstance(select, exp.Select) and select.args["joins"][-1] is join


def _lateral_view(generator: exp.Expression, alias: exp.TableAlias | None) -> exp.Lateral:
    """``LATERAL VIEW OUTER <generator> alias [AS columns]`` for a subquery's one projection."""
    if isinstance(generator, exp.Aliases):
        columns = [name.copy() for name in generator.expressions]
    elif isinstance(generator, exp.Alias):
        columns = [generator.args["alias"].copy()]
    else:
        columns = []  # INLINE: the STRUCT's fields name the columns
    name = alias.this.copy() if alias is not None and alias.this else exp.to_identifier(f"_lateral_{next(_names)}")
    call = generator.this if isinstance(generator, (exp.Alias, exp.Aliases)) else generator
    return exp.Lateral(this=call.copy(), view=True, outer=True, alias=exp.TableAlias(this=name, columns=columns))


def lateral_unnest_joins(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with each ``JOIN UNNEST(a) AS u(x)`` as
    ``JOIN LATERAL (SELECT EXPLODE(a) AS x) AS u`` (the WITH OFFSET and STRUCT forms of UNNEST
    are subqueries already: :mod:`.offsets`, :mod:`.inline`)."""
    for join in list(tree.find_all(exp.Join)):
        unnest = join.this
        if not isinstance(unnest, exp.Unnest) or len(unnest.expressions) != 1 or unnest.args.get("offset"):
            continue
        alias = unnest.args.get("alias")
        columns = alias.columns if alias is not None else []
        if len(columns) > 1:
            continue  # the UNNEST of several arrays zipped: Spark's own form stays
        array = unnest.expressions[0]
        value = exp.alias_(exp.Explode(this=array.copy()), columns[0].copy() if columns else "col")
        name = alias.this.copy() if alias is not None and alias.this else None
        subquery = exp.Subquery(this=exp.select(value), alias=exp.TableAlias(this=name) if name else None)
        unnest.replace(subquery)
        as_lateral(subquery, array)
    return tree
