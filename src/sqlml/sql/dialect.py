"""sqlml's SQL dialects: BigQuery (the default) and DuckDB, each extended with the ML surface,
and :data:`DIALECTS`, the dialect classes by the name users pass to ``sqlml.connect(dialect=...)``.

Each dialect is its base dialect with :class:`sqlml.sql.parser.ParserAdditions` mixed into its
parser, :data:`sqlml.sql.generator.SQLML_TRANSFORMS` in its generator, and a tokenizer that no longer
swallows ``LOOP``/``BEGIN``/``CALL``/``EXECUTE …`` into one opaque string, so that
:mod:`sqlml.sql.blocks` can see the blocks of procedural SQL. Like :mod:`sqlml.sql.parser`, it
uses sqlglot's private API (the parser tables), pinned by ``tests/sql/test_dialect.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from sqlglot.dialects.bigquery import BigQuery
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.tokens import TokenType

from sqlml.sql.function_arguments import checked_builders, checked_parsers
from sqlml.sql.format_elements import format_element_fixes
from sqlml.sql.function_gaps import FUNCTION_GAPS
from sqlml.sql.generator import SQLML_TRANSFORMS
from sqlml.sql.generator_fixes import GENERATOR_FIXES
from sqlml.sql.json_conversions import json_conversions
from sqlml.sql.net_functions import NET_FUNCTIONS
from sqlml.sql.numbers import NUMBER_FIXES
from sqlml.sql.parser import ML_FUNCTION_PARSERS, JSON_LITERAL_PARSER, ParserAdditions
from sqlml.sql.string_search import string_search_fixes
from sqlml.sql.time_parts import time_part_fixes

# Tokens after which BigQuery's tokenizer swallows the rest of a statement as one string.
# Procedural statements (LOOP, WHILE, BEGIN … END, CALL, EXECUTE IMMEDIATE) must stay tokens.
_SWALLOWING = {TokenType.COMMAND, TokenType.EXECUTE, TokenType.SHOW}


class Sqlml(BigQuery):
    """BigQuery's dialect with sqlml's ML surface; ``read="sqlml"`` selects it."""

    class Tokenizer(BigQuery.Tokenizer):
        COMMANDS = BigQuery.Tokenizer.COMMANDS - _SWALLOWING
        # INT, INTEGER, SMALLINT, TINYINT and BYTEINT are INT64 in BigQuery (DuckDB's INT overflowed at 2**31)
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#integer_types
        KEYWORDS = {
            **BigQuery.Tokenizer.KEYWORDS,
            "BEGIN": TokenType.BEGIN,
            **dict.fromkeys(("INT", "INTEGER", "SMALLINT", "TINYINT", "BYTEINT"), TokenType.BIGINT),
        }

    class Parser(ParserAdditions, BigQuery.Parser):
        _BASE_FUNCTION_PARSERS = checked_parsers(BigQuery.Parser.FUNCTION_PARSERS)
        FUNCTION_PARSERS = {**_BASE_FUNCTION_PARSERS, **ML_FUNCTION_PARSERS}
        FUNCTIONS = checked_builders(BigQuery.Parser.FUNCTIONS)
        TYPE_LITERAL_PARSERS = {**BigQuery.Parser.TYPE_LITERAL_PARSERS, **JSON_LITERAL_PARSER}

    class Generator(BigQuery.Generator):
        TRANSFORMS = {**BigQuery.Generator.TRANSFORMS, **SQLML_TRANSFORMS}


class BigQueryOnDuckdb(DuckDB):
    """The output dialect for BigQuery input: DuckDB text with BigQuery's meaning kept.

    Its generator is :class:`SqlmlDuckdb`'s plus :data:`sqlml.sql.generator_fixes.GENERATOR_FIXES`
    and :data:`sqlml.sql.numbers.NUMBER_FIXES`,
    which are right only for trees parsed from BigQuery SQL (DuckDB input is generated with
    :class:`SqlmlDuckdb`). It only generates, so its tokenizer and parser are DuckDB's own: a
    sqlglot dialect class builds its tokenizers' keyword tries when it is made, and a process that
    reads only BigQuery SQL (a first ``sqlml query``) then makes two dialects, not three.
    """

    class Generator(DuckDB.Generator):
        TRANSFORMS = {**DuckDB.Generator.TRANSFORMS, **SQLML_TRANSFORMS, **GENERATOR_FIXES, **NUMBER_FIXES, **FUNCTION_GAPS}
        TRANSFORMS.update({**time_part_fixes(TRANSFORMS), **json_conversions(TRANSFORMS), **format_element_fixes(TRANSFORMS), **string_search_fixes(TRANSFORMS), **NET_FUNCTIONS})


def _sqlml_duckdb() -> type[DuckDB]:
    """:class:`SqlmlDuckdb`, made on first use (see the module's ``__getattr__``)."""

    class SqlmlDuckdb(DuckDB):
        """DuckDB's dialect with the same ML surface, for ``sqlml.connect(dialect="duckdb")``."""

        class Tokenizer(DuckDB.Tokenizer):
            COMMANDS = DuckDB.Tokenizer.COMMANDS - _SWALLOWING
            KEYWORDS = {**DuckDB.Tokenizer.KEYWORDS, "MODEL": TokenType.MODEL, "EXPORT": TokenType.EXPORT}

        class Parser(ParserAdditions, DuckDB.Parser):
            _BASE_FUNCTION_PARSERS = checked_parsers(DuckDB.Parser.FUNCTION_PARSERS)
            FUNCTION_PARSERS = {**_BASE_FUNCTION_PARSERS, **ML_FUNCTION_PARSERS}
            FUNCTIONS = checked_builders(DuckDB.Parser.FUNCTIONS)
            STATEMENT_PARSERS = {
                **DuckDB.Parser.STATEMENT_PARSERS,
                TokenType.EXPORT: lambda self: self._parse_export_data(),
            }
            PROPERTY_PARSERS = {
                **DuckDB.Parser.PROPERTY_PARSERS,
                "OPTIONS": lambda self: self._parse_with_property(),
            }

        class Generator(DuckDB.Generator):
            TRANSFORMS = {**DuckDB.Generator.TRANSFORMS, **SQLML_TRANSFORMS}

    SqlmlDuckdb.__qualname__ = SqlmlDuckdb.__name__
    return SqlmlDuckdb


_made = threading.Lock()


def __getattr__(name: str) -> type[DuckDB]:
    # PEP 562: ``SqlmlDuckdb`` is made when first asked for (``from sqlml.sql.dialect import
    # SqlmlDuckdb`` included), once per process.
    if name != "SqlmlDuckdb":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _made:
        if name not in globals():
            globals()[name] = _sqlml_duckdb()
    return globals()[name]


class _Dialects(Mapping):
    """``{"bigquery": Sqlml, "duckdb": SqlmlDuckdb}``, making the DuckDB one only when it is asked for."""

    def __getitem__(self, name: str) -> type:
        if name == "bigquery":
            return Sqlml
        if name == "duckdb":
            return __getattr__("SqlmlDuckdb")
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(("bigquery", "duckdb"))

    def __len__(self) -> int:
        return 2


#: Dialect classes by the name users pass to ``sqlml.connect(dialect=...)``.
DIALECTS: Mapping[str, type] = _Dialects()
