"""BigQuery's time zones and functions of times that sqlglot's DuckDB rendering gets wrong, written
as DuckDB SQL the Spark engine reads back too (:mod:`sqlml.engine.spark.datetimes`).

* FORMAT_TIME of a TIME (DuckDB's STRFTIME takes no TIME: it formats the TIME on 1970-01-01).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/time_functions#format_time
* TIMESTAMP(string, time_zone): the civil time in the zone (DuckDB has no TIMESTAMP function).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#timestamp
* PARSE_TIMESTAMP gives a TIMESTAMP (an instant), read in its time zone argument, UTC by default;
  DuckDB's STRPTIME gave a naive one and sqlglot dropped the zone.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#parse_timestamp
* STRING(timestamp, time_zone) ends in the zone's offset ('2008-12-25 07:30:00-08'), as without a
  zone it ends in +00 (sqlglot wrote the civil time alone).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#string
* DATETIME(timestamp, time_zone) of a column: the civil time in the zone (sqlglot read a zone such
  as 'America/New_York' as a TIME of DATETIME(date, time) where the tree does not show a TIMESTAMP).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions#datetime
* GENERATE_TIMESTAMP_ARRAY of STRING bounds: TIMESTAMPs read in UTC (sqlglot cast them to naive ones).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#generate_timestamp_array
* FORMAT_TIMESTAMP(format, ts, time_zone) formats the civil time in the zone (sqlglot dropped the zone).
  https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#format_timestamp
* A time zone written as an offset from UTC ('-08', '+05:30', 'UTC-8'): DuckDB knows zone names only
  ("Unknown TimeZone '-08'") and read 'UTC+05:30' as +05:00; :func:`time_zone_offsets` spells a
  zone argument GMT+05:30 and a TIMESTAMP literal's offset +05:30, which both engines read.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#time_zones
"""

from __future__ import annotations

import re

from sqlglot import exp

from sqlml.sql.generator_fixes import duckdb_rendering, operands_once


def _format_time(self, node: exp.TimeToStr) -> str:
    zone = node.args.get("zone")
    if isinstance(node.this, exp.TsOrDsToTime) or node.this.is_type(exp.DType.TIME):
        node = node.copy()
        node.set("this", exp.Add(this=exp.cast(exp.Literal.string("1970-01-01"), "DATE"), expression=node.this))
    elif zone is not None:  # FORMAT_TIMESTAMP's zone: the civil time there (a naive TIMESTAMP)
        node = node.copy()
        node.set("this", exp.AtTimeZone(this=exp.cast(node.this, "TIMESTAMPTZ"), zone=zone.copy()))
    return duckdb_rendering(exp.TimeToStr)(self, node)


def _timestamp(self, node: exp.Timestamp) -> str:
    zone = node.args.get("zone")
    if zone is None:
        return duckdb_rendering(exp.Timestamp)(self, node)
    # a naive TIMESTAMP AT TIME ZONE z is the instant whose civil time in z it is
    return f"(CAST({self.sql(node, 'this')} AS TIMESTAMP) AT TIME ZONE {self.sql(zone)})"


def _datetime(self, node: exp.Datetime) -> str:
    # a second argument naming a time zone starts with a letter (offsets are GMT+hh:mm by now:
    # time_zone_offsets), a time of day with a digit
    zone = node.expression
    if not (isinstance(zone, exp.Literal) and zone.is_string and zone.this.strip()[:1].isalpha()):
        return duckdb_rendering(exp.Datetime)(self, node)
    return f"CAST(CAST({self.sql(node, 'this')} AS TIMESTAMPTZ) AT TIME ZONE {self.sql(zone)} AS TIMESTAMP)"


def _parse_timestamp(self, node: exp.StrToTime) -> str:
    # PARSE_TIMESTAMP is the StrToTime with BigQuery's default year (CAST(s AS DATETIME FORMAT …)
    # and CAST(s AS TIMESTAMP FORMAT …) make the same node without it: left naive); a format with
    # %z / %Z already gives DuckDB's TIMESTAMPTZ
    pattern, zone = node.args.get("format"), node.args.get("zone")
    if _is_timestamp_cast(node) and zone is not None:  # CAST(s AS TIMESTAMP FORMAT … AT TIME ZONE z): s's civil time in z
        node = node.copy()
        node.set("zone", None)
        node.set("target_type", None)
        return f"({duckdb_rendering(exp.StrToTime)(self, node)} AT TIME ZONE {self.sql(zone)})"
    if node.args.get("default_year") is None or not isinstance(pattern, exp.Literal) or "%z" in pattern.this.lower():
        return duckdb_rendering(exp.StrToTime)(self, node)
    node = node.copy()
    node.set("zone", None)
    naive = f"CAST({duckdb_rendering(exp.StrToTime)(self, node)} AS TIMESTAMP)"
    return f"({naive} AT TIME ZONE {self.sql(zone)})" if zone is not None else f"CAST({naive} AS TIMESTAMPTZ)"


def _is_timestamp_cast(node: exp.StrToTime) -> bool:
    # marked by sqlml.sql.parser; a format with an offset (%z) already gives the instant
    target, pattern = node.args.get("target_type"), node.args.get("format")
    return target is not None and target.is_type(exp.DType.TIMESTAMPTZ) and isinstance(pattern, exp.Literal) and "%z" not in pattern.this.lower()


def _string(self, node: exp.String) -> str:
    zone = node.args.get("zone")
    if zone is None:
        return duckdb_rendering(exp.String)(self, node)
    return operands_once(self, node, lambda self, node: _zoned_text(self.sql(node, "this"), self.sql(zone)))


def _zoned_text(value: str, zone: str) -> str:
    # the civil time in the zone and its offset from UTC: ±hh, and :mm where the zone has minutes
    local = f"(CAST({value} AS TIMESTAMPTZ) AT TIME ZONE {zone})"
    minutes = f"DATE_DIFF('minute', CAST({value} AS TIMESTAMPTZ) AT TIME ZONE 'UTC', {local})"
    sign = f"CASE WHEN {minutes} < 0 THEN '-' ELSE '+' END"
    hours = f"LPAD(CAST(ABS({minutes}) // 60 AS VARCHAR), 2, '0')"
    rest = f"CASE WHEN ABS({minutes}) % 60 > 0 THEN ':' || LPAD(CAST(ABS({minutes}) % 60 AS VARCHAR), 2, '0') ELSE '' END"
    return f"CAST({local} AS VARCHAR) || {sign} || {hours} || {rest}"


def _timestamp_array(self, node: exp.GenerateTimestampArray) -> str:
    node = node.copy()
    for key in ("start", "end"):
        bound = node.args[key]
        if isinstance(bound, exp.Literal) and bound.is_string:
            node.set(key, exp.cast(bound, "TIMESTAMPTZ"))
    return duckdb_rendering(exp.GenerateTimestampArray)(self, node)


#: A time zone that is an offset from UTC: (+|-)H[H][:M[M]], UTC or GMT before it allowed.
_OFFSET = re.compile(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
#: A TIMESTAMP literal's text ending in such an offset (after a time of day, not a date's -01).
_OFFSET_AFTER_TIME = re.compile(r"(.*\d:\d\d(?::\d\d(?:\.\d*)?)?)\s*(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
#: Calls whose only argument is a time zone.
_NOW_IN_ZONE = (exp.CurrentDatetime, exp.CurrentTime, exp.CurrentTimestamp, exp.CurrentDate)


def time_zone_offsets(tree: exp.Expression) -> exp.Expression:
    """Time zones written as offsets from UTC, spelt as DuckDB and Spark read them: a zone argument
    (FORMAT_TIMESTAMP's, AT TIME ZONE's, TIMESTAMP(s, zone)'s…) as GMT+05:30, the zone at the end of
    a TIMESTAMP literal as +05:30."""
    for literal in tree.find_all(exp.Literal):
        if not literal.is_string:
            continue
        parent = literal.parent
        if literal.arg_key == "zone" or (isinstance(parent, _NOW_IN_ZONE) and literal.arg_key == "this") or (isinstance(parent, exp.Datetime) and literal.arg_key == "expression"):
            offset = _OFFSET.fullmatch(literal.this.strip())
            if offset:
                sign, hours, minutes = offset.groups()
                literal.set("this", f"GMT{sign}{int(hours):02d}:{minutes or '00'}")
        elif isinstance(parent, exp.Cast) and parent.to.is_type(exp.DType.TIMESTAMPTZ):
            offset = _OFFSET_AFTER_TIME.fullmatch(literal.this.strip())
            if offset:
                time, sign, hours, minutes = offset.groups()
                literal.set("this", f"{time}{sign}{int(hours):02d}:{minutes or '00'}")
    return tree


#: Generator TRANSFORMS for the functions above, merged into sqlml.sql.function_gaps' FUNCTION_GAPS.
TIME_FIXES = {
    exp.TimeToStr: _format_time,
    exp.Timestamp: _timestamp,
    exp.Datetime: _datetime,
    exp.String: _string,
    exp.StrToTime: _parse_timestamp,
    exp.GenerateTimestampArray: _timestamp_array,
}
