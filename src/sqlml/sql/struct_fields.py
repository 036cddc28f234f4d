"""The field names of STRUCT values the way BigQuery gives them, where DuckDB's differ.

* ``expression.*`` in a select list: BigQuery accepts ``.*`` after any STRUCT-valued expression,
  not only after a column path — ``SELECT dataset.to_features(u).*``, ``SELECT STRUCT(1 AS a).*``
  select one column per field, named as the fields are. DuckDB reads ``.*`` after a column only;
  its ``UNNEST`` of a STRUCT in a select list does the same expansion (one row in, one row out).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#select_expression_star
* ``CREATE FUNCTION f(…) RETURNS STRUCT<a T, b U> AS (STRUCT(x, y))``: the body's anonymous STRUCT
  is coerced to the declared type, so its fields are ``a`` and ``b``; DuckDB's macros have no
  return type, and the fields kept sqlglot's placeholder names ``_0``, ``_1``.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/user-defined-functions#sql-udf-structure

The BigQuery ML recommendation course builds its hybrid model's features with both (a SQL UDF
returning ``STRUCT<u1 FLOAT64, …>``, expanded with ``.*`` in CREATE MODEL's query).
"""

from __future__ import annotations

from sqlglot import exp


def expanded_struct_stars(tree: exp.Expression) -> exp.Expression:
    """``tree`` with each select-list ``expression.*`` of a computed STRUCT as ``UNNEST(expression)``.

    A scalar subquery's ``(SELECT AS STRUCT …).*`` is left as written: DuckDB cannot expand it.
    """
    for star in list(tree.find_all(exp.Star)):
        dot = star.parent
        if not (isinstance(dot, exp.Dot) and dot.expression is star and isinstance(dot.parent, exp.Select)):
            continue
        if dot.arg_key != "expressions" or isinstance(dot.this, exp.Subquery):
            continue
        dot.replace(exp.Anonymous(this="UNNEST", expressions=[dot.this]))
    return tree


def named_return_fields(tree: exp.Expression) -> exp.Expression:
    """``tree`` with a SQL function's body ``STRUCT(x, y)`` named by its declared ``RETURNS STRUCT<a …, b …>``."""
    if not (isinstance(tree, exp.Create) and isinstance(tree.this, exp.UserDefinedFunction)):
        return tree
    returns = tree.find(exp.ReturnsProperty)
    declared = returns.this if returns is not None else None
    body = tree.expression
    body = body.this if isinstance(body, exp.Paren) else body
    if not (isinstance(declared, exp.DataType) and declared.is_type(exp.DType.STRUCT) and isinstance(body, exp.Struct)):
        return tree
    fields = [field.name for field in declared.expressions if isinstance(field, exp.ColumnDef)]
    if len(fields) != len(body.expressions):
        return tree  # BigQuery refuses the function; DuckDB's own error says why
    for name, value in zip(fields, list(body.expressions)):
        if not isinstance(value, (exp.PropertyEQ, exp.Alias)):
            value.replace(exp.PropertyEQ(this=exp.to_identifier(name), expression=value.copy()))
    return tree
