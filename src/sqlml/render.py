"""Format result rows for people and for other programs: table, vertical, CSV, JSON, Markdown, Parquet.

Values print as BigQuery users expect: NULL as ``NULL``, arrays as ``[a, b]``, structs as
``{name: value}`` (so ``predicted_label_probs`` reads as a list of label/prob pairs), floats
without trailing noise.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import io
import json
import math
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    import pyarrow as pa

NULL = "NULL"
FORMATS = ("table", "vertical", "csv", "json", "jsonl", "markdown", "parquet")


@dataclass(frozen=True)
class Rows:
    """Rows as Python values, ready to print: what every renderer reads.

    Attributes:
        names: the column names.
        numeric: per column, whether it holds numbers (right-aligned in a table).
        values: the rows, one tuple each.
    """

    names: list[str]
    numeric: list[bool]
    values: list[tuple]


#: What the renderers take: :class:`Rows`, or an Arrow table (read into :class:`Rows`).
Data = Union[Rows, "pa.Table"]


def format_value(value) -> str:
    """One value as text for a table cell."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.10g}" if abs(value) < 1e16 else repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def rows_of(data: Data) -> Rows:
    """``data`` as :class:`Rows` (an Arrow table's values read with ``to_pylist``)."""
    if isinstance(data, Rows):
        return data
    columns = [column.to_pylist() for column in data.columns]
    return Rows(data.column_names, numeric_columns(data.schema), list(zip(*columns)) if columns else [])


def numeric_columns(schema: pa.Schema) -> list[bool]:
    """Per field of ``schema``, whether it holds numbers (integers, floats, decimals)."""
    import pyarrow as pa

    return [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type) for f in schema]


def render_table(data: Data, max_width: int | None = None, max_cell: int = 60) -> str:
    """An aligned text table; cells wider than ``max_cell`` or the terminal are shortened with '…'."""
    data = rows_of(data)
    names = data.names
    if not names:
        return "(no columns)"
    width = max_width or shutil.get_terminal_size((120, 24)).columns
    cells = [[format_value(v) for v in row] for row in data.values]
    widths = [len(name) for name in names]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    widths = [min(w, max(max_cell, len(name))) for w, name in zip(widths, names)]
    # Too wide for the terminal: narrow the widest columns first, down to 8 characters.
    while sum(widths) + 3 * len(widths) + 1 > width and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    numeric = data.numeric

    def line(values):
        out = []
        for value, w, right in zip(values, widths, numeric):
            value = value if len(value) <= w else value[: w - 1] + "…"
            out.append(value.rjust(w) if right else value.ljust(w))
        return "| " + " | ".join(out) + " |"

    rule = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    header = "| " + " | ".join(n[:w].ljust(w) for n, w in zip(names, widths)) + " |"
    body = [line(row) for row in cells]
    return "\n".join([rule, header, rule, *body, rule])


def render_vertical(data: Data) -> str:
    """One ``name: value`` line per column, records separated by a header line."""
    data = rows_of(data)
    names = data.names
    pad = max((len(n) for n in names), default=0)
    out = []
    for index, row in enumerate(data.values, 1):
        out.append(f"-[ RECORD {index} ]" + "-" * 20)
        out.extend(f"{name.rjust(pad)} | {format_value(value)}" for name, value in zip(names, row))
    return "\n".join(out) if out else "(0 rows)"


def render_csv(data: Data) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    data = rows_of(data)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(data.names)
    for row in data.values:
        writer.writerow(["" if v is None else (format_value(v) if isinstance(v, (list, dict, float, bool)) else v) for v in row])
    return buffer.getvalue().rstrip("\n")


def _json_default(value):
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _clean_json(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def render_json(data: Data, lines: bool = False) -> str:
    """A JSON array of row objects (or one object per line with ``lines``)."""
    data = rows_of(data)
    records = [dict(zip(data.names, map(_clean_json, row))) for row in data.values]
    if lines:
        return "\n".join(json.dumps(r, default=_json_default) for r in records)
    return json.dumps(records, default=_json_default, indent=2)


def render_markdown(data: Data) -> str:
    """A GitHub-flavoured Markdown table."""
    data = rows_of(data)
    names = data.names
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(escape, names)) + " |", "|" + "|".join("---" for _ in names) + "|"]
    lines += ["| " + " | ".join(escape(format_value(v)) for v in row) + " |" for row in data.values]
    return "\n".join(lines)


def render(data: Data, format: str = "table") -> str:
    """Render rows in one of the text :data:`FORMATS` (not parquet, which is binary)."""
    renderers = {
        "table": render_table,
        "vertical": render_vertical,
        "csv": render_csv,
        "json": render_json,
        "jsonl": lambda t: render_json(t, lines=True),
        "markdown": render_markdown,
    }
    return renderers[format](data)


def write_parquet(table: pa.Table, target) -> None:
    """Write rows as Parquet to a path or a binary file object."""
    import pyarrow.parquet as pq

    pq.write_table(table, target)
