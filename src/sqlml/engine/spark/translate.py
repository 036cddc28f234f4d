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
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from sqlml.engine.spark.functions import spark_functions
from sqlml.sql.duckdb_names import CATALOG, META_SCHEMA

__all__ = ["CATALOG_FUNCTIONS", "META", "SPARK", "catalog_view_name", "inline", "parse", "side", "to_spark"]

META = "meta"
SPARK = "spark"

#: Statements about the session itself (DuckDB settings, transactions): DuckDB's business.
_SESSION_STATEMENT = re.compile(r"^\s*(USE|SET|RESET|BEGIN|COMMIT|ROLLBACK|ABORT|PRAGMA|CHECKPOINT|INSTALL|LOAD)\b", re.I)
#: DuckDB's catalog functions the layers above read, answered from Spark's catalog on the DuckDB side.
CATALOG_FUNCTIONS = ("duckdb_schemas", "duckdb_tables", "duckdb_views", "duckdb_columns")
#: A name in sqlml's bookkeeping schema, or in DuckDB's TEMP catalog.
_META_NAME = re.compile(rf"\b{META_SCHEMA}\b|\btemp\.", re.I)
_CATALOG_CALL = re.compile(r"\b(" + "|".join(CATALOG_FUNCTIONS) + r")\(\)", re.I)


def catalog_view_name(function: str) -> str:
    """The DuckDB TEMP view standing in for the catalog function ``function`` (``duckdb_tables``)."""
    return f"__sqlml_spark_{function}"


def with_catalog_views(sql: str) -> str:
    """``sql`` (DuckDB SQL) reading the stand-ins of the catalog functions, which list Spark's
    datasets beside DuckDB's own (``FROM duckdb_tables() AS t`` → ``FROM __sqlml_spark_duckdb_tables AS t``)."""
    return _CATALOG_CALL.sub(lambda match: catalog_view_name(match.group(1).lower()), sql)


def reads_catalog(sql: str) -> bool:
    """Whether ``sql`` calls a catalog function the DuckDB side answers from Spark's catalog."""
    return _CATALOG_CALL.search(sql) is not None


@functools.lru_cache(maxsize=512)
def parse(sql: str) -> tuple[exp.Expression, ...]:
    """The statements of ``sql`` (DuckDB SQL), parsed once per text; callers copy before changing them."""
    return tuple(tree for tree in sqlglot.parse(sql, read="duckdb") if tree is not None)


def side(sql: str, meta_views: frozenset[str]) -> str:
    """:data:`META` or :data:`SPARK`: which side runs ``sql``.

    DuckDB's side takes session statements, statements naming ``sqlml_meta``, a TEMP catalog
    relation (``temp.main.x``), a view it holds (``meta_views``: lower-case names) or a catalog
    function; Spark takes every other statement. Decided on the text, without parsing it: the
    bookkeeping's DuckDB SQL (``unnest(?::VARCHAR[])``) need not be SQL sqlglot reads.
    """
    if _SESSION_STATEMENT.match(sql) or _META_NAME.search(sql) or reads_catalog(sql):
        return META
    if meta_views and any(re.search(rf"\b{re.escape(view)}\b", sql, re.I) for view in meta_views):
        return META
    return SPARK


def to_spark(tree: exp.Expression, parameters: Mapping[str, Any] | Sequence[Any] | None = None) -> str:
    """Spark SQL for one parsed DuckDB statement, with its parameters written in as literals
    (Spark takes no parameters in DDL, and a literal is typed as DuckDB binds the value)."""
    tree = tree.copy()
    for table in tree.find_all(exp.Table):
        if table.catalog.lower() == CATALOG:  # Spark's session catalog holds the datasets
            table.set("catalog", None)
    tree = spark_functions(tree)
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
