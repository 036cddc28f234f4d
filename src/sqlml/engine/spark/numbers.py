"""DuckDB arithmetic whose Spark function of the same name gives another number or type, written as
Spark expressions giving DuckDB's (and so BigQuery's) answer, on the parsed DuckDB statement.

* A division of two DOUBLEs (the front end's IEEE_DIVIDE, and DuckDB's ``/`` on floats) follows
  IEEE 754 on DuckDB: ``x / 0`` is ±inf, ``0 / 0`` NaN. Spark's ANSI mode raises DIVIDE_BY_ZERO
  instead, so a zero divisor is answered by ``x * inf`` (±inf, and NaN for 0 and NaN), as DuckDB
  does without looking at the sign of a zero divisor. A BigQuery ``/`` reaches here already
  guarded by the front end (its zero divisor is BigQuery's "division by zero" error).
* ``LOG(b, x)`` is ``log10(x) / log10(b)`` in DuckDB (``LOG(10, 1000)`` is exactly 3); Spark's
  ``LOG(b, x)`` divides natural logarithms (2.9999999999999996). DuckDB's one-argument ``LOG`` is
  base 10, Spark's the natural logarithm. Spark's logarithms are NULL for x <= 0, DuckDB's -inf
  and NaN, which the front end reports as BigQuery's error.
* ``SIGN`` is of the argument's type in BigQuery (INT64 for INT64, NaN for NaN); Spark's always
  returns DOUBLE.
* ``CAST(x AS INT64)`` (and SAFE_CAST) of a FLOAT64 or NUMERIC rounds half away from zero in
  BigQuery (``CAST(3.7 AS INT64)`` is 4); Spark's cast truncates (3), a silent wrong answer. Spark's
  ``ROUND`` rounds half away from zero (HALF_UP), so the value is rounded before the cast.
* The front end casts a STRING of 0x hex digits (its check matched them) as DuckDB reads them:
  ``CAST(LTRIM(TRIM(text), '-') AS BIGINT)``, the sign handled outside; Spark's cast refuses
  '0x1a' ("Could not convert"), so the digits after 0x are read by ``CONV(…, 16, 10)``.

https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#ieee_divide
https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions#sign
https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_as_int64
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.engine.spark.build import call, once

__all__ = ["hex_cast", "ieee_divide", "is_float_division", "is_hex_cast", "is_integer_cast", "ln", "log", "rounded_cast", "sign"]

_FLOATS = (exp.DType.DOUBLE, exp.DType.FLOAT)


def _infinity() -> exp.Expression:
    return exp.cast(exp.Literal.string("Infinity"), "DOUBLE")


def is_float_division(node: exp.Expression) -> bool:
    """Whether ``node`` divides two values typed as floats (``CAST(x AS DOUBLE) / CAST(y AS DOUBLE)``)."""
    return isinstance(node, exp.Div) and node.this.is_type(*_FLOATS) and node.expression.is_type(*_FLOATS)


def _divide(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    zero = exp.EQ(this=b, expression=exp.Literal.number(0))
    return exp.Case(ifs=[exp.If(this=zero, true=exp.Mul(this=a, expression=_infinity()))], default=exp.Div(this=a.copy(), expression=b.copy()))


def ieee_divide(numerator: exp.Expression, denominator: exp.Expression) -> exp.Expression:
    """``numerator / denominator`` with IEEE 754's answer for a zero divisor instead of an error."""
    return once([numerator, denominator], _divide)


def _logarithm(name: str, x: exp.Expression) -> exp.Expression:
    # Spark's LN and LOG10 are NULL for x <= 0; DuckDB's -inf at 0 and NaN below, which the front
    # end's check turns into BigQuery's error (a NULL passed it silently)
    zero = exp.If(this=exp.EQ(this=x, expression=exp.Literal.number(0)), true=exp.Neg(this=_infinity()))
    negative = exp.If(this=exp.LT(this=x.copy(), expression=exp.Literal.number(0)), true=exp.cast(exp.Literal.string("NaN"), "DOUBLE"))
    return exp.Case(ifs=[zero, negative], default=call(name, x.copy()))


def ln(node: exp.Ln) -> exp.Expression:
    """DuckDB's ``LN(x)``: -inf at 0, NaN below."""
    return once([node.this], lambda x: _logarithm("LN", x))


def log(node: exp.Log) -> exp.Expression:
    """DuckDB's ``LOG(b, x)`` (``log10(x) / log10(b)``, ±inf for base 1) and ``LOG(x)`` (base 10)."""
    if node.expression is None:
        return once([node.this], lambda x: _logarithm("LOG10", x))
    return once([node.expression, node.this], lambda x, base: _divide(_logarithm("LOG10", x), _logarithm("LOG10", base)))


def sign(node: exp.Sign) -> exp.Expression:
    """BigQuery's SIGN: -1, 0 or 1 of the argument's own type, NaN for NaN, NULL for NULL.

    The CASE takes the argument's type from its ELSE branch (the argument itself, reached for 0,
    NaN and NULL); Spark orders NaN above every number, so ``x > 0`` alone would call NaN positive.
    """

    def signum(x: exp.Expression) -> exp.Expression:
        negative = exp.If(this=exp.LT(this=x, expression=exp.Literal.number(0)), true=exp.Literal.number(-1))
        positive = exp.and_(exp.GT(this=x.copy(), expression=exp.Literal.number(0)), exp.not_(call("ISNAN", x.copy())))
        return exp.Case(ifs=[negative, exp.If(this=positive, true=exp.Literal.number(1))], default=x.copy())

    return once([node.this], signum)


_INTEGERS = (exp.DType.BIGINT, exp.DType.INT, exp.DType.SMALLINT, exp.DType.TINYINT)
_FRACTIONS = (*_FLOATS, exp.DType.DECIMAL)
_NOT_FRACTIONS = (*_INTEGERS, exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.BOOLEAN)


def is_integer_cast(node: exp.Expression) -> bool:
    """Whether ``node`` is a ``CAST`` or ``TRY_CAST`` to an integer type."""
    return isinstance(node, exp.Cast) and node.to.is_type(*_INTEGERS)


def _is_fraction(node: exp.Expression) -> bool | None:
    # True for a FLOAT64 or NUMERIC, False for a type that is neither, None when the SQL does not say
    while isinstance(node, (exp.Neg, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Literal):
        return node.is_number and not node.is_int
    if isinstance(node, exp.Round) and node.args.get("decimals") is None:
        return False  # rounded to a whole number already (the front end's own rounding of a FLOAT64)
    if node.is_type(*_FRACTIONS):
        return True
    if isinstance(node, (exp.Boolean, exp.Null)) or node.is_type(*_NOT_FRACTIONS):
        return False
    return None


def _cast(node: exp.Cast, value: exp.Expression, to: exp.DataType | None = None) -> exp.Expression:
    # a CAST or TRY_CAST (SAFE_CAST: a TryCast with ``safe`` set) as ``node`` is
    return type(node)(this=value, to=to or node.to.copy(), safe=node.args.get("safe"))


def _by_type(node: exp.Cast, x: exp.Expression) -> exp.Expression:
    # Spark analyzes every branch for the operand's type: each rounds a cast of it (valid for
    # strings and booleans too); DECIMAL(38, 18) holds every INT64 with NUMERIC's scale and more
    floats = exp.In(this=exp.Typeof(this=x), expressions=[exp.Literal.string("double"), exp.Literal.string("float")])
    decimals = call("STARTSWITH", exp.Typeof(this=x.copy()), exp.Literal.string("decimal"))
    as_double = _cast(node, x.copy(), exp.DataType.build("DOUBLE"))
    as_decimal = _cast(node, x.copy(), exp.DataType.build("DECIMAL(38, 18)"))
    return exp.Case(
        ifs=[exp.If(this=floats, true=_cast(node, call("ROUND", as_double))), exp.If(this=decimals, true=_cast(node, call("ROUND", as_decimal)))],
        default=_cast(node, x.copy()),
    )


def is_hex_cast(node: exp.Expression) -> bool:
    """Whether ``node`` is the front end's cast of a STRING's hex digits to INT64:
    ``CAST(LTRIM(TRIM(CAST(x AS VARCHAR)), '-' or '+') AS BIGINT)`` (:mod:`sqlml.sql.numbers`)."""
    if not (isinstance(node, exp.Cast) and node.to.is_type(exp.DType.BIGINT)):
        return False
    sign, text = node.this, node.this.this
    return (
        isinstance(sign, exp.Trim) and sign.args.get("position") == "LEADING" and sign.expression is not None and sign.expression.name in "+-"
        and isinstance(text, exp.Trim) and text.args.get("position") is None and isinstance(text.this, exp.Cast)
    )  # fmt: skip


def hex_cast(node: exp.Cast) -> exp.Expression:
    """:func:`is_hex_cast`'s cast on Spark: the digits after 0x (or 0X) read in base 16."""
    digits = exp.Substring(this=node.this, start=exp.Literal.number(3))
    return _cast(node, call("CONV", digits, exp.Literal.number(16), exp.Literal.number(10)))


def rounded_cast(node: exp.Cast) -> exp.Expression:
    """BigQuery's ``CAST(x AS INT64)``: a FLOAT64 or NUMERIC ``x`` rounded half away from zero.

    Where the SQL does not tell ``x``'s type (a column), Spark's ``TYPEOF(x)`` chooses at run time.
    """
    fraction = _is_fraction(node.this)
    if fraction is None:
        return once([node.this], lambda x: _by_type(node, x))
    if fraction:
        return _cast(node, call("ROUND", node.this))
    return node
