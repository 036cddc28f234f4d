"""A query parameter given as a STRING where a date function needs its date: BigQuery coerces
STRING parameters to DATE, DATETIME and TIMESTAMP as it does literals; DuckDB binds the value as a
string literal and cannot choose between the ``+``/``date_diff``/``date_trunc`` overloads ("Could
not choose a best candidate function … +(STRING_LITERAL, INTERVAL)"). The parameter is cast to the
type the function's name says (``DATE_ADD(@end_date, INTERVAL 1 DAY)``, as BigQuery ML's
demand-forecasting notebook writes it). A parameter of that type already is unchanged by the cast.
https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_rules#coercion
"""

from __future__ import annotations

from sqlglot import exp

_DATE, _DATETIME, _TIMESTAMP = (exp.DataType.build(name, dialect="bigquery") for name in ("DATE", "DATETIME", "TIMESTAMP"))
#: Each date function of BigQuery's with the type its date arguments have.
TYPED_BY_NAME = {
    **dict.fromkeys((exp.DateAdd, exp.DateSub, exp.DateDiff, exp.DateTrunc), _DATE),
    **dict.fromkeys((exp.DatetimeAdd, exp.DatetimeSub, exp.DatetimeDiff, exp.DatetimeTrunc), _DATETIME),
    **dict.fromkeys((exp.TimestampAdd, exp.TimestampSub, exp.TimestampDiff, exp.TimestampTrunc), _TIMESTAMP),
}
_DIFFS = (exp.DateDiff, exp.DatetimeDiff, exp.TimestampDiff)


def date_parameters(tree: exp.Expression) -> exp.Expression:
    """Cast each parameter a date function takes as its date(s) to that function's type."""
    for node in list(tree.find_all(*TYPED_BY_NAME)):
        for key in ("this", "expression") if isinstance(node, _DIFFS) else ("this",):
            argument = node.args.get(key)
            if isinstance(argument, (exp.Parameter, exp.Placeholder)):
                argument.replace(exp.Cast(this=argument.copy(), to=TYPED_BY_NAME[type(node)].copy()))
    return tree
