"""Seeds: the rows dbt parsed from a CSV file go into their table as one Arrow table.

dbt's default inserts rows in batches of ``%s`` placeholders; sqlml binds ``?``/``@name``
values, and one INSERT … SELECT from a registered Arrow table is much faster anyway.
"""

from __future__ import annotations

import uuid
from typing import Any


def load_rows(session: Any, target: str, agate_table: Any, column_types: dict[str, str]) -> int:
    """Insert ``agate_table``'s rows into ``target`` (already created with the seed's column types)."""
    import pyarrow as pa

    names = list(agate_table.column_names)
    columns = {f"c{i}": [_plain(row[i]) for row in agate_table.rows] for i in range(len(names))}
    if not agate_table.rows:
        return 0
    data = pa.table({key: pa.array(values, type=_arrow_type(values)) for key, values in columns.items()})
    name = f"dbt_seed_{uuid.uuid4().hex}"
    session.register(name, data)
    try:
        selected = ", ".join(f"c{i}" for i in range(len(names)))
        session.query(f"INSERT INTO {target} SELECT {selected} FROM {name}")
    finally:
        session.unregister(name)
    return len(agate_table.rows)


def _plain(value: Any) -> Any:
    """agate's Decimal numbers as float or int (Arrow's decimal inference is strict about scale)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _arrow_type(values: list) -> Any:
    """Strings stay strings; a numeric column mixing ints and floats becomes float64."""
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if kinds == {int, float} or kinds == {float}:
        return pa.float64()
    if not kinds:
        return pa.string()
    return None
