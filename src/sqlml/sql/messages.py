"""Error messages sqlml words itself for BigQuery's runtime failures, shared by the SQL the front
end writes (DuckDB's ``error()``) and the engines that word the same failure from their own errors
(:mod:`sqlml.engine.spark.values`), so that both engines say the same thing.
"""

from __future__ import annotations

from typing import NamedTuple

#: ``a[OFFSET(i)]`` / ``a[ORDINAL(i)]`` past either end; ``position`` is ``offset`` or ``ordinal``.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
ARRAY_OUT_OF_BOUNDS = "Array {position} {index} is out of bounds: the array has {length} elements"

#: ``CAST(s AS INT64)`` of a STRING that holds no INT64 (``'2.5'``, ``'x'``): BigQuery's words, then the value.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast
BAD_INT64 = "Bad int64 value: "

#: The fix for a value that does not convert, the same on both engines.
SAFE_CAST_HINT = "Use SAFE_CAST to get NULL for a value that does not convert."


class Worded(NamedTuple):
    """An engine error's message and hint in these words, and whether it is a value that does not
    convert (a type error): what each engine's ``bad_value`` returns."""

    message: str
    hint: str | None
    conversion: bool = False
