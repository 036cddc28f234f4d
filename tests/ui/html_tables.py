"""Reading a page's tables back as text, the way a person reads them (for exact assertions)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._stack: list[str | None] = []  # ids of the open tables
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._svg = 0

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self._svg += 1
        elif tag == "table":
            self._stack.append(dict(attrs).get("id"))
            if self._stack[-1]:
                self.tables[self._stack[-1]] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg -= 1
        elif tag == "table":
            self._stack.pop()
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._stack and self._stack[-1]:
                self.tables[self._stack[-1]].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None and not self._svg:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    """Every table with an id: its rows, each a list of cell texts (header row first)."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def records(page: str, table_id: str) -> list[dict[str, str]]:
    """A table's rows as dicts keyed by its header row."""
    head, *rows = tables(page)[table_id]
    return [dict(zip(head, row, strict=True)) for row in rows]


def by_label(page: str, table_id: str) -> dict[str, list[str]]:
    """A side-by-side table: first cell → the other cells."""
    return {row[0]: row[1:] for row in tables(page)[table_id]}
