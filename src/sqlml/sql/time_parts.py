"""BigQuery date and time parts whose DuckDB rendering by sqlglot gave another value, a naive type
or an error, each written as DuckDB SQL from BigQuery's documented definition.

* EXTRACT(WEEK(<WEEKDAY>) FROM d): "the week number of the date in the range [0, 53]. Weeks begin
  on WEEKDAY. Dates prior to the first WEEKDAY of the year are in week 0" (sqlglot warned and wrote
  DuckDB's ISO week: EXTRACT(WEEK(SUNDAY) FROM DATE '2017-11-05') was 44, not 45).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#extract
* LAST_DAY(d, ISOYEAR): the Sunday before the next ISO year's first Monday (sqlglot passed
  ``ISOYEAR`` on as a column name).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#last_day
* TIME_TRUNC: DuckDB has no DATE_TRUNC of a TIME (it was "Unknown function time_trunc").
  https://cloud.google.com/bigquery/docs/reference/standard-sql/time_functions#time_trunc
* DATE_TRUNC(datetime_or_timestamp, WEEK[(<WEEKDAY>)]) keeps its type (sqlglot cast the week's
  first day to a DATE).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_trunc
* TIMESTAMP_TRUNC of a STRING literal truncates the TIMESTAMP it spells (DuckDB could not choose
  between DATE_TRUNC's signatures).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#timestamp_trunc
* DATE_FROM_UNIX_DATE is a DATE, TIMESTAMP_MILLIS and TIMESTAMP_MICROS are TIMESTAMPs (instants):
  DuckDB's DATE + INTERVAL, EPOCH_MS and MAKE_TIMESTAMP gave a naive TIMESTAMP (a DATETIME).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_from_unix_date
  https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#timestamp_millis
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from sqlglot import exp

from sqlml.sql.generator_fixes import operands_once, rendering_in

#: DuckDB's DAYOFWEEK of each weekday a BigQuery WEEK(<WEEKDAY>) may start on.
_WEEKDAYS = {"SUNDAY": 0, "MONDAY": 1, "TUESDAY": 2, "WEDNESDAY": 3, "THURSDAY": 4, "FRIDAY": 5, "SATURDAY": 6}


def _week_number(value: str, first_day: int) -> str:
    # days from 1 January to the year's first <first_day> (0-6); a date k days before it is in week 0
    january = f"MAKE_DATE(YEAR({value}), 1, 1)"
    offset = f"(({first_day} - DAYOFWEEK({january}) + 7) % 7)"
    return f"CAST((DAYOFYEAR({value}) + 6 - {offset}) // 7 AS BIGINT)"


def _extract(base):
    def render(self, node: exp.Extract) -> str:
        part = node.this
        if not isinstance(part, exp.WeekStart):
            return base(self, node)
        day = part.name.upper()
        if day not in _WEEKDAYS:  # BigQuery's analysis error, raised when the statement runs
            return f"error('A valid date part name is required but found WEEK({day})')"
        return operands_once(self, node, lambda self, extract: _week_number(self.sql(extract, "expression"), _WEEKDAYS[day]))

    return render


def _last_day(base):
    def render(self, node: exp.LastDay) -> str:
        unit = node.args.get("unit")
        if not (isinstance(unit, exp.Var) and unit.name.upper() == "ISOYEAR"):
            return base(self, node)

        def iso_year_end(self, last_day: exp.LastDay) -> str:
            # 4 January is in ISO week 1: the next ISO year starts ISODOW - 1 days before it
            january_4 = f"MAKE_DATE(ISOYEAR({self.sql(last_day, 'this')}) + 1, 1, 4)"
            return f"CAST({january_4} - CAST(ISODOW({january_4}) AS INTEGER) AS DATE)"

        return operands_once(self, node, iso_year_end)

    return render


def _time_trunc(self, node: exp.TimeTrunc) -> str:
    unit = exp.Literal.string(node.text("unit").lower())
    return f"CAST(DATE_TRUNC({self.sql(unit)}, CAST('1970-01-01' AS DATE) + {self.sql(node, 'this')}) AS TIME)"


def _timestamp_trunc(base):
    def render(self, node: exp.TimestampTrunc) -> str:
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            node = node.copy()
            node.set("this", exp.cast(node.this, "TIMESTAMPTZ"))
        return base(self, node)

    return render


_TIMES = (exp.DType.DATETIME, exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ, exp.DType.TIMESTAMPTZ)


def _date_trunc(base, datetime_trunc, timestamp_trunc):
    def render(self, node: exp.DateTrunc) -> str:
        if not (isinstance(node.args.get("unit"), exp.WeekStart) and node.this.is_type(*_TIMES)):
            return base(self, node)
        zoned = node.this.is_type(exp.DType.TIMESTAMPTZ)
        trunc = (exp.TimestampTrunc if zoned else exp.DatetimeTrunc)(this=node.this.copy(), unit=node.args["unit"].copy())
        return (timestamp_trunc if zoned else datetime_trunc)(self, trunc)

    return render


def _typed(base, type_name: str, applies=lambda node: True):
    return lambda self, node: f"CAST({base(self, node)} AS {type_name})" if applies(node) else base(self, node)


def _milli_or_microseconds(node: exp.UnixToTime) -> bool:
    scale = node.args.get("scale")
    return isinstance(scale, exp.Literal) and scale.this in ("3", "6") and node.args.get("zone") is None


def time_part_fixes(transforms: Mapping[type, object]) -> dict[type, object]:
    """Generator TRANSFORMS for the functions above, each falling back on ``transforms``' own
    rendering (or sqlglot's DuckDB one) for the forms it leaves as they are.

    Args:
        transforms: the generator's TRANSFORMS these are merged over.

    Returns:
        The transforms to merge.
    """

    base = functools.partial(rendering_in, transforms)

    return {
        exp.Extract: _extract(base(exp.Extract)),
        exp.LastDay: _last_day(base(exp.LastDay)),
        exp.TimeTrunc: _time_trunc,
        exp.DateTrunc: _date_trunc(base(exp.DateTrunc), base(exp.DatetimeTrunc), _timestamp_trunc(base(exp.TimestampTrunc))),
        exp.TimestampTrunc: _timestamp_trunc(base(exp.TimestampTrunc)),
        exp.DateFromUnixDate: _typed(base(exp.DateFromUnixDate), "DATE"),
        exp.UnixToTime: _typed(base(exp.UnixToTime), "TIMESTAMPTZ", _milli_or_microseconds),
    }
