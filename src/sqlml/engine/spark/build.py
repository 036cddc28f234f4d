"""Small builders of Spark expressions the rewrites of DuckDB functions share: a call of a Spark
function by name, and an expression that reads its operands more than once evaluating each once."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

__all__ = ["call", "once"]

#: Nodes whose value may change from one evaluation to the next (or that cost a query): an operand
#: holding one is evaluated once (:func:`once`) where a rewrite repeats it.
_VOLATILE = (exp.Rand, exp.Uuid, exp.Anonymous, exp.Subquery)


def call(name: str, *args: exp.Expression) -> exp.Expression:
    """Spark's function ``name`` applied to ``args``."""
    return exp.Anonymous(this=name, expressions=list(args))


def once(operands: list[exp.Expression], body: Callable[..., exp.Expression]) -> exp.Expression:
    """``body(*operands)``, each operand evaluated once even where ``body`` repeats it.

    Columns, literals and arithmetic are repeated as they are (cheap, and the same on each read);
    an operand that may vary or costs a query is bound to a lambda parameter instead:
    ``ELEMENT_AT(TRANSFORM(ARRAY(STRUCT(x AS o0)), __o -> body(__o.o0)), 1)``.
    """
    if not any(operand.find(*_VOLATILE) is not None for operand in operands):
        return body(*operands)
    fields = [exp.alias_(operand, f"o{index}") for index, operand in enumerate(operands)]
    parameter = exp.to_identifier("__o")
    reads = [exp.column(f"o{index}", table=parameter.name) for index in range(len(operands))]
    bound = call("TRANSFORM", exp.Array(expressions=[exp.Struct(expressions=fields)]), exp.Lambda(this=body(*reads), expressions=[parameter]))
    return call("ELEMENT_AT", bound, exp.Literal.number(1))
