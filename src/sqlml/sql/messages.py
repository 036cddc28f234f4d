"""Error messages sqlml words itself for BigQuery's runtime failures, shared by the SQL the front
end writes (DuckDB's ``error()``) and the engines that word the same failure from their own errors
(:mod:`sqlml.engine.spark.values`), so that both engines say the same thing.
"""

from __future__ import annotations

#: ``a[OFFSET(i)]`` / ``a[ORDINAL(i)]`` past either end; ``position`` is ``offset`` or ``ordinal``.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
ARRAY_OUT_OF_BOUNDS = "Array {position} {index} is out of bounds: the array has {length} elements"
