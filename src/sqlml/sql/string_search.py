"""Positions in strings as BigQuery counts them, where DuckDB counts otherwise.

* INSTR with a position or an occurrence: a negative position searches backwards from that many
  characters before the end, the occurrence-th match counts overlapping matches ('oo' occurs at 5,
  6 and 7 in 'helloooo'), and no match is 0. sqlglot's DuckDB STRPOS dropped the occurrence (with
  a warning) and searched a negative position forwards.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#instr
* SUBSTR's position 0 is 1, and a negative position beyond the start starts at 1 (DuckDB counted
  the characters before the start: SUBSTR('apple', -7, 3) was 'a', not 'app'; SUBSTR('apple', 0, 2)
  'a', not 'ap'); a negative length is BigQuery's error.
  https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#substr
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.sql.generator_fixes import operands_once, rendering_in


def _instr(self, node: exp.StrPosition) -> str:
    text, search = self.sql(node, "this"), self.sql(node, "substr")
    position = self.sql(node, "position") or "1"
    occurrence = self.sql(node, "occurrence") or "1"
    matches = f"LIST_FILTER(RANGE(1, LENGTH({text}) + 1), LAMBDA __i : SUBSTRING({text}, __i, LENGTH({search})) = {search})"
    forwards = f"LIST_FILTER({matches}, LAMBDA __i : __i >= {position})[{occurrence}]"
    backwards = f"LIST_REVERSE(LIST_FILTER({matches}, LAMBDA __i : __i <= LENGTH({text}) + {position} + 1))[{occurrence}]"
    nulls = " OR ".join(f"{value} IS NULL" for value in (text, search, position, occurrence))
    return (
        f"CAST(CASE WHEN {nulls} THEN NULL "
        f"WHEN {position} = 0 THEN error('Position must be non-zero') "
        f"WHEN {occurrence} <= 0 THEN error('Occurrence must be positive') "
        f"WHEN {position} > 0 THEN COALESCE({forwards}, 0) ELSE COALESCE({backwards}, 0) END AS BIGINT)"
    )


def _is_plain(node: exp.StrPosition) -> bool:
    # INSTR(s, t) and INSTR(s, t, 1…): sqlglot's rendering is right
    position = node.args.get("position")
    return node.args.get("occurrence") is None and (position is None or (isinstance(position, exp.Literal) and position.is_int and int(position.this) > 0))


def _substr(self, node: exp.Substring) -> str:
    text, start = self.sql(node, "this"), self.sql(node, "start")
    position = f"CASE WHEN {start} > 0 THEN {start} WHEN {start} = 0 THEN 1 ELSE GREATEST(LENGTH({text}) + {start} + 1, 1) END"
    length = node.args.get("length")
    if length is None:
        return f"SUBSTRING({text}, {position})"
    count = self.sql(length)
    return f"CASE WHEN {count} < 0 THEN error('Third argument in SUBSTR() cannot be negative') ELSE SUBSTRING({text}, {position}, {count}) END"


def _is_counted_from_one(node: exp.Substring) -> bool:
    # SUBSTR(s, 2[, n]) with a positive literal position and a non-negative literal length or none
    start, length = node.args.get("start"), node.args.get("length")
    positive = isinstance(start, exp.Literal) and start.is_int and int(start.this) > 0
    return positive and (length is None or (isinstance(length, exp.Literal) and length.is_int))


def string_search_fixes(transforms) -> dict[type, object]:
    """Generator TRANSFORMS for INSTR and SUBSTR, over ``transforms``' own renderings.

    Args:
        transforms: the generator's TRANSFORMS this is merged over.

    Returns:
        The transforms to merge.
    """
    base = transforms[exp.StrPosition]
    substring = rendering_in(transforms, exp.Substring)
    return {
        exp.StrPosition: lambda self, node: base(self, node) if _is_plain(node) else operands_once(self, node, _instr),
        exp.Substring: lambda self, node: substring(self, node) if _is_counted_from_one(node) else operands_once(self, node, _substr),
    }
