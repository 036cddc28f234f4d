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

import argparse
import ast
import functools
import shlex
from typing import TYPE_CHECKING

from sqlml.errors import Error, ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from sqlml.connection import Connection

#: Options taking a value that only Google's services read.
_IGNORED_VALUES = (
    "--project", "--location", "--progress_bar_type", "--maximum_bytes_billed", "--bigquery_api_endpoint",
    "--bqstorage_api_endpoint", "--use_geodataframe",
)  # fmt: skip
#: Flags that only Google's services read.
_IGNORED_FLAGS = ("--use_rest_api", "--use_bqstorage_api", "--verbose", "--no_query_cache")
#: Flags sqlml refuses, with why.
_REFUSED = {
    "--use_legacy_sql": "legacy SQL is not supported; sqlml runs GoogleSQL (standard SQL).",
    "--dry_run": "a dry run estimates BigQuery's billed bytes; sqlml bills nothing. Run the query, or EXPLAIN it.",
    "--graph": "graph visualization needs Spanner Graph's notebook widget.",
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises a sqlml error instead of exiting the kernel."""

    def error(self, message: str):
        raise Error(f"%%bigquery: {message}.", hint="See %%bigquery's options in sqlml's README.")


@functools.cache
def _parser() -> _Parser:
    parser = _Parser(prog="%%bigquery", add_help=False)
    parser.add_argument("destination_var", nargs="?")
    parser.add_argument("--destination_table")
    parser.add_argument("--max_results", type=int)
    parser.add_argument("--engine", default="pandas")
    for option in _IGNORED_VALUES:
        parser.add_argument(option)
    for flag in (*_IGNORED_FLAGS, *_REFUSED):
        parser.add_argument(flag, action="store_true")
    return parser


class MagicLine:
    """The parsed ``%%bigquery`` line: destination variable, parameters, destination table, row limit."""

    def __init__(self, line: str, namespace: dict) -> None:
        self.params: dict = {}
        params_at = line.find("--params")
        if params_at >= 0:  # a dict literal is no shell word: taken out before the rest is split
            self.params, rest = _params(line[params_at + len("--params") :], namespace)
            line = f"{line[:params_at]} {rest}"
        parsed = _parser().parse_args(shlex.split(line))
        for flag, why in _REFUSED.items():
            if getattr(parsed, flag.removeprefix("--")):
                raise Error(f"%%bigquery {flag}: {why}")
        if parsed.engine != "pandas":
            raise Error(f"%%bigquery --engine {parsed.engine}: sqlml returns pandas DataFrames (--engine pandas).")
        if parsed.destination_var is not None and not parsed.destination_var.isidentifier():
            raise Error(f"%%bigquery: the destination variable {parsed.destination_var!r} is not a Python name.")
        self.destination_var: str | None = parsed.destination_var
        self.destination_table: str | None = parsed.destination_table
        self.max_results: int | None = parsed.max_results


def _params(text: str, namespace: dict) -> tuple[dict, str]:
    """The ``--params`` value at the start of ``text`` — ``$name`` of a dict, or a dict literal (the
    shortest prefix that reads as one) — and the rest of ``text`` after it."""
    text = text.strip()
    if text.startswith("$"):
        name, _, rest = text[1:].partition(" ")
        if not isinstance(namespace.get(name), dict):
            raise ParameterError(f"--params ${name} names no dict variable of the notebook.", hint=f"Define {name} = {{…}} first.")
        return namespace[name], rest
    for end in (i + 1 for i, char in enumerate(text) if char == "}"):
        try:
            found = ast.literal_eval(text[:end])
        except (ValueError, SyntaxError):
            continue
        if isinstance(found, dict):
            return found, text[end:]
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
