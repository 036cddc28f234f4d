"""``UNNEST(a) AS x WITH OFFSET AS o`` on Spark: a subquery of POSEXPLODE, LATERAL where it is joined.

The front end writes BigQuery's offset for DuckDB as a subquery of two UNNESTs, the elements and
``RANGE(0, LEN(a))`` zipped (sql/compat.py). Spark allows one generator per SELECT and reads
DuckDB's LEN of a list as a string length, so the subquery is written back here as the one
generator Spark has for it: ``(SELECT POSEXPLODE(a) AS (o, x))``, whose (position, element) are
0-based like BigQuery's offset. Joined to the row holding the array, it is a LATERAL subquery
(:mod:`.laterals`): its ON condition and LEFT side keep BigQuery's rows.
https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.spark.laterals import as_lateral

__all__ = ["posexplode_offsets"]


def _offset_subquery(node: exp.Expression) -> tuple[exp.Expression, exp.Identifier, exp.Identifier] | None:
    """(array, element name, offset name) of the front end's WITH OFFSET subquery, else None."""
    if not isinstance(node, exp.Subquery) or not isinstance(node.this, exp.Select):
        return None
    select = node.this
    if len(select.expressions) != 2 or any(select.args.get(key) for key in ("from_", "joins", "where")):
        return None
    values, offsets = select.expressions
    if not all(isinstance(item, exp.Alias) and isinstance(item.this, exp.Explode) for item in (values, offsets)):
        return None
    array, series = values.this.this, offsets.this.this
    if not (
        isinstance(series, exp.GenerateSeries) and series.args.get("is_end_exclusive")
        and isinstance(series.args.get("end"), exp.Length) and series.args["end"].this == array
        and series.args.get("start") == exp.Literal.number(0)
    ):
        return None
    return array, values.args["alias"], offsets.args["alias"]


def _rewrite(subquery: exp.Subquery) -> None:
    """Write one WITH OFFSET subquery as ``(SELECT POSEXPLODE(a) AS (o, x))`` (changes the tree)."""
    parts = _offset_subquery(subquery)
    if parts is None:
        return
    array, value, offset = parts
    generator = exp.Aliases(this=exp.Posexplode(this=array.copy()), expressions=[offset.copy(), value.copy()])
    subquery.this.set("expressions", [generator])
    as_lateral(subquery, array)


def posexplode_offsets(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with each WITH OFFSET subquery as POSEXPLODE."""
    for subquery in list(tree.find_all(exp.Subquery)):
        _rewrite(subquery)
    return tree
