"""``FROM UNNEST(structs)`` on Spark: INLINE, whose columns are the STRUCT's fields, as BigQuery's.

BigQuery makes the fields of a STRUCT array's elements the columns of ``FROM UNNEST(a)`` and of
``FROM t, UNNEST(t.a)``. The front end writes that for DuckDB as ``(SELECT UNNEST(a, max_depth => 2)
AS f0_)`` (sql/compat.py), which sqlglot writes for Spark as an EXPLODE with an argument Spark
lacks. Spark's generator for it is INLINE; an array of scalars (its type known from its literal
or function) is EXPLODE, its column ``f0_`` as BigQuery names it. An array whose element type is
not known here (a column) is read as STRUCTs, the form BigQuery users unnest without an alias
(``predicted_<label>_probs``); joined to the row holding it, the subquery is LATERAL (:mod:`.laterals`).
https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types

from sqlml.engine.spark.laterals import as_lateral

__all__ = ["inline_structs", "scalar_elements_error", "unnest_columns"]

#: The front end's column name for an element that is no STRUCT (BigQuery's name for it).
_SCALAR = "f0_"
#: Spark's refusal of INLINE over an array of scalars: the array (``outer(t.arr)`` in a LATERAL
#: subquery) and its element type.
_NOT_STRUCTS = re.compile(r'Cannot resolve "inline(?:_outer)?\(.*however "(?:outer\()?([^"]+?)\)?" has the type "ARRAY<([^"]+)>"')


def _unnest_fields(subquery: exp.Subquery) -> exp.Expression | None:
    """The array of the front end's ``(SELECT UNNEST(a, max_depth => 2) [AS f0_])``, else None."""
    select = subquery.this
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or select.args.get("from_"):
        return None
    call = select.expressions[0].unalias()
    if not isinstance(call, exp.Explode) or len(call.expressions) != 1:
        return None
    depth = call.expressions[0]
    if not (isinstance(depth, exp.Kwarg) and depth.this.name.lower() == "max_depth" and depth.expression == exp.Literal.number(2)):
        return None
    return call.this


def _element_type(array: exp.Expression) -> exp.DataType | None:
    """The type of ``array``'s elements where its literal or function says it, else None."""
    kind = annotate_types(array.copy(), dialect="duckdb").type
    if kind is None or not kind.is_type(exp.DType.ARRAY) or not kind.expressions or kind.expressions[0].is_type(exp.DType.UNKNOWN):
        return None
    return kind.expressions[0]


def _holds_scalars(array: exp.Expression) -> bool:
    """Whether ``array``'s elements are known to be no STRUCTs."""
    element = _element_type(array)
    return element is not None and not element.is_type(exp.DType.STRUCT)


def unnest_columns(subquery: exp.Subquery) -> list[str] | None:
    """The columns of the front end's ``(SELECT UNNEST(a, max_depth => 2) AS f0_)``: the STRUCT's
    fields, or ``f0_`` for scalars; empty when ``a``'s element type is not known here; None when
    ``subquery`` is no such UNNEST."""
    array = _unnest_fields(subquery)
    if array is None:
        return None
    element = _element_type(array)
    if element is None:
        return []
    return [field.name for field in element.expressions] if element.is_type(exp.DType.STRUCT) else [_SCALAR]


def inline_structs(tree: exp.Expression) -> exp.Expression:
    """``tree`` (parsed DuckDB SQL, changed in place) with each UNNEST of STRUCT fields as INLINE."""
    for subquery in list(tree.find_all(exp.Subquery)):
        array = _unnest_fields(subquery)
        if array is None:
            continue
        if _holds_scalars(array):
            generator: exp.Expression = exp.alias_(exp.Explode(this=array.copy()), _SCALAR)
        else:
            generator = exp.Inline(this=array.copy())
        subquery.this.set("expressions", [generator])
        as_lateral(subquery, array)
    return tree


def scalar_elements_error(message: str) -> str | None:
    """The message for Spark's refusal to INLINE an array read as STRUCTs that holds none, else None."""
    match = _NOT_STRUCTS.search(message)
    if match is None:
        return None
    array, element = match.groups()
    return (
        f"UNNEST({array}) without an alias makes the fields of its STRUCT elements columns, and on the Spark engine "
        f"{array} must hold STRUCTs: it holds {element}. Give it an alias to read each element as one column: "
        f"UNNEST({array}) AS x."
    )
