"""Run DuckDB statements on Spark: transpiled (:func:`~sqlml.engine.spark.translate.to_spark`), with
the statements Spark's Parquet tables have no form for written as ones they have.

* ``CREATE TABLE`` makes a Parquet table (``USING parquet``, whatever the cluster's default source);
* ``CREATE [OR REPLACE] TABLE … AS`` (Spark refuses OR REPLACE on Parquet tables) writes a
  staging table swapped in once written (:mod:`.writes`): a failed query leaves the old table, or
  none, and no files;
* ``CREATE TEMP TABLE … AS`` (Spark has no TEMP tables) becomes a TEMP view of the query's rows,
  computed once (a local checkpoint), which is what a TEMP table is to its session;
* ``CREATE [TEMP] FUNCTION f(x T) AS (expr)`` (a DuckDB macro) becomes Spark's SQL function
  ``CREATE [TEMPORARY] FUNCTION f(x T) RETURN expr``; one Spark has no form for (a parameter of
  ANY TYPE, a JavaScript body) is refused, naming what to change.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import EngineError, Parameters
from sqlml.engine.spark.catalog import column_names
from sqlml.engine.spark.errors import engine_error
from sqlml.engine.spark.files import read_files
from sqlml.engine.spark.stars import expand_star_replace
from sqlml.engine.spark.translate import parse, to_spark
from sqlml.engine.spark.writes import create_table_as, insert_into

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["run_statements"]


def run_statements(spark: SparkSession, sql: str, parameters: Parameters = None) -> DataFrame:
    """Run the statements of ``sql`` (DuckDB SQL) on Spark; the last one's rows (planned, not read)."""
    try:
        trees = parse(sql)
    except Exception as error:  # noqa: BLE001 - sqlglot's parse and tokenize errors
        raise EngineError(f"Spark engine: sqlglot could not read the statement: {error}") from error
    frame = None
    try:
        for tree in trees:
            frame = _run(spark, tree, parameters)
    except EngineError:
        raise
    except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
        raise engine_error(error) from error
    return frame if frame is not None else spark.createDataFrame([], "Count bigint")


#: Row-level writes: plain Parquet tables have none (Delta Lake or Iceberg tables would).
_ROW_WRITES = {exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Merge: "MERGE"}


def _run(spark: SparkSession, tree: exp.Expression, parameters: Parameters) -> DataFrame:
    tree, parameters = read_files(spark, tree, parameters)
    tree = expand_star_replace(tree, functools.partial(column_names, spark))  # Spark SQL has no * REPLACE
    verb = _ROW_WRITES.get(type(tree))
    if verb is not None:
        raise EngineError(
            f"{verb} is not available on the Spark engine: its tables are Parquet files, which have no row-level "
            "writes. Write the table anew with CREATE OR REPLACE TABLE … AS SELECT (the rows to keep, changed)."
        )
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "FUNCTION":
        return spark.sql(_function(tree))
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
        if _is_temporary(tree):
            return _temp_table(spark, tree, parameters)
        tree = _as_parquet(tree)
        if tree.expression is not None:
            create_table_as(spark, tree, parameters)
            return spark.createDataFrame([], "Count bigint")
        if tree.args.get("replace"):
            spark.sql(f"DROP TABLE IF EXISTS {to_spark(tree.find(exp.Table))}")
            tree.set("replace", False)
    if isinstance(tree, exp.Insert):
        insert_into(spark, tree, parameters)
        return spark.createDataFrame([], "Count bigint")
    return spark.sql(to_spark(tree, parameters))


def _is_temporary(tree: exp.Create) -> bool:
    properties = tree.args.get("properties")
    return properties is not None and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)


def _as_parquet(tree: exp.Create) -> exp.Create:
    """``tree`` with ``USING parquet`` unless it names a format."""
    properties = tree.args.get("properties")
    if properties is not None and any(isinstance(p, exp.FileFormatProperty) for p in properties.expressions):
        return tree
    tree = tree.copy()
    parquet = exp.FileFormatProperty(this=exp.Var(this="parquet"))
    if properties is None:
        tree.set("properties", exp.Properties(expressions=[parquet]))
    else:
        properties.append("expressions", parquet)
    return tree


def _function(tree: exp.Create) -> str:
    """Spark's ``CREATE [OR REPLACE] [TEMPORARY] FUNCTION name(x T, …) RETURN body`` for DuckDB's
    ``CREATE … FUNCTION name(x T, …) AS (body)`` (Spark takes ``AS`` for a class name)."""
    signature = tree.this
    name = to_spark(signature.this)
    untyped = [parameter.name for parameter in signature.expressions if not isinstance(parameter, exp.ColumnDef)]
    if untyped:
        raise EngineError(
            f"CREATE FUNCTION {name}: Spark's SQL functions need a type for every parameter, and "
            f"{', '.join(untyped)} {'is' if len(untyped) == 1 else 'are'} ANY TYPE. Declare the type "
            f"({untyped[0]} INT64, …) to run it on the Spark engine."
        )
    body = tree.expression
    if body is None or (isinstance(body, exp.Literal) and body.is_string):
        raise EngineError(f"CREATE FUNCTION {name}: the Spark engine runs SQL functions only (AS (expression)), not JavaScript.")
    head = " ".join(
        word
        for word, present in (("OR REPLACE", tree.args.get("replace")), ("TEMPORARY", _is_temporary(tree)), ("FUNCTION", True))
        if present
    )
    exists = " IF NOT EXISTS" if tree.args.get("exists") else ""
    parameters = ", ".join(to_spark(parameter) for parameter in signature.expressions)
    return f"CREATE {head}{exists} {name}({parameters}) RETURN {to_spark(body)}"


def _temp_table(spark: SparkSession, tree: exp.Create, parameters: Parameters) -> DataFrame:
    """CREATE TEMP TABLE name AS query: a TEMP view of the query's rows, computed once."""
    if tree.expression is None:
        raise EngineError("The Spark engine has no TEMP tables declared by columns; use CREATE TEMP TABLE … AS SELECT.")
    name = tree.find(exp.Table).name
    rows = spark.sql(to_spark(tree.expression, parameters)).localCheckpoint()
    rows.createOrReplaceTempView(name)
    return spark.createDataFrame([], "Count bigint")
