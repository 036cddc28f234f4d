"""DuckDB functions giving a TIMESTAMP (BigQuery's DATETIME: no time zone) whose Spark function of
the same name gives Spark's TIMESTAMP, an instant in the session's time zone; written so that
Spark gives TIMESTAMP_NTZ, fetched as the same naive ``datetime`` DuckDB gives.

sqlglot writes DuckDB's TIMESTAMP as Spark's TIMESTAMP_NTZ in casts and literals, but Spark's
DATE_TRUNC, MAKE_TIMESTAMP and TO_TIMESTAMP return its zoned TIMESTAMP whatever they are given.
So ``DATE_TRUNC`` of a zone-less value is cast back to TIMESTAMP_NTZ (the two casts go through the
session zone, so the wall-clock time is kept), ``MAKE_TIMESTAMP`` is ``MAKE_TIMESTAMP_NTZ``, and
``STRPTIME`` is cast back as well. The front end's PARSE_DATETIME prefixes ``'1970 '`` with a
``%Y`` to give a format without a year BigQuery's default year; Spark's parser refuses a year
given twice and already defaults it to 1970, so the prefix is dropped. The front end's SAFE.PARSE_*
(DuckDB's ``TRY(STRPTIME(…))``, whose TRY sqlglot drops for Spark) is ``TRY_TO_TIMESTAMP``.
The front end's ``DATETIME(date, time)`` is DuckDB's ``date + time``; Spark has no TIME type (its
generator writes TIME as TIMESTAMP), so the time is cast to an ``INTERVAL HOUR TO SECOND`` added
to the date's midnight, and ``TIME(h, m, s)`` there is ``MAKE_DT_INTERVAL(0, h, m, s)``. Elsewhere a
TIME is a timestamp whose time of day functions read (as sqlglot writes a TIME literal), and a TIME
result column is refused with an error naming it (the timestamp would be a wrong answer).
https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from sqlml.engine.base import EngineError
from sqlml.engine.spark.build import call

__all__ = ["datetime_function", "interval_part"]

#: The front end's default-year prefix of PARSE_DATETIME's text and format.
_YEAR_PREFIX = ("1970 ", "%Y ")


def _is_datetime(node: exp.Expression) -> bool:
    """Whether ``node`` is zone-less (DuckDB's TIMESTAMP): a cast to it, or it plus or minus an INTERVAL."""
    while isinstance(node, (exp.Add, exp.Sub, exp.Paren)):
        node = node.this
    return node.is_type(exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ)


def _naive(node: exp.Expression) -> exp.Expression:
    # DuckDB's TIMESTAMP, which sqlglot writes as Spark's TIMESTAMP_NTZ
    return exp.Cast(this=node, to=exp.DataType.build("TIMESTAMP", dialect="duckdb"))


def _without_year_prefix(node: exp.StrToTime) -> exp.StrToTime:
    text, pattern = node.this, node.args.get("format")
    if (
        isinstance(text, exp.DPipe) and isinstance(pattern, exp.DPipe)
        and (text.this.name, pattern.this.name) == _YEAR_PREFIX
        and text.this.is_string and pattern.this.is_string
    ):  # fmt: skip
        return exp.StrToTime(this=text.expression, format=pattern.expression)
    return node


def _has_zone(pattern: exp.Expression | None) -> bool:
    # STRPTIME with %z or %Z gives DuckDB's TIMESTAMP WITH TIME ZONE, Spark's TIMESTAMP as well
    return pattern is None or any("%z" in part.name.lower() for part in pattern.find_all(exp.Literal))


def _try_parse(node: exp.Try) -> exp.Expression | None:
    # TRY(CAST(STRPTIME(s, f) AS …)): TRY_TO_TIMESTAMP is NULL where TO_TIMESTAMP fails
    inner = node.this
    while isinstance(inner, exp.Cast):
        inner = inner.this
    if not isinstance(inner, exp.StrToTime) or not isinstance(inner.args.get("format"), exp.Literal):
        return None
    pattern = sqlglot.parse_one(sqlglot.Dialect.get_or_raise("spark").generator().format_time(inner), read="spark")
    inner.replace(call("TRY_TO_TIMESTAMP", inner.this, pattern))
    return node.this


def _is_date_plus_time(node: exp.Expression | None) -> bool:
    """Whether ``node`` is the front end's ``DATETIME(date, time)``: ``date + CAST(time AS TIME)``."""
    return (
        isinstance(node, exp.Add) and node.this.is_type(exp.DType.DATE)
        and isinstance(node.expression, exp.Cast) and node.expression.is_type(exp.DType.TIME)
    )  # fmt: skip


def _date_plus_time(node: exp.Add) -> exp.Expression:
    time = node.expression.this  # the text, parts or value cast to TIME
    while isinstance(time, exp.Cast) and time.is_type(exp.DType.TIME):  # TIME(datetime) is cast twice
        time = time.this
    if isinstance(time, exp.TimeFromParts):  # TIME(hour, minute, second)
        interval = call("MAKE_DT_INTERVAL", exp.Literal.number(0), time.args["hour"], time.args["min"], time.args["sec"])
        return exp.Add(this=_naive(node.this), expression=interval)
    if time.is_type(exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ, exp.DType.TIMESTAMPTZ):  # TIME(datetime): its time of day
        time = call("DATE_FORMAT", time, exp.Literal.string("HH:mm:ss.SSSSSS"))
    elif not (isinstance(time, exp.Literal) and time.is_string):
        time = exp.cast(time, "STRING")
    interval = exp.Cast(this=time, to=exp.DataType.build("INTERVAL HOUR TO SECOND", dialect="spark"))
    return exp.Add(this=_naive(node.this), expression=interval)


def _is_result_column(node: exp.Expression) -> bool:
    # a column of the statement's result or of the table it writes
    select = node.parent.parent if isinstance(node.parent, exp.Alias) else node.parent
    if not isinstance(select, exp.Select):
        return False
    outer = select.parent
    while isinstance(outer, exp.SetOperation):  # a branch of a UNION gives the result's columns too
        outer = outer.parent
    return outer is None or isinstance(outer, (exp.Create, exp.Insert))


def _refuse_time_result() -> exp.Expression:
    # Spark's TIME type is off (UNSUPPORTED_TIME_TYPE): sqlglot writes TIME as TIMESTAMP, today's
    # date at that time — a wrong answer as a result column
    raise EngineError(
        "A TIME result column has no Spark translation yet (Spark has no TIME values; a TIME read by DATETIME(date, "
        "time), EXTRACT or FORMAT_TIME is fine): return FORMAT_TIME('%T', …) as a STRING, or run it with engine='duckdb'."
    )


#: Interval units of Spark's YEAR TO MONTH intervals (the others make DAY TO SECOND ones).
_YEAR_MONTH_UNITS = {"YEAR", "QUARTER", "MONTH"}


def _interval_kind(node: exp.Expression) -> str | None:
    # "year-month" or "day-time" for an interval literal or a sum of them, None otherwise
    if isinstance(node, (exp.Add, exp.Sub)):
        kinds = {_interval_kind(node.this), _interval_kind(node.expression)}
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(node, (exp.Paren, exp.Neg, exp.Mul, exp.Div)):  # interval * / INT64: the same kind
        return _interval_kind(node.this)
    if isinstance(node, exp.Interval) and node.args.get("unit") is not None:
        return "year-month" if node.args["unit"].name.upper() in _YEAR_MONTH_UNITS else "day-time"
    return None


def interval_part(part: exp.Expression, value: exp.Expression) -> exp.Expression:
    """DuckDB's ``DATE_PART(part, value)``; of an interval (the front end's canonical INTERVAL text,
    :func:`sqlml.sql.literal_text.interval_text`) as Spark reads its two interval types: a part the
    interval's type lacks is 0 (Spark: INVALID_EXTRACT_FIELD), DuckDB's microsecond part (seconds
    and microseconds of the minute) is Spark's SECOND times a million."""
    kind, name = _interval_kind(value), part.name.lower() if isinstance(part, exp.Literal) else ""
    if kind is None or not name:
        return exp.Anonymous(this="DATE_PART", expressions=[part, value])
    if (name in ("year", "month")) != (kind == "year-month"):
        return exp.Literal.number(0)
    # widened to its type's full span: Spark cannot EXTRACT(DAY FROM INTERVAL '-90' MINUTE)
    value = exp.cast(value, exp.DataType.build("INTERVAL YEAR TO MONTH" if kind == "year-month" else "INTERVAL DAY TO SECOND", dialect="spark"))
    if name == "microsecond":
        seconds = exp.Extract(this=exp.var("SECOND"), expression=value)
        return exp.cast(exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000)), "BIGINT")
    return exp.Extract(this=exp.var(name.upper()), expression=value)


def _civil_time_in_zone(node: exp.AtTimeZone) -> exp.Expression | None:
    # DuckDB's naive TIMESTAMP AT TIME ZONE z is the instant whose civil time in z it is (the front
    # end's TIMESTAMP(string, zone)); sqlglot writes every AT TIME ZONE as FROM_UTC_TIMESTAMP, the
    # other direction (the civil time in z of an instant), so +05:30 moved the time forward
    if isinstance(node.this, exp.Cast) and node.this.to.is_type(exp.DType.TIMESTAMPNTZ, exp.DType.TIMESTAMP):
        return call("TO_UTC_TIMESTAMP", node.this, node.args["zone"])
    if _is_truncated_civil_time(node.this):
        return call("TO_UTC_TIMESTAMP", node.this, node.args["zone"])
    return None


def _is_truncated_civil_time(node: exp.Expression) -> bool:
    # the front end's TIMESTAMP_TRUNC(ts, part, zone): DATE_TRUNC of ts's civil time in the zone
    # (a WEEK's shifted a day each way), whose AT TIME ZONE makes it an instant again; Spark moved it
    # the other way (2020-01-02 03:04:05+00 truncated to the day in Los Angeles gave 2019-12-31 16:00)
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#timestamp_trunc
    while isinstance(node, (exp.Add, exp.Sub, exp.Paren)):
        node = node.this
    if not isinstance(node, exp.TimestampTrunc):
        return False
    value = node.this
    while isinstance(value, (exp.Add, exp.Sub, exp.Paren)):
        value = value.this
    return isinstance(value, exp.AtTimeZone)


def datetime_function(node: exp.Expression) -> exp.Expression | None:
    """The Spark form of ``node`` when it is one of the functions above giving a DATETIME, else None."""
    if isinstance(node, exp.AtTimeZone):
        return _civil_time_in_zone(node)
    if isinstance(node, exp.Try):
        return _try_parse(node)
    if _is_date_plus_time(node):
        return _date_plus_time(node)
    is_time = isinstance(node, exp.TimeFromParts) or (isinstance(node, exp.Cast) and node.is_type(exp.DType.TIME))
    if is_time and _is_result_column(node):
        return _refuse_time_result()
    if isinstance(node, exp.TimeFromParts) and not _is_date_plus_time(node.parent.parent if node.parent else None):
        # a time of day read by another function (FORMAT_TIME, EXTRACT): a timestamp, as sqlglot writes a TIME literal
        parts = [node.args[part] for part in ("hour", "min", "sec")]
        return call("MAKE_TIMESTAMP_NTZ", exp.Literal.number(1970), exp.Literal.number(1), exp.Literal.number(1), *parts)
    if isinstance(node, exp.TimestampTrunc) and _is_datetime(node.this):
        return _naive(node)
    if isinstance(node, exp.TimestampFromParts) and node.args.get("zone") is None and node.args.get("sec") is not None:
        parts = [node.args.get(part) for part in ("year", "month", "day", "hour", "min", "sec")]
        return call("MAKE_TIMESTAMP_NTZ", *parts)
    if isinstance(node, exp.StrToTime) and not _has_zone(node.args.get("format")):
        return _naive(_without_year_prefix(node))
    return None
