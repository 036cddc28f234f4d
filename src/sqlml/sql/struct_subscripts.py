"""BigQuery's STRUCT subscript ``s[i]`` / ``s[OFFSET(i)]`` / ``s[ORDINAL(i)]``: the field at a
position, the index an integer literal, an out-of-range index an error when the query is compiled,
no SAFE_ forms. https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#struct_subscript_operator

Where the tree shows the STRUCT's fields (a ``STRUCT(…)`` constructor, typed or not), the subscript
becomes that field's value — on either engine, neither of which reads a named field by position
(DuckDB's ``s[1]`` is for unnamed structs only, Spark's ``s[…]`` takes a name). A STRUCT column of
a table is typed from the catalog (:mod:`sqlml.sql.typed_columns`); another STRUCT column's
positional subscript is left to the engine, which refuses it (:data:`COLUMN_HINT` says what to do).
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import SqlTypeError, UnsupportedStatementError

#: The fix for a positional subscript of a STRUCT whose fields the statement does not show.
COLUMN_HINT = "Name the field instead (s.field_name): positional STRUCT subscripts are translated for STRUCT(...) values written in the statement and STRUCT columns of tables, not for a STRUCT the statement computes."


def struct_subscripts(tree: exp.Expression) -> exp.Expression:
    """Each subscript of a ``STRUCT(…)`` value replaced by the field it selects (see the module)."""
    for bracket in list(tree.find_all(exp.Bracket)):
        fields = constructor_fields(bracket.this)
        if fields is None or len(bracket.expressions) != 1:
            continue
        bracket.replace(exp.paren(fields[field_position(bracket, len(fields))], copy=False))
    return tree


def constructor_fields(node: exp.Expression) -> list[exp.Expression] | None:
    """The field values of a STRUCT constructor (``STRUCT(1 AS x, 'a')``, ``(1, 'a')``), each cast to
    its declared type in a typed one (``STRUCT<INT64, STRING>(…)``), as copies; None for any other node."""
    if isinstance(node, (exp.Struct, exp.Tuple)):
        values, types = node.expressions, None
    elif isinstance(node, exp.Cast) and isinstance(node.this, exp.Struct) and node.to.is_type(exp.DType.STRUCT):
        values, types = node.this.expressions, node.to.expressions
    else:
        return None
    fields = []
    for position, value in enumerate(values):
        if isinstance(value, (exp.PropertyEQ, exp.Alias)):  # STRUCT(1 AS x) / STRUCT(x := 1): the value
            value = value.expression if isinstance(value, exp.PropertyEQ) else value.this
        value = value.copy()
        if types is not None:  # STRUCT<INT64, b STRING>(…): the field's declared type
            declared = types[position]
            value = exp.Cast(this=value, to=(declared.args.get("kind") or declared).copy())
        fields.append(value)
    return fields


def field_position(bracket: exp.Bracket, count: int) -> int:
    """The 0-based position of the field the subscript ``bracket`` of a STRUCT of ``count`` fields
    selects; BigQuery's error for a SAFE_ form, an index not an integer literal or out of range."""
    keyword = {None: "", 0: "OFFSET", 1: "ORDINAL"}[bracket.args.get("offset")]
    if bracket.args.get("safe"):
        raise UnsupportedStatementError(
            f"The STRUCT subscript operator does not support SAFE_{keyword}.",
            hint=f"Use {keyword}(i): a STRUCT's fields are known when the query is compiled, so an index out of range is an error, not NULL.",
        )
    index = bracket.expressions[0]
    if isinstance(index, exp.Neg) and isinstance(index.this, exp.Literal):
        number = -int(index.this.this) if index.this.is_int else None
    else:
        number = int(index.this) if isinstance(index, exp.Literal) and index.is_int else None
    if number is None:
        raise SqlTypeError(
            f"The index of a STRUCT subscript must be an integer literal; got {index.sql('bigquery')}.",
            hint="Write the field's position as a number (s[0], s[OFFSET(0)], s[ORDINAL(1)]) or name the field.",
        )
    position = number - (1 if keyword == "ORDINAL" else 0)
    if not 0 <= position < count:
        raise SqlTypeError(
            f"Field ordinal {number} is out of bounds in STRUCT",
            hint=f"The STRUCT has {count} fields: use OFFSET(0) to OFFSET({count - 1}), or ORDINAL(1) to ORDINAL({count}).",
        )
    return position
