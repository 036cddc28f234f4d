"""``CAST(x AS STRING FORMAT '…')`` of a DATE, DATETIME, TIME or TIMESTAMP: BigQuery's format
elements (YYYY, MM, DD, HH24, MI, SS, FF3, Month, DY, A.M. …) written as DuckDB's STRFTIME
specifiers, pieces whose case the element sets (MON is JAN, Mon Jan, mon jan) upper- or lower-cased.
DuckDB has no FORMAT clause (a syntax error). An element sqlml does not write, and the format
clause of a number's cast, is an error naming it; sqlglot already reads the format clause of a
STRING's cast to DATE / TIMESTAMP (as STRPTIME).
https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#formatting_syntax
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import UnsupportedStatementError

#: Format elements, longest first where one starts another, and their STRFTIME specifiers.
_ELEMENTS = {
    "YYYY": "%Y", "YY": "%y", "MM": "%m", "DDD": "%j", "DD": "%d", "HH24": "%H", "HH12": "%I", "HH": "%I",
    "MI": "%M", "SSSSS": None, "SS": "%S", "FF3": "%g", "FF6": "%f", "FF9": "%n", "A.M.": "%p", "P.M.": "%p",
    "AM": "%p", "PM": "%p", "MONTH": "%B", "MON": "%b", "DAY": "%A", "DY": "%a",
}  # fmt: skip
#: Elements whose text is a name, cased as the element is written.
_NAMES = ("MONTH", "MON", "DAY", "DY")
_NUMBERS = (*exp.DataType.NUMERIC_TYPES,)


def _pieces(pattern: str) -> list[tuple[str, str]]:
    """The STRFTIME pattern of ``pattern`` as (specifiers, case) pieces: case "upper", "lower" or ""."""
    pieces, position = [("", "")], 0
    while position < len(pattern):
        if pattern[position] == '"':  # quoted text is written as it is
            end = pattern.find('"', position + 1)
            end = len(pattern) if end < 0 else end
            pieces[-1] = (pieces[-1][0] + pattern[position + 1 : end].replace("%", "%%"), pieces[-1][1])
            position = end + 1
            continue
        element = next((name for name in _ELEMENTS if pattern[position:].upper().startswith(name)), None)
        if element is None:
            if pattern[position].isalnum():
                raise UnsupportedStatementError(
                    f"The format element at '{pattern[position:]}' of CAST(... FORMAT '{pattern}') has no translation yet.",
                    hint="Use FORMAT_DATE, FORMAT_DATETIME, FORMAT_TIME or FORMAT_TIMESTAMP with a %-format instead.",
                )
            pieces[-1] = (pieces[-1][0] + pattern[position].replace("%", "%%"), pieces[-1][1])
            position += 1
            continue
        written = pattern[position : position + len(element)]
        if _ELEMENTS[element] is None:
            raise UnsupportedStatementError(
                f"The format element {written} of CAST(... FORMAT '{pattern}') has no translation yet.",
                hint="Use FORMAT_DATE, FORMAT_DATETIME, FORMAT_TIME or FORMAT_TIMESTAMP with a %-format instead.",
            )
        case = ("upper" if written.isupper() else "lower" if written.islower() else "") if element in _NAMES else ""
        pieces += [(_ELEMENTS[element], case), ("", "")]
        position += len(element)
    return [piece for piece in pieces if piece[0]]


def refuse_untranslated_formats(tree: exp.Expression) -> exp.Expression:
    """The format clauses :func:`formatted_cast` cannot write fail before generation, naming what
    has no translation (an error raised while generating would be reported as a generator bug)."""
    for node in tree.find_all(exp.Cast):
        pattern = node.args.get("format")
        if pattern is None:
            continue
        if isinstance(pattern, exp.AtTimeZone):  # CAST(ts AS STRING FORMAT '…' AT TIME ZONE z)
            pattern = pattern.this
        if not (isinstance(pattern, exp.Literal) and pattern.is_string) or not node.to.is_type(*exp.DataType.TEXT_TYPES):
            raise UnsupportedStatementError(
                f"CAST(... AS {node.to.sql('bigquery')} FORMAT ...) has no translation yet: only a DATE, DATETIME, TIME or TIMESTAMP cast to STRING with a literal format.",
                hint="Use PARSE_DATE / PARSE_TIMESTAMP, or FORMAT_DATE / FORMAT_TIMESTAMP, with a %-format instead.",
            )
        if (isinstance(node.this, exp.Literal) and not node.this.is_string) or node.this.is_type(*_NUMBERS):
            raise UnsupportedStatementError(
                f"CAST(number AS STRING FORMAT '{pattern.this}') has no translation yet.",
                hint="Use FORMAT('%.2f', x) (printf-style) instead.",
            )
        _pieces(pattern.this)
    return tree


def formatted_cast(self, node: exp.Cast) -> str:
    """DuckDB SQL for ``CAST(x AS STRING FORMAT pattern)`` (``node`` has the format, checked by
    :func:`refuse_untranslated_formats`)."""
    value, pattern = node.this, node.args["format"]
    text = self.sql(value)
    if isinstance(pattern, exp.AtTimeZone):  # the TIMESTAMP's civil time in that zone (else UTC's)
        text, pattern = f"({text} AT TIME ZONE {self.sql(pattern, 'zone')})", pattern.this
    if value.is_type(exp.DType.TIME):  # STRFTIME takes no TIME: the time on 1970-01-01
        text = f"(DATE '1970-01-01' + {text})"
    parts = []
    for specifiers, case in _pieces(pattern.this):
        part = f"STRFTIME({text}, {self.sql(exp.Literal.string(specifiers))})"
        parts.append(f"{case.upper()}({part})" if case else part)
    return " || ".join(parts) or "''"
