"""The refusal of ``CREATE EXTERNAL TABLE``: external and object tables read their rows where they
live (Cloud Storage, Drive, Bigtable, through a connection), which sqlml does not reach.

https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_external_table_statement
— the object tables of BigQuery ML's image tutorials (``CREATE EXTERNAL TABLE … WITH CONNECTION …
OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://…'])``) among them. Both spellings said something
unclear before: "Unknown table option ." (sqlglot parses the plain form) or "sqlml does not support
the statement CREATE …" (it cannot parse WITH CONNECTION).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import Token

from sqlml.errors import Location, UnsupportedStatementError


def is_external_table(tokens: list[Token]) -> bool:
    """Whether the statement's words are CREATE [OR REPLACE] EXTERNAL TABLE."""
    words = [token.text.upper() for token in tokens[:5]]
    words = [words[0], *words[3:]] if words[1:3] == ["OR", "REPLACE"] else words
    return words[:3] == ["CREATE", "EXTERNAL", "TABLE"]


def creates_external_table(tree: exp.Expression) -> bool:
    """Whether ``tree`` is a parsed CREATE EXTERNAL TABLE."""
    return isinstance(tree, exp.Create) and tree.find(exp.ExternalProperty) is not None


def external_table_error(location: Location | None = None) -> UnsupportedStatementError:
    """The error for a CREATE EXTERNAL TABLE statement."""
    return UnsupportedStatementError(
        "sqlml does not support CREATE EXTERNAL TABLE: external and object tables read files where they live "
        "(Cloud Storage, Drive, Bigtable), which sqlml does not reach.",
        hint="Load local files into a table with LOAD DATA INTO dataset.table FROM FILES(format = 'CSV', uris = ['<local path>']).",
        location=location,
    )
