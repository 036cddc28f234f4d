"""Where a statement the layers above send runs, and its Spark SQL.

The layers above the seam write DuckDB SQL (sqlglot generates it from the user's BigQuery SQL,
and sqlml's own bookkeeping is written in it in ~85 places), so this engine receives DuckDB SQL
and transpiles it with sqlglot (``read="duckdb"``, ``write="spark"``): one front end for both
engines, and the per-function fixes the front end makes for BigQuery's meaning carry over.

Two places hold the warehouse (see :mod:`sqlml.engine.spark.engine`):

* the datasets live in Spark (:data:`SPARK`): user tables and views, as Parquet;
* sqlml's own bookkeeping (:data:`META`) lives in a DuckDB file beside them: the ``sqlml_meta``
  schema (it needs transactions, ``UPDATE`` and keys, which Parquet tables lack), session
  settings, transactions, the catalog functions (``duckdb_tables()``…, answered from Spark's
  catalog: :mod:`sqlml.engine.spark.catalog`) and the TEMP views defined over them.

Which side runs a statement is read from its tree as sqlglot parses it (:func:`side`): statement
kinds, the relations it names, the functions it calls. Never from the text: a name in a string, a
column or an alias is not a relation.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlml.engine.base import EngineError
from sqlml.engine.spark.array_subqueries import array_subqueries
from sqlml.engine.spark.functions import spark_functions
from sqlml.engine.spark.inline import inline_structs
from sqlml.engine.spark.laterals import lateral_unnest_joins
from sqlml.engine.spark.offsets import posexplode_offsets
from sqlml.engine.spark.ordered_aggregates import sorted_array_aggs
from sqlml.sql.duckdb_names import CATALOG, META_SCHEMA

__all__ = [
    "CATALOG_FUNCTIONS",
    "META",
    "SPARK",
    "catalog_view_name",
    "inline",
    "parse",
    "reads_catalog",
    "reads_meta_catalog",
    "side",
    "statements",
    "to_spark",
    "with_catalog_views",
]

META = "meta"
SPARK = "spark"

#: Statements about the session itself (DuckDB's settings, transactions, extensions): DuckDB's business.
_SESSION_KINDS = (exp.Set, exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.Pragma, exp.Install, exp.Attach, exp.Detach)
#: DuckDB's session statements sqlglot keeps as a Command (``RESET x``, ``LOAD x``) or reads as a
#: bare word (``ABORT``, ``CHECKPOINT``).
_SESSION_WORDS = frozenset({"RESET", "LOAD", "ABORT", "CHECKPOINT"})
#: DuckDB's catalog functions the layers above read, answered from Spark's catalog on the DuckDB side.
CATALOG_FUNCTIONS = ("duckdb_schemas", "duckdb_tables", "duckdb_views", "duckdb_columns")
#: The catalog DuckDB keeps a session's TEMP relations in (``temp.main.x``, ``temp.x``).
_TEMP = "temp"


def catalog_view_name(function: str) -> str:
    """The DuckDB TEMP view standing in for the catalog function ``function`` (``duckdb_tables``)."""
    return f"__sqlml_spark_{function}"


@functools.lru_cache(maxsize=512)
def parse(sql: str) -> tuple[exp.Expression, ...]:
    """The statements of ``sql`` (DuckDB SQL), parsed once per text; callers copy before changing them."""
    return tuple(tree for tree in sqlglot.parse(sql, read="duckdb") if tree is not None)


@functools.lru_cache(maxsize=512)
def statements(sql: str) -> tuple[exp.Expression, ...] | None:
    """:func:`parse`'s statements, or None when sqlglot cannot read ``sql`` (remembered too: the
    bookkeeping's unreadable statements come back on every write)."""
    try:
        return parse(sql)
    except SqlglotError:
        return None


def side(sql: str, meta_views: frozenset[str]) -> str:
    """:data:`META` or :data:`SPARK`: which side runs ``sql``, decided on its parsed statements.

    DuckDB's side takes a statement about the session (``SET``, ``USE``, ``BEGIN``/``COMMIT``/
    ``ROLLBACK``, ``PRAGMA``, ``INSTALL``/``LOAD``, ``ATTACH``…), one naming a relation of
    ``sqlml_meta`` (in any catalog: ``warehouse.sqlml_meta.runs``) or of DuckDB's TEMP catalog
    (``temp.main.x``), one reading a relation it holds by its bare name (``meta_views``: lower-case
    names; a CTE of the same name shadows it), or one calling a catalog function (``duckdb_tables()``).
    Spark takes every other statement. Only table references count: a column, alias or string
    literal that spells one of these names does not.

    Text sqlglot cannot read goes to DuckDB's side: the layers above write the user's statements
    with sqlglot (so it reads them back), and what it cannot read is sqlml's own bookkeeping,
    written for DuckDB (``unnest(?::VARCHAR[])``, which sqlglot's tokenizer splits wrongly).
    """
    trees = statements(sql)
    if trees is None:
        return META
    return META if any(_on_meta(tree, meta_views) for tree in trees) else SPARK


def _on_meta(tree: exp.Expression, meta_views: frozenset[str]) -> bool:
    if isinstance(tree, _SESSION_KINDS) or _is_session_word(tree) or _calls_catalog(tree):
        return True
    return any(_is_meta_relation(table, meta_views) for table in _tables(tree))


def _is_session_word(tree: exp.Expression) -> bool:
    if isinstance(tree, exp.Command):
        return tree.name.upper() in _SESSION_WORDS
    return isinstance(tree, exp.Column) and not tree.table and tree.name.upper() in _SESSION_WORDS


def _tables(tree: exp.Expression) -> list[exp.Table]:
    """The relations ``tree`` names, but not the CTEs it defines and reads by name."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    return [table for table in tree.find_all(exp.Table) if table.db or table.name.lower() not in ctes]


def _is_meta_relation(table: exp.Table, meta_views: frozenset[str]) -> bool:
    """Whether ``table`` (also a schema: ``CREATE SCHEMA sqlml_meta`` names it as ``db``) is DuckDB's."""
    db, catalog = table.db.lower(), table.catalog.lower()
    if db == META_SCHEMA or catalog == _TEMP or (db == _TEMP and not catalog):
        return True
    return not db and table.name.lower() in meta_views


def _calls_catalog(tree: exp.Expression) -> bool:
    return any(call.name.lower() in CATALOG_FUNCTIONS for call in tree.find_all(exp.Anonymous))


def reads_catalog(sql: str) -> bool:
    """Whether ``sql`` calls a catalog function the DuckDB side answers from Spark's catalog."""
    trees = statements(sql)
    if trees is None:
        _refuse_unread_catalog_call(sql)
        return False
    return any(_calls_catalog(tree) for tree in trees)


def reads_meta_catalog(sql: str, meta_views: frozenset[str]) -> bool:
    """Whether ``sql`` reads Spark's catalog through DuckDB's side: a catalog function, or a TEMP
    relation held there (INFORMATION_SCHEMA's views are defined over the catalog functions), so
    that the stand-ins of the catalog functions must be refreshed first."""
    if reads_catalog(sql):
        return True
    trees = statements(sql) or ()
    return any(
        table.catalog.lower() == _TEMP or (not table.db and table.name.lower() in meta_views) for tree in trees for table in _tables(tree)
    )


def with_catalog_views(sql: str) -> str:
    """``sql`` (DuckDB SQL) reading the stand-ins of the catalog functions, which list Spark's
    datasets beside DuckDB's own (``FROM duckdb_tables() AS t`` → ``FROM __sqlml_spark_duckdb_tables
    AS t``); ``sql`` as it is when it calls none."""
    if not reads_catalog(sql):
        return sql
    return ";\n".join(tree.transform(_stand_in).sql(dialect="duckdb") for tree in parse(sql))


def _stand_in(node: exp.Expression) -> exp.Expression:
    call = node.this if isinstance(node, exp.Table) else None
    if isinstance(call, exp.Anonymous) and call.name.lower() in CATALOG_FUNCTIONS:
        return exp.Table(this=exp.to_identifier(catalog_view_name(call.name.lower())), alias=node.args.get("alias"))
    return node


def _refuse_unread_catalog_call(sql: str) -> None:
    """Raise if text sqlglot cannot parse calls a catalog function (seen in sqlglot's tokens): its
    stand-in cannot be put in, and DuckDB alone would answer without Spark's datasets."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(sql)
    except SqlglotError:
        return
    for token, following in zip(tokens, tokens[1:]):
        if token.text.lower() in CATALOG_FUNCTIONS and following.token_type == sqlglot.TokenType.L_PAREN:
            raise EngineError(
                f"The Spark engine cannot answer {token.text}() in a statement sqlglot cannot read: its rows would "
                f"miss Spark's datasets. The statement: {sql}"
            )


def to_spark(tree: exp.Expression, parameters: Mapping[str, Any] | Sequence[Any] | None = None) -> str:
    """Spark SQL for one parsed DuckDB statement, with its parameters written in as literals
    (Spark takes no parameters in DDL, and a literal is typed as DuckDB binds the value)."""
    tree = tree.copy()
    for table in tree.find_all(exp.Table):
        if table.catalog.lower() == CATALOG:  # Spark's session catalog holds the datasets
            table.set("catalog", None)
    tree = lateral_unnest_joins(inline_structs(posexplode_offsets(array_subqueries(tree))))
    tree = spark_functions(sorted_array_aggs(tree))
    if parameters:
        inline(tree, parameters)
    return tree.sql(dialect="spark")


def inline(tree: exp.Expression, parameters: Mapping[str, Any] | Sequence[Any]) -> None:
    """Replace ``?``, ``$1`` and ``$name`` with the literal of their value."""
    positional = iter(parameters) if not isinstance(parameters, Mapping) else None
    for node in list(tree.find_all(exp.Placeholder)):
        name = node.name
        if isinstance(parameters, Mapping):
            value = parameters[name]
        elif name.isdigit():
            value = parameters[int(name) - 1]
        else:
            value = next(positional)
        node.replace(exp.convert(value))
