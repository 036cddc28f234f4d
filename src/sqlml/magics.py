"""IPython and Jupyter: ``%load_ext sqlml``, then ``%sqlml SELECT …`` or a ``%%sqlml`` cell.

Each returns the last statement's rows as a pandas DataFrame (None for a statement without
rows). ``{name}`` in the SQL binds the notebook variable ``name`` as the query parameter
``@name`` — the value never becomes SQL text, so it cannot change the statement. The braces are
found with sqlml's tokenizer, so ``'{name}'`` inside a string literal or a comment stays as
written. ``%sqlml_connect WAREHOUSE [MODELS]`` chooses the warehouse (default: ``./warehouse``
and ``./models``, as ``sqlml.connect()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

# from the modules that define them, not from the package, whose load_ipython_extension imports this one
from sqlml.api import connect, default_connection
from sqlml.connection import Connection
from sqlml.errors import Error, ParameterError
from sqlml.sql.dialect import DIALECTS

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

_connection: Connection | None = None


def bind_notebook_variables(sql: str, namespace: dict, dialect: str = "bigquery") -> tuple[str, dict]:
    """``sql`` with each ``{name}`` replaced by ``@name``, and the values of those names.

    Raises:
        ParameterError: a ``{name}`` names no variable of the notebook.
    """
    try:
        tokens = DIALECTS[dialect]().tokenize(sql)
    except TokenError:
        return sql, {}  # let the query itself report the unterminated string
    pieces, values, position, index = [], {}, 0, 0
    while index < len(tokens):
        window = tokens[index : index + 3]
        if (
            len(window) == 3 and window[0].token_type == TokenType.L_BRACE and window[2].token_type == TokenType.R_BRACE
            and window[1].text.isidentifier()
        ):  # fmt: skip
            name = window[1].text
            if name not in namespace:
                raise ParameterError(f"{{{name}}} names no notebook variable.", hint=f"Define {name} in a cell first.")
            pieces.append(sql[position : window[0].start])
            pieces.append(f"@{name}")
            values[name] = namespace[name]
            position = window[2].end + 1
            index += 3
        else:
            index += 1
    pieces.append(sql[position:])
    return "".join(pieces), values


def run(sql: str, namespace: dict) -> pd.DataFrame | None:
    """Run ``sql`` with notebook variables bound; the last statement's rows as a DataFrame."""
    connection = _connection or default_connection()
    text, params = bind_notebook_variables(sql, namespace, connection.dialect)
    result = connection.query(text, params or None)
    return result.df() if result.columns else None


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register ``%sqlml``, ``%%sqlml``, ``%sqlml_connect`` and BigQuery's ``%%bigquery`` /
    ``%%bqsql`` (:mod:`sqlml.magics_bigquery`)."""
    from IPython.core.magic import Magics, cell_magic, line_cell_magic, line_magic, magics_class, no_var_expand

    @magics_class
    class SqlmlMagics(Magics):
        @no_var_expand  # IPython would paste {name} into the text itself; sqlml binds it instead
        @line_cell_magic
        def sqlml(self, line: str, cell: str | None = None) -> pd.DataFrame | None:
            """Run BigQuery ML SQL on the sqlml warehouse; returns a DataFrame."""
            try:
                return run(cell if cell is not None else line, self.shell.user_ns)
            except Error as error:
                print(f"Error: {error}")  # one clear message in the notebook, not a traceback
                return None

        @no_var_expand  # --params $dict_var and a $query_var cell are looked up by the magic itself
        @cell_magic
        def bigquery(self, line: str, cell: str) -> pd.DataFrame | None:
            """BigQuery's ``%%bigquery [destination_var] [--params …]`` cell magic, run on the sqlml warehouse."""
            from sqlml.magics_bigquery import run_bigquery_cell

            try:
                return run_bigquery_cell(_connection or default_connection(), line, cell, self.shell.user_ns)
            except Error as error:
                print(f"Error: {error}")
                return None

        @no_var_expand
        @cell_magic
        def bqsql(self, line: str, cell: str) -> pd.DataFrame | None:
            """``%%bqsql``: bigquery-magics' other name for ``%%bigquery``."""
            return self.bigquery(line, cell)

        @line_magic
        def sqlml_connect(self, line: str) -> None:
            """``%sqlml_connect WAREHOUSE [MODELS]``: use that warehouse and model store."""
            global _connection
            parts = line.split()
            if _connection is not None:
                _connection.close()
            _connection = connect(*parts) if parts else connect()

    ipython.register_magics(SqlmlMagics)
