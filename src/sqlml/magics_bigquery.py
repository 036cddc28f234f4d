"""``%%bigquery`` (and ``%%bqsql``): the google-cloud-bigquery / bigquery-magics cell magic that
BigQuery ML's notebooks use, answered by the sqlml warehouse, so their cells run as written
after ``%load_ext sqlml`` (instead of ``%load_ext google.cloud.bigquery``).

``%%bigquery [destination_var] [--params {…} | --params $dict_var] [--destination_table ds.t]
[--max_results N] [--project P] …`` with the query as the cell. As in bigquery-magics
(https://googleapis.dev/python/bigquery-magics/latest/magics.html): a destination variable
receives the DataFrame and nothing is displayed; ``--params`` gives the ``@name`` query
parameters as a dict literal or a ``$variable``; a cell with no whitespace is a table id whose
rows are read; a cell ``$variable`` is that variable's query text; ``--destination_table``
writes the result to that table (replacing it). The options about Google's services
(``--project``, ``--location``, ``--use_rest_api``, ``--use_bqstorage_api``, ``--verbose``,
``--progress_bar_type``, ``--no_query_cache``, ``--maximum_bytes_billed``, endpoints,
``--engine pandas``) have nothing to act on here and are accepted; ``--use_legacy_sql``,
``--dry_run``, ``--engine bigframes`` and ``--graph`` are clear errors.
"""

from __future__ import annotations

import ast
import shlex
from typing import TYPE_CHECKING

from sqlml.errors import Error, ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from sqlml.connection import Connection

#: Options taking a value that only Google's services read.
_IGNORED_VALUES = {
    "--project", "--location", "--progress_bar_type", "--maximum_bytes_billed", "--bigquery_api_endpoint",
    "--bqstorage_api_endpoint", "--use_geodataframe",
}  # fmt: skip
#: Flags that only Google's services read.
_IGNORED_FLAGS = {"--use_rest_api", "--use_bqstorage_api", "--verbose", "--no_query_cache"}
#: Options sqlml refuses, with why.
_REFUSED = {
    "--use_legacy_sql": "legacy SQL is not supported; sqlml runs GoogleSQL (standard SQL).",
    "--dry_run": "a dry run estimates BigQuery's billed bytes; sqlml bills nothing. Run the query, or EXPLAIN it.",
    "--graph": "graph visualization needs Spanner Graph's notebook widget.",
}


class MagicLine:
    """The parsed ``%%bigquery`` line: destination variable, parameters, destination table, row limit."""

    def __init__(self, line: str, namespace: dict) -> None:
        self.destination_var: str | None = None
        self.destination_table: str | None = None
        self.max_results: int | None = None
        self.params: dict = {}
        params_at = line.find("--params")
        if params_at >= 0:
            self.params, line = _params(line[params_at + len("--params") :], namespace), line[:params_at]
        words = shlex.split(line)
        index = 0
        while index < len(words):
            word, value = words[index], words[index + 1] if index + 1 < len(words) else None
            name = word.split("=", 1)[0]
            if "=" in word:
                value, step = word.split("=", 1)[1], 1
            else:
                step = 2
            if name in _REFUSED:
                raise Error(f"%%bigquery {name}: {_REFUSED[name]}")
            if name == "--engine":
                if value != "pandas":
                    raise Error(f"%%bigquery --engine {value}: sqlml returns pandas DataFrames (--engine pandas).")
            elif name == "--destination_table":
                self.destination_table = value
            elif name == "--max_results":
                self.max_results = int(value) if value is not None and value.isdigit() else _bad(word, "a row count")
            elif name in _IGNORED_FLAGS:
                step = 1
            elif name not in _IGNORED_VALUES:
                if name.startswith("-") or self.destination_var is not None or not word.isidentifier():
                    raise Error(f"%%bigquery: unrecognized argument {word!r}.", hint="See %%bigquery's options in sqlml's README.")
                self.destination_var, step = word, 1
            if step == 2 and value is None:
                _bad(word, "a value")
            index += step


def _bad(word: str, wanted: str):
    raise Error(f"%%bigquery {word} needs {wanted}.")


def _params(text: str, namespace: dict) -> dict:
    """The ``--params`` value at the start of ``text``: ``$name`` of a dict, or a dict literal (the
    shortest prefix that reads as one, so options may follow it)."""
    text = text.strip()
    if text.startswith("$"):
        name = text[1:].split()[0] if text[1:].split() else ""
        if not isinstance(namespace.get(name), dict):
            raise ParameterError(f"--params ${name} names no dict variable of the notebook.", hint=f"Define {name} = {{…}} first.")
        return namespace[name]
    for end in (i + 1 for i, char in enumerate(text) if char == "}"):
        try:
            found = ast.literal_eval(text[:end])
        except (ValueError, SyntaxError):
            continue
        if isinstance(found, dict):
            return found
    raise ParameterError("--params is not a dict literal such as {\"min_count\": 10} or a $variable holding one.")


def run_bigquery_cell(connection: Connection, line: str, cell: str, namespace: dict) -> pd.DataFrame | None:
    """What ``%%bigquery line`` with ``cell`` shows: the result's DataFrame, or None when it went to
    a destination variable (set in ``namespace``)."""
    parsed = MagicLine(line, namespace)
    query = cell.strip()
    if not query:
        raise Error("%%bigquery: the query is missing.")
    if query.startswith("$") and query[1:].isidentifier():
        if not isinstance(namespace.get(query[1:]), str):
            raise ParameterError(f"{query} names no string variable of the notebook.", hint=f"Define {query[1:]} = 'SELECT …' first.")
        query = namespace[query[1:]].strip()
    if not any(char.isspace() for char in query):  # a table id: its rows, as bigquery-magics lists them
        query = f"SELECT * FROM `{query.strip('`')}`"
    if parsed.destination_table:
        connection.query(f"CREATE OR REPLACE TABLE `{parsed.destination_table}` AS {query}", parsed.params or None)
        query, params = f"SELECT * FROM `{parsed.destination_table}`", None
    else:
        params = parsed.params or None
    result = connection.query(query, params)
    frame = result.df() if result.columns else None
    if frame is not None and parsed.max_results is not None:
        frame = frame.head(parsed.max_results)
    if parsed.destination_var:
        namespace[parsed.destination_var] = frame
        return None
    return frame
