"""BigQuery's number semantics where DuckDB's differ silently: casts to INT64, SIGN, MOD.

* ``CAST(x AS INT64)`` (and SAFE_CAST) of a FLOAT64 rounds half away from zero in BigQuery
  (2.5 → 3, -2.5 → -3); DuckDB casts a DOUBLE half to the even integer (2.5 → 2). DuckDB's ROUND
  rounds half away from zero, so a FLOAT64 is rounded before the cast. A NUMERIC needs nothing
  (DuckDB casts a DECIMAL half away from zero). A STRING must hold decimal or 0x hex digits
  ('2.5' is "Bad int64 value", NULL under SAFE_CAST); DuckDB's cast took '2.5' as 3, '1e3' and
  '1_000', and refused '-0x1F'. Where the tree does not tell ``x``'s type (a column), the cast
  dispatches on DuckDB's ``TYPEOF(x)``, which DuckDB folds when it binds the query, so only the
  chosen branch runs: on 10M rows a FLOAT64's cast costs ~1.2x the plain one, an INT64's or a
  NUMERIC's the same, a STRING's ~2.6x for the digit check (``bench/bench_int64_casts.py``).
  BigQuery's other integer type names are INT64 too, read as such by the tokenizer
  (:class:`sqlml.sql.dialect.Sqlml`); a cast to DuckDB's INT is the front end's own (date arithmetic).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_as_int64
  https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#integer_types
* ``SIGN(x)`` is of ``x``'s type, NaN for NaN (DuckDB: TINYINT, 0 for NaN).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#sign
* ``AVG`` of a NUMERIC is a NUMERIC (DuckDB's is a DOUBLE), where the tree or the column-typed
  rewrites (:mod:`sqlml.sql.typed_columns`) show the NUMERIC (not yet AVG(…) OVER (…)).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#avg
* ``MOD`` takes INT64, NUMERIC and BIGNUMERIC only: a FLOAT64 operand is an error (DuckDB's ``%``
  gave NaN for ``MOD(1.5, 0)``).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#mod
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqlml.errors import SqlTypeError
from sqlml.sql.messages import BAD_INT64
from sqlml.sql.window_keys import UNCHECKED
from sqlml.sql.generator_fixes import REPEATING, duckdb_rendering, operands_once
from sqlml.sql.templates import DUCKDB_OWN

_INTEGERS = (exp.DType.INT, exp.DType.SMALLINT, exp.DType.TINYINT, exp.DType.BIGINT)
_FLOATS = (exp.DType.DOUBLE, exp.DType.FLOAT)
#: Types whose cast to INT64 DuckDB already does as BigQuery does (or fails on, as BigQuery does).
_EXACT = (*_INTEGERS, exp.DType.BOOLEAN, exp.DType.DECIMAL, exp.DType.BIGDECIMAL)
#: Marks a cast whose operand's type the tree does not tell (its rendering dispatches on TYPEOF).
_DISPATCH = "sqlml_int64_by_type"
#: DuckDB's TYPEOF of a FLOAT64 (and of a FLOAT read from a file).
_FLOAT_NAMES = "('DOUBLE', 'FLOAT')"
#: The STRINGs BigQuery casts to INT64: decimal digits or 0x and hex digits, signed, within spaces;
#: DuckDB's cast also takes '2.5' (as 3), '1e3', '1_000', and refuses '-0x1F'.
_DECIMAL_DIGITS = r"'\s*[+-]?[0-9]+\s*'"
_HEX_DIGITS = r"' *[+-]?0[xX][0-9a-fA-F]+ *'"


def _kind(node: exp.Expression) -> str | None:
    # "float", "string", "exact" (a type DuckDB casts as BigQuery does), None when the tree does not say
    while isinstance(node, (exp.Neg, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Literal):
        return "string" if node.is_string else "exact" if node.is_int else "float"
    if isinstance(node, (exp.Boolean, exp.Null)) or node.is_type(*_EXACT):
        return "exact"
    if node.is_type(*_FLOATS):
        return "float"
    return "string" if node.is_type(*exp.DataType.TEXT_TYPES) else None


def _is_float(node: exp.Expression) -> bool | None:
    kind = _kind(node)
    return None if kind is None else kind == "float"


def rounded_casts(tree: exp.Expression) -> exp.Expression:
    """CAST / SAFE_CAST to INT64 of a FLOAT64 rounds it first; of a STRING or a value of unknown
    type, is marked for :func:`_int64_cast` to check or dispatch on its type."""
    for cast in list(tree.find_all(exp.Cast)):
        if not cast.to.is_type(exp.DType.BIGINT) or cast.meta.get(DUCKDB_OWN):  # a template's: DuckDB's cast
            continue
        kind = _kind(cast.this)
        if kind == "string" and cast.this.is_string:
            kind = _string_literal(cast)
        if kind == "float":
            cast.set("this", exp.Round(this=cast.this.copy()))
        elif kind != "exact":
            cast.meta[_DISPATCH] = kind or "any"
    return tree


def _string_literal(cast: exp.Cast) -> str:
    """A cast of a STRING literal checked now rather than in the SQL: digits stay DuckDB's cast,
    hex digits become their number, and SAFE_CAST of anything else is NULL ("exact" for each);
    a CAST of anything else is left to fail when run ("string"), with BigQuery's words."""
    text = cast.this.name
    if re.fullmatch(_DECIMAL_DIGITS.strip("'"), text):
        return "exact"
    if re.fullmatch(_HEX_DIGITS.strip("'"), text) and abs(number := int(text.strip(), 16)) < 2**63:
        cast.set("this", exp.Literal.number(number))
        return "exact"
    if isinstance(cast, exp.TryCast):
        cast.set("this", exp.Null())
        return "exact"
    return "string"


def _int64_cast(self, node: exp.Cast) -> str:
    render = duckdb_rendering(type(node))
    if not node.meta.get(_DISPATCH):
        return render(self, node)
    # the operand is written several times: bound once where it holds another such cast, whose own
    # copies would multiply at every level
    nested = any(cast.meta.get(_DISPATCH) for cast in node.this.find_all(exp.Cast))
    return operands_once(self, node, _by_type, bound=(*REPEATING, exp.Cast) if nested else REPEATING)


def _by_type(self, node: exp.Cast) -> str:
    # DuckDB binds every branch, and ROUND binds on numbers only: the FLOAT64 branch rounds a
    # TRY_CAST of the operand, a no-op for the DOUBLE it is taken for
    value, to = self.sql(node, "this"), self.sql(node, "to")
    cast = "TRY_CAST" if isinstance(node, exp.TryCast) else "CAST"
    from_string = _from_string(value, cast, to)
    if node.meta[_DISPATCH] == "string":
        return from_string
    plain = duckdb_rendering(type(node))(self, node)
    return (
        f"CASE WHEN TYPEOF({value}) IN {_FLOAT_NAMES} THEN {cast}(ROUND(TRY_CAST({value} AS DOUBLE)) AS {to}) "
        f"WHEN TYPEOF({value}) = 'VARCHAR' THEN {from_string} ELSE {plain} END"
    )


def _from_string(value: str, cast: str, to: str) -> str:
    text = f"CAST({value} AS VARCHAR)"
    trimmed = f"TRIM({text})"
    hexadecimal = f"CASE WHEN STARTS_WITH({trimmed}, '-') THEN -{cast}(LTRIM({trimmed}, '-') AS {to}) ELSE {cast}(LTRIM({trimmed}, '+') AS {to}) END"
    bad = "NULL" if cast == "TRY_CAST" else f"error('{BAD_INT64}' || {text})"
    return (
        f"CASE WHEN REGEXP_FULL_MATCH({text}, {_DECIMAL_DIGITS}) THEN {cast}({text} AS {to}) "
        f"WHEN REGEXP_FULL_MATCH({text}, {_HEX_DIGITS}) THEN {hexadecimal} ELSE {bad} END"
    )


def _sign(self, node: exp.Sign) -> str:
    # NaN compares above every number in DuckDB; NaN and NULL reach the ELSE, which keeps the type
    x = self.sql(node, "this")
    return f"CASE WHEN {x} < 0 THEN -1 WHEN {x} = 0 THEN 0 WHEN {x} > 0 AND NOT ISNAN({x}) THEN 1 ELSE {x} END"


_MOD_SIGNATURES = "MOD(INT64, INT64); MOD(NUMERIC, NUMERIC); MOD(BIGNUMERIC, BIGNUMERIC)"


def float_mods(tree: exp.Expression) -> exp.Expression:
    """``MOD`` of a FLOAT64 the tree shows (a literal, a cast) fails now, as BigQuery's analysis does."""
    for mod in tree.find_all(exp.Mod):
        if _is_float(mod.this) or _is_float(mod.expression):
            raise SqlTypeError(
                f"No matching signature for function MOD for argument types: {_type_name(mod.this)}, {_type_name(mod.expression)}. "
                f"Supported signatures: {_MOD_SIGNATURES}.",
                hint="Cast the arguments to INT64 or NUMERIC, or compute x - y * TRUNC(x / y) for FLOAT64.",
            )
    return tree


def _type_name(node: exp.Expression) -> str:
    # BigQuery's name of an operand's type, as far as the tree tells it
    is_float = _is_float(node)
    if is_float or is_float is None:
        return "FLOAT64" if is_float else "ANY"
    while isinstance(node, (exp.Neg, exp.Paren)):
        node = node.this
    if (isinstance(node, exp.Literal) and node.is_int) or node.is_type(*_INTEGERS):
        return "INT64"
    return "NUMERIC" if node.is_type(exp.DType.DECIMAL, exp.DType.BIGDECIMAL) else "ANY"


def _mod(self, node: exp.Mod) -> str:
    # a column's type is known when DuckDB binds: a FLOAT64 one fails at run time instead
    a, b = self.sql(node, "this"), self.sql(node, "expression")
    plain = duckdb_rendering(exp.Mod)(self, node)
    if _is_float(node.this) is False and _is_float(node.expression) is False or node.meta.get(UNCHECKED):
        return plain
    message = f"'No matching signature for function MOD for argument types: FLOAT64. Supported signatures: {_MOD_SIGNATURES}.'"
    return f"CASE WHEN TYPEOF({a}) IN {_FLOAT_NAMES} OR TYPEOF({b}) IN {_FLOAT_NAMES} THEN error({message}) ELSE {plain} END"


def _avg(self, node: exp.Avg) -> str:
    # not in a window, where the cast would come between AVG(…) and its OVER (…)
    plain = duckdb_rendering(exp.Avg)(self, node)
    numeric = node.this.is_type(exp.DType.DECIMAL) and not isinstance(node.parent, exp.Window)
    return f"CAST({plain} AS DECIMAL(38, 9))" if numeric else plain


#: Generator TRANSFORMS for the nodes above, merged into BigQueryOnDuckdb's generator.
NUMBER_FIXES = {
    exp.Avg: _avg,
    exp.Cast: _int64_cast,
    exp.TryCast: _int64_cast,
    exp.Sign: lambda self, e: operands_once(self, e, _sign, bound=(*REPEATING, exp.Sign, exp.Mod)),
    exp.Mod: lambda self, e: operands_once(self, e, _mod, bound=(*REPEATING, exp.Sign, exp.Mod)),
}
