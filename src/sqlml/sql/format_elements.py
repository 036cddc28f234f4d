"""BigQuery's format elements in FORMAT_DATE / FORMAT_DATETIME / FORMAT_TIME / FORMAT_TIMESTAMP and
the PARSE_* functions, written in elements DuckDB's STRFTIME and STRPTIME know.

sqlglot maps a few elements (%F, %D, %x, %T, %e, %c, %E6S) and passes the rest through, but DuckDB
reads some of those otherwise: %g is its milliseconds (BigQuery's ISO year without century), %n its
nanoseconds (BigQuery's newline), and it has no %e (day padded with a space: sqlglot wrote %-d,
unpadded, and left the %e inside %c's expansion, an error), %C, %k, %l, %P, %Q, %R, %t, %E<n>S
or %E4Y. Formatting splits the format at the elements DuckDB lacks and computes each from ones it
has; parsing rewrites them into DuckDB's.
https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#format_elements_date_time
"""

from __future__ import annotations

import functools
import re

from sqlglot import exp

from sqlml.sql.generator_fixes import operands_once, rendering_in

#: One element: %E followed by digits or * and S, %E4Y, %Ez, or % and one character.
_ELEMENT = re.compile(r"%(E[0-9*]S|E4Y|Ez|-?.)", re.DOTALL)

#: Elements written as other DuckDB elements (%-d is sqlglot's spelling of BigQuery's %e).
_SAME_TEXT = {"R": "%H:%M", "E4Y": "%Y", "n": "\n", "t": "\t", "E0S": "%S", "E3S": "%S.%g", "E6S": "%S.%f", "E*S": "%S.%f"}

#: Elements computed from DuckDB elements: ``(element, DuckDB SQL of its text)``.
_COMPUTED = {
    "e": ("%-d", "LPAD({}, 2, ' ')"),
    "-d": ("%-d", "LPAD({}, 2, ' ')"),
    "k": ("%-H", "LPAD({}, 2, ' ')"),
    "l": ("%-I", "LPAD({}, 2, ' ')"),
    "C": ("%Y", "LEFT(LPAD({}, 4, '0'), 2)"),
    "P": ("%p", "LOWER({})"),
    "Q": ("%-m", "CAST((CAST({} AS INTEGER) + 2) // 3 AS VARCHAR)"),
    "g": ("%G", "RIGHT({}, 2)"),
}

#: The zone elements of a TIMESTAMP: its offset from UTC in the time zone argument (UTC without
#: one) as +hhmm (%z) or +hh:mm (%Ez); %Z names UTC without a time zone argument.
_OFFSETS = {"z": "", "Ez": ":"}

#: What each element reads as in STRPTIME.
_PARSED = {"e": "%-d", "-d": "%-d", "k": "%-H", "l": "%-I", "R": "%H:%M", "E4Y": "%Y", "n": " ", "t": " ", "E3S": "%S.%g", "E*S": "%S.%f"}


def _pieces(pattern: str) -> list[tuple[str, str | None]]:
    # (DuckDB format text, None) runs and (DuckDB element, SQL around it) computed elements
    pieces: list[tuple[str, str | None]] = []
    position = 0
    text = ""
    for element in _ELEMENT.finditer(pattern):
        text += pattern[position : element.start()]
        position = element.end()
        name = element.group(1)
        if name in _COMPUTED or name in _OFFSETS:
            if text:
                pieces.append((text, None))
            pieces.append(_COMPUTED.get(name) or ("", _OFFSETS[name]))
            text = ""
        else:
            text += _SAME_TEXT.get(name, element.group(0))
    text += pattern[position:]
    if text or not pieces:
        pieces.append((text, None))
    return pieces


def _pattern(node: exp.Expression) -> str | None:
    pattern = node.args.get("format")
    return pattern.this if isinstance(pattern, exp.Literal) and pattern.is_string else None


def _with_format(node: exp.Expression, text: str) -> exp.Expression:
    node = node.copy()
    node.set("format", exp.Literal.string(text))
    return node


def _formatted(base):
    def render(self, node: exp.TimeToStr) -> str:
        pattern = _pattern(node)
        pieces = _pieces(pattern) if pattern is not None else [(pattern, None)]
        if pieces == [(pattern, None)]:
            return base(self, node)

        def concatenated(self, call: exp.TimeToStr) -> str:
            texts = []
            for text, around in pieces:
                if not text:  # a zone offset
                    texts.append(_offset(self, call, separator=around))
                    continue
                formatted = base(self, _with_format(call, text))
                texts.append(around.format(formatted) if around else formatted)
            return texts[0] if len(texts) == 1 else "(" + " || ".join(texts) + ")"

        return operands_once(self, node, concatenated)

    return render


def _offset(self, call: exp.TimeToStr, separator: str) -> str:
    zone = call.args.get("zone")
    if zone is None:
        return f"'+00{separator}00'"
    value = f"CAST({self.sql(call, 'this')} AS TIMESTAMPTZ)"
    minutes = f"DATE_DIFF('minute', {value} AT TIME ZONE 'UTC', {value} AT TIME ZONE {self.sql(zone)})"
    sign = f"CASE WHEN {minutes} < 0 THEN '-' ELSE '+' END"
    two_digits = lambda number: f"LPAD(CAST({number} AS VARCHAR), 2, '0')"  # noqa: E731
    return f"{sign} || {two_digits(f'ABS({minutes}) // 60')} || '{separator}' || {two_digits(f'ABS({minutes}) % 60')}"


def _parsed(base):
    def render(self, node: exp.Expression) -> str:
        pattern = _pattern(node)
        if pattern is None:
            return base(self, node)
        duckdb_pattern = _ELEMENT.sub(lambda element: _PARSED.get(element.group(1), element.group(0)), pattern)
        return base(self, _with_format(node, duckdb_pattern) if duckdb_pattern != pattern else node)

    return render


def format_element_fixes(transforms) -> dict[type, object]:
    """Generator TRANSFORMS for formatting and parsing with a literal format, over ``transforms``.

    Args:
        transforms: the generator's TRANSFORMS these are merged over.

    Returns:
        The transforms to merge.
    """

    base = functools.partial(rendering_in, transforms)

    return {
        exp.TimeToStr: _formatted(base(exp.TimeToStr)),
        **{node_type: _parsed(base(node_type)) for node_type in (exp.StrToTime, exp.StrToDate, exp.ParseDatetime, exp.ParseTime)},
    }
