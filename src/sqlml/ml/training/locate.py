"""Point a model statement's error at its cause: the option or the column at fault.

The executor only knows where a statement starts. CREATE MODEL and ALTER MODEL errors name an
option (``InvalidOptionError.option``) or a column (``InvalidModelInputError.column``); this
module finds that part of the statement in the syntax tree, whose nodes carry the
offsets sqlglot recorded in the script text, and gives the error its line and column.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import Error, InvalidModelInputError, InvalidOptionError, Location
from sqlml.ml.models.options import ALIASES
from sqlml.sql.diagnostics import location_at


def span(node: exp.Expression | None, script: str) -> Location | None:
    """Where ``node`` is written: from its first to its last positioned token (the caret stops at
    the end of the first line)."""
    if node is None or not script:
        return None
    starts, ends = [], []
    for child in node.walk():
        if "start" in child.meta and "end" in child.meta:
            starts.append(child.meta["start"])
            ends.append(child.meta["end"])
    if not starts:
        return None
    start = min(starts)
    location = location_at(script, start, length=max(ends) - start + 1)
    room = len(location.source_line) - location.col + 1
    return Location(line=location.line, col=location.col, source_line=location.source_line, length=max(1, min(location.length, room)))


def option_span(options: list[exp.Expression], name: str, script: str) -> Location | None:
    """Where ``name = value`` is written in an ``OPTIONS(...)`` list (``name`` lower-case)."""
    for prop in options:
        if type(prop) is exp.Property:
            written = prop.name.lower()
            if ALIASES.get(written, written) == name:
                return span(prop, script)
    return None


def column_span(roots: list[exp.Expression | None], name: str, script: str) -> Location | None:
    """Where the column ``name`` is written: the select-list item that outputs it, else the first
    reference to it, in the first of ``roots`` (TRANSFORM clause, training query) that has one."""
    wanted = name.lower()
    for root in filter(None, roots):
        items = root.selects if isinstance(root, exp.Query) else root.expressions
        for item in items:
            if item.alias_or_name.lower() == wanted:
                return span(item, script)
        for identifier in root.find_all(exp.Identifier):
            if identifier.name.lower() == wanted and isinstance(identifier.parent, exp.Column):
                return span(identifier, script)
    return None


def locate(
    error: Error,
    script: str,
    *,
    options: list[exp.Expression] = (),
    query: exp.Expression | None = None,
    transform: exp.Expression | None = None,
) -> None:
    """Give ``error`` the place in the statement it is about, unless it already has one.

    Args:
        error: raised while running a CREATE MODEL or ALTER MODEL statement.
        script: the script text the syntax tree's positions refer to.
        options: the statement's ``OPTIONS(...)`` entries.
        query: the training query (``AS SELECT …``), if any.
        transform: the TRANSFORM clause, if any.
    """
    if error.location is not None:
        return
    found = None
    if isinstance(error, InvalidOptionError) and error.option:
        found = option_span(list(options), error.option, script)
    elif isinstance(error, InvalidModelInputError):
        if error.column:
            found = column_span([transform, query], error.column, script)
        found = found or span(query, script)
    if found is not None:
        error.location = found
