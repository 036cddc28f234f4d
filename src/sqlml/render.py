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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

NULL = "NULL"
FORMATS = ("table", "vertical", "csv", "json", "jsonl", "markdown", "parquet")


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


def _rows(table: pa.Table) -> list[list]:
    columns = [column.to_pylist() for column in table.columns]
    return [list(row) for row in zip(*columns)] if columns else []


def _is_numeric(arrow_type: pa.DataType) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type)


def render_table(table: pa.Table, max_width: int | None = None, max_cell: int = 60) -> str:
    """An aligned text table; cells wider than ``max_cell`` or the terminal are shortened with '…'."""
    names = table.column_names
    if not names:
        return "(no columns)"
    width = max_width or shutil.get_terminal_size((120, 24)).columns
    cells = [[format_value(v) for v in row] for row in _rows(table)]
    widths = [len(name) for name in names]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    widths = [min(w, max(max_cell, len(name))) for w, name in zip(widths, names)]
    # Too wide for the terminal: narrow the widest columns first, down to 8 characters.
    while sum(widths) + 3 * len(widths) + 1 > width and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    numeric = [_is_numeric(field.type) for field in table.schema]

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


def render_vertical(table: pa.Table) -> str:
    """One ``name: value`` line per column, records separated by a header line."""
    names = table.column_names
    pad = max((len(n) for n in names), default=0)
    out = []
    for index, row in enumerate(_rows(table), 1):
        out.append(f"-[ RECORD {index} ]" + "-" * 20)
        out.extend(f"{name.rjust(pad)} | {format_value(value)}" for name, value in zip(names, row))
    return "\n".join(out) if out else "(0 rows)"


def render_csv(table: pa.Table) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in _rows(table):
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


def render_json(table: pa.Table, lines: bool = False) -> str:
    """A JSON array of row objects (or one object per line with ``lines``)."""
    records = [dict(zip(table.column_names, map(_clean_json, row))) for row in _rows(table)]
    if lines:
        return "\n".join(json.dumps(r, default=_json_default) for r in records)
    return json.dumps(records, default=_json_default, indent=2)


def render_markdown(table: pa.Table) -> str:
    """A GitHub-flavoured Markdown table."""
    names = table.column_names
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(escape, names)) + " |", "|" + "|".join("---" for _ in names) + "|"]
    lines += ["| " + " | ".join(escape(format_value(v)) for v in row) + " |" for row in _rows(table)]
    return "\n".join(lines)


def render(table: pa.Table, format: str = "table") -> str:
    """Render rows in one of the text :data:`FORMATS` (not parquet, which is binary)."""
    renderers = {
        "table": render_table,
        "vertical": render_vertical,
        "csv": render_csv,
        "json": render_json,
        "jsonl": lambda t: render_json(t, lines=True),
        "markdown": render_markdown,
    }
    return renderers[format](table)


def write_parquet(table: pa.Table, target) -> None:
    """Write rows as Parquet to a path or a binary file object."""
    import pyarrow.parquet as pq

    pq.write_table(table, target)
