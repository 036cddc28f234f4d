"""DuckDB's file readers in a statement (``read_csv_auto('f.csv', nullstr := 'NA')``, what seeds and
:meth:`sqlml.Connection.load` write) read by Spark's own readers instead: each becomes a TEMP view
of ``spark.read`` on the same path, so a file in a lake (any Hadoop-compatible URI) loads on the
executors."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.engine.base import EngineError, Parameters
from sqlml.engine.spark.translate import inline

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["read_files"]

#: DuckDB's readers and Spark's format and default options for each.
_READERS = {
    "read_csv_auto": ("csv", {"header": "true", "inferSchema": "true"}),
    "read_csv": ("csv", {"header": "true", "inferSchema": "true"}),
    "read_parquet": ("parquet", {}),
    "read_json_auto": ("json", {}),
    "read_json": ("json", {}),
}
#: DuckDB's CSV reader options and Spark's names for them.
_OPTIONS = {"header": "header", "nullstr": "nullValue", "delim": "sep", "sep": "sep", "quote": "quote", "escape": "escape"}
_views = itertools.count()


def _reader(table: exp.Table) -> str | None:
    call = table.this
    name = call.name.lower() if isinstance(call, exp.Anonymous) else ""
    return name if name in _READERS else None


def read_files(spark: SparkSession, tree: exp.Expression, parameters: Parameters) -> tuple[exp.Expression, Parameters]:
    """``tree`` with each file reader replaced by a Spark TEMP view of the file, and the parameters
    left to bind (written in, where a reader took one)."""
    if not any(_reader(table) for table in tree.find_all(exp.Table)):
        return tree, parameters
    tree = tree.copy()
    if parameters:
        inline(tree, parameters)
    for table in [t for t in tree.find_all(exp.Table) if _reader(t)]:
        fmt, options = _READERS[_reader(table)]
        path, *settings = table.this.expressions
        options = {**options, **dict(_option(setting) for setting in settings)}
        name = f"__sqlml_file_{next(_views)}"
        spark.read.format(fmt).options(**options).load(path.name).createOrReplaceTempView(name)
        table.replace(exp.Table(this=exp.to_identifier(name), alias=table.args.get("alias")))
    return tree, None


def _option(setting: exp.Expression) -> tuple[str, str]:
    """A reader option (``nullstr := 'NA'``, ``header = true``) as Spark's ``(name, value)``."""
    name = setting.this.name.lower() if isinstance(setting, (exp.EQ, exp.PropertyEQ, exp.Kwarg)) else ""
    if name not in _OPTIONS:
        raise EngineError(f"The file reader option {setting.sql(dialect='duckdb')} has no Spark counterpart in sqlml.")
    value = setting.expression
    return _OPTIONS[name], str(value.this).lower() if isinstance(value, exp.Boolean) else value.name
