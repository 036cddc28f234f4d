"""Translate the engine's exceptions (:class:`~sqlml.engine.base.EngineError`) into sqlml errors
that point at the user's SQL.

The engine reports positions in the SQL text it ran, which is sqlglot's transpiled text, not what
the user wrote. The names DuckDB complains about (a table, a column, a function) are looked up
in the user's own syntax tree instead, whose identifiers carry their original offsets.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Iterable

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError, UnsupportedError

from sqlml.engine.base import (
    EngineBindError,
    EngineConversionError,
    EngineError,
    EngineInterrupted,
    EngineSyntaxError,
    EngineTransactionError,
)
from sqlml.errors import (
    AlreadyExistsError,
    Cancelled,
    Error,
    ExecutionError,
    Location,
    NotFoundError,
    SqlSyntaxError,
    SqlTypeError,
    TransactionError,
    UnsupportedStatementError,
)
from sqlml.sql.depth import nested_too_deeply
from sqlml.sql.diagnostics import location_at
from sqlml.sql.struct_subscripts import COLUMN_HINT

# The engine's message shapes (DuckDB's today), e.g. 'Catalog Error: Table with name nope does not exist!'.
# These patterns read DuckDB's error messages, never SQL text.
_MISSING = re.compile(r"(Table|View|Schema|Table Function|Scalar Function|Macro Function|Function|Catalog) with name \"?([^\s\"!]+)\"? does not exist")
_MISSING_COLUMN = re.compile(r'Referenced column "([^"]+)" not found')
_CANDIDATES = re.compile(r'Candidate bindings: (.*)')
_TOO_DEEP = re.compile(r"Max expression depth limit of (\d+) exceeded")
_EXISTS = re.compile(r"(Table|View|Schema|Macro|Function|Catalog) with name \"?([^\s\"]+)\"? already exists")
#: DuckDB's and Spark's refusals of a named STRUCT's positional subscript, which sqlml translates
#: only for STRUCT(...) values in the statement (sqlml.sql.struct_subscripts).
_STRUCT_BY_POSITION = re.compile(
    r"struct_extract with an integer key can only be used on unnamed structs|INVALID_EXTRACT_FIELD_TYPE|"
    r"argument types '(len|array_length)\(STRUCT\("
)
#: DuckDB's refusal of x.field where x is no STRUCT or JSON value (BigQuery: "Cannot access field
#: x on a value with type ARRAY<STRUCT<x INT64>>"), most often an ARRAY of STRUCTs.
_FIELD_OF_NON_STRUCT = re.compile(r"Cannot extract field '([^']+)' from expression \"([^\"]+)\" because it is not a struct")
#: sqlml's own bounds check of a[OFFSET(i)] / a[ORDINAL(i)] / a[i] (sqlml.sql.generator_fixes), raised
#: through the engine's error() on either engine, whose SAFE_ form gives NULL instead.
_OUT_OF_BOUNDS = re.compile(r"Array (offset|ordinal|index) -?\d+ is out of bounds: the array has \d+ elements")


def translate(
    error: EngineError,
    tree: exp.Expression | None,
    sql: str,
    location: Location,
    known_tables: Callable[[], Iterable[str]] = lambda: (),
) -> Error:
    """The sqlml error for an engine exception raised while running ``tree``.

    Args:
        error: what the engine raised.
        tree: the statement as the user wrote it (original positions), if any.
        sql: the whole script text, for caret excerpts.
        location: where the statement starts, used when no finer position is found.
        known_tables: lists ``dataset.table`` names, for "did you mean" hints.
    """
    text = _first_line(error)
    if isinstance(error, EngineInterrupted):
        return _cancelled(location)
    if match := _MISSING.search(text):
        return _missing_object(match.group(1), match.group(2), tree, sql, location, known_tables)
    if match := _MISSING_COLUMN.search(str(error)):
        return _missing_column(match.group(1), str(error), tree, sql, location)
    if match := _EXISTS.search(text):
        kind, name = match.group(1).lower(), match.group(2)
        return AlreadyExistsError(
            f"A {kind} named {name} already exists.",
            hint="Use CREATE OR REPLACE to replace it, or CREATE … IF NOT EXISTS to keep it.",
            location=_locate(tree, name, sql, location),
        )
    if _STRUCT_BY_POSITION.search(text):
        return SqlTypeError(
            "A STRUCT column cannot be subscripted by position (s[0], s[OFFSET(0)], s[ORDINAL(1)]) yet.",
            hint=COLUMN_HINT,
            location=location,
        )
    if match := _FIELD_OF_NON_STRUCT.search(text):
        field, value = match.groups()
        return SqlTypeError(
            f"Cannot access field {field} of {value}: it is not a STRUCT or JSON value.",
            hint=f"If {value} is an ARRAY of STRUCTs, read each element's field through UNNEST: ARRAY(SELECT e.{field} FROM UNNEST({value}) AS e).",
            location=_locate(tree, field, sql, location),
        )
    hint = getattr(error, "hint", None)  # an engine's fix for a bad value (SAFE_CAST…), when it words one
    if hint is None and (match := _OUT_OF_BOUNDS.search(text)):
        hint = f"Use SAFE_{match.group(1).upper().replace('INDEX', 'OFFSET')} to get NULL instead."  # a bare a[i] is a[OFFSET(i)]
    if isinstance(error, EngineConversionError):
        return SqlTypeError(_strip_kind(text), hint=hint, location=location)
    if isinstance(error, EngineBindError) and "No function matches" in text:
        return SqlTypeError(_strip_kind(text), hint=_detail(error), location=location)
    if isinstance(error, EngineTransactionError):
        return TransactionError(_strip_kind(text), location=location)
    if match := _TOO_DEEP.search(text):
        return SqlSyntaxError(
            f"The statement is nested too deeply for DuckDB: once translated, its expressions go more "
            f"than {match.group(1)} levels deep.",
            hint="Simplify it: split long chains of operators (a + b + … with hundreds of terms) and deep "
            "nesting into WITH clauses, views or script variables.",
            location=location,
        )
    if isinstance(error, EngineSyntaxError):
        return SqlSyntaxError(
            f"DuckDB could not run this statement: {_strip_kind(text)}",
            hint="This BigQuery construct has no DuckDB translation yet; rewrite it or report it.",
            location=location,
        )
    if _raised_by_error_function(error, tree):
        # ERROR(message) fails with its message whole, newlines included: the tutorials' alerts start with '\n\n'
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/debugging_functions#error
        return ExecutionError(_strip_kind(str(error)), location=location)
    return ExecutionError(_strip_kind(text), hint=hint, location=location)


def _raised_by_error_function(error: EngineError, tree: exp.Expression | None) -> bool:
    # DuckDB's error(message) raises 'Invalid Input Error: <message>' with nothing appended.
    text = str(error)
    return "\n" in text and text.startswith("Invalid Input Error: ") and tree is not None and any(
        call.name.upper() == "ERROR" for call in tree.find_all(exp.Anonymous)
    )


def _cancelled(location: Location) -> Cancelled:
    return Cancelled("The statement was cancelled; nothing it started was kept.", location=location)


def is_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is the user's cancel (Ctrl-C, :meth:`sqlml.Connection.interrupt`) landing
    in an engine call rather than the engine refusing the call."""
    # DuckDB's Python layer raises a bare RuntimeError, not its InterruptException, when the
    # interrupt lands while it hands a result over (found by the Ctrl-C fuzz campaign)
    duckdb_handover = type(error) is RuntimeError and str(error) == "Query interrupted"
    return isinstance(error, (EngineInterrupted, KeyboardInterrupt)) or duckdb_handover


def translate_foreign(error: Exception, location: Location) -> Error:
    """The sqlml error for an exception from neither sqlml nor the engine raised while a statement ran.

    The limits of the libraries underneath get their own message; anything else is a bug in
    sqlml, reported as one (the caller chains the original exception).
    """
    if is_interrupt(error):
        return _cancelled(location)
    if isinstance(error, RecursionError) or isinstance(error.__cause__, RecursionError):
        return nested_too_deeply(location)  # (sqlglot's tokenizer wraps a RecursionError in a TokenError)
    if isinstance(error, (ParseError, TokenError)):  # a handler parsing SQL it built from the statement
        return SqlSyntaxError(f"Syntax error: {_first_line(error)}", location=location)
    if isinstance(error, UnsupportedError):
        return UnsupportedStatementError(f"DuckDB has no translation for this statement: {_first_line(error)}", location=location)
    if _arrow_invalid(error) and "Recursion level" in str(error):
        # Arrow's C data interface imports at most 64 levels of schema: a value nested 63 deep
        return ExecutionError(
            "The result holds values nested too deeply to return: Arrow allows 62 levels of ARRAY and STRUCT.",
            hint="Return the inner values with UNNEST, or the whole value as text with TO_JSON_STRING.",
            location=location,
        )
    if _arrow_invalid(error) and "Integer value out of bounds" in str(error):
        # a HUGEINT (DuckDB's SUM of integers, a huge parameter) read back as BigQuery's INT64
        return SqlTypeError(
            "INT64 overflow: a value of the result is outside INT64's range.",
            hint="Cast the values to NUMERIC, BIGNUMERIC or FLOAT64 before adding them up.",
            location=location,
        )
    if isinstance(error, MemoryError):
        return ExecutionError("The statement ran out of memory.", hint="Run it on less data, or in parts.", location=location)
    if isinstance(error, OSError) and error.strerror:
        # a file the statement names (EXPORT MODEL's uri, a LOAD DATA path) that the system refused
        return ExecutionError(
            f"Could not use the file {error.filename!r}: {error.strerror}." if error.filename else f"A file could not be used: {error.strerror}.",
            hint="Check the path the statement names (its uri or uris option): that it exists, is writable and is not too long.",
            location=location,
        )
    return ExecutionError(
        f"Internal error: {type(error).__name__}: {_first_line(error)}",
        hint="This is a bug in sqlml, not in your SQL; please report it with the statement.",
        location=location,
    )


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to ``name`` (case-insensitive), or None."""
    pool = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=0.6)
    return pool[match[0]] if match else None


def _table_location(tree, name: str, sql: str, fallback: Location) -> Location:
    """The span of ``dataset.table`` as written, for the caret under a missing table."""
    if tree is not None:
        for table in tree.find_all(exp.Table):
            parts = [p for p in table.parts if isinstance(p, exp.Identifier)]
            if parts and table.name.lower() == name.lower().split(".")[-1]:
                start, end = parts[0].meta.get("start"), parts[-1].meta.get("end")
                if start is not None and end is not None:
                    return location_at(sql, start, fallback.statement, end - start + 1, fallback.path)
    return _locate(tree, name, sql, fallback)


def _missing_object(kind, name, tree, sql, location, known_tables) -> NotFoundError:
    kind = kind.lower()
    node_location = _table_location(tree, name, sql, location) if kind in ("table", "view") else _locate(tree, name, sql, location)
    if kind in ("table", "view"):
        written = _written_table_name(tree, name) or name
        guess = suggest(written, _listed(known_tables))
        hint = f"Did you mean {guess}?" if guess else "List tables with SELECT * FROM <dataset>.INFORMATION_SCHEMA.TABLES."
        return NotFoundError(f"Unknown table {written}.", hint=hint, location=node_location)
    if kind == "schema" or kind == "catalog":
        return NotFoundError(
            f"Unknown dataset {name}.",
            hint=f"Create it first with CREATE SCHEMA {name}.",
            location=node_location,
        )
    return NotFoundError(
        f"Unknown function {name}.",
        hint="Check the spelling, or create it with CREATE FUNCTION.",
        location=node_location,
    )


def _missing_column(name, message, tree, sql, location) -> NotFoundError:
    candidates = []
    if match := _CANDIDATES.search(message):
        candidates = [c.strip().strip('"').split(".")[-1].strip('"') for c in match.group(1).split(",")]
    guess = suggest(name, candidates)
    hint = f"Did you mean {guess}?" if guess else (f"Columns: {', '.join(candidates)}." if candidates else None)
    return NotFoundError(f"Unknown column {name}.", hint=hint, location=_locate(tree, name, sql, location))


def _listed(known_tables: Callable[[], Iterable[str]]) -> list[str]:
    # The hint is a nicety: a catalog that cannot be read now (a failed transaction) gives none.
    try:
        return list(known_tables())
    except EngineError:
        return []


def _written_table_name(tree: exp.Expression | None, name: str) -> str | None:
    if tree is None:
        return None
    for table in tree.find_all(exp.Table):
        if table.name.lower() == name.lower():
            return ".".join(part.name for part in table.parts[-2:])
    return None


def _locate(tree: exp.Expression | None, name: str, sql: str, fallback: Location) -> Location:
    """The position of the first identifier called ``name`` in the user's tree."""
    if tree is None:
        return fallback
    wanted = name.lower().split(".")[-1]
    for node in tree.find_all(exp.Identifier, exp.Anonymous):
        node_name = node.name if isinstance(node, exp.Identifier) else str(node.this)
        start = node.meta.get("start")
        if node_name.lower() == wanted and start is not None:
            length = node.meta.get("end", start) - start + 1
            return location_at(sql, start, fallback.statement, length, fallback.path)
    return fallback


def _first_line(error: Exception) -> str:
    return str(error).split("\n", 1)[0]


def _detail(error: Exception) -> str | None:
    rest = str(error).split("\n", 1)
    return rest[1].strip() if len(rest) > 1 and rest[1].strip() else None


def _strip_kind(text: str) -> str:
    # 'Conversion Error: Could not convert…' → 'Could not convert…'
    head, sep, tail = text.partition(": ")
    return tail if sep and head.endswith("Error") else text


def _arrow_invalid(error: BaseException) -> bool:
    """Whether ``error`` is pyarrow's ArrowInvalid; pyarrow is not imported for the question (a
    process that never loaded it has none of its errors, and a plain query needs none of it)."""
    arrow = sys.modules.get("pyarrow")
    return arrow is not None and isinstance(error, arrow.ArrowInvalid)
