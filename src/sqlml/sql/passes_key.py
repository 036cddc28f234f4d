"""A statement tree's cache key: its exact serialization, as bytes.

The generated DuckDB text (:func:`sqlml.sql.transpile.to_duckdb`) and the typed date arithmetic
(:func:`sqlml.sql.date_arithmetic.with_table_columns`) are remembered by the tree they were made
from — its classes, and its values with their case, comments and meta — as sqlglot serializes it
(:func:`sqlglot.serde.dump`). Written out with ``repr``, that key cost a fifth of a short
statement's per-call Python time; ``marshal``'s format 2 (which writes no back-references, so
equal payloads give equal bytes) writes it ~3x faster. A payload with a value marshal cannot write
falls back to ``repr``. The keys live in this process's memory only.
"""

from __future__ import annotations

import marshal

from sqlglot import exp
from sqlglot.serde import dump

#: marshal's format without back-references: its bytes depend on the values alone, not on which
#: of them are the same object
_FORMAT = 2


def tree_key(tree: exp.Expression) -> bytes | str:
    """A key equal for two trees exactly when their serializations are equal."""
    payload = dump(tree)
    try:
        return marshal.dumps(payload, _FORMAT)
    except ValueError:  # a value of a type marshal does not write
        return repr(payload)
