"""``LOAD DATA {INTO|OVERWRITE} table [(schema)] FROM FILES(format=…, uris=[…], …)``: local files
read by DuckDB's readers (``read_csv``, ``read_parquet``, ``read_json``) into a table.

INTO creates the table or appends to it, OVERWRITE replaces its rows (and, with a schema, its
columns). A created or replaced table keeps its PARTITION BY / CLUSTER BY / OPTIONS as CREATE TABLE
does (:mod:`~sqlml.warehouse.partitions`); ``WITH PARTITION COLUMNS`` reads the ``key=value``
folders of the uris as columns (DuckDB's hive partitioning). A CSV loaded into an existing table is read with that table's columns, as BigQuery
reads it with the destination's schema. The whole load is one transaction in the table's write
turn: a file that does not read leaves the table as it was.
https://cloud.google.com/bigquery/docs/reference/standard-sql/load-statements
"""

from __future__ import annotations

import glob

from sqlglot import exp

from sqlml.engine.base import Cursor
from sqlml.errors import InvalidOptionError, NotFoundError
from sqlml.execution.context import StatementContext, atomic
from sqlml.result import Result
from sqlml.warehouse import modification_log, partitions
from sqlml.warehouse.file_options import file_format, local_path, read_options

STATEMENT = "LOAD DATA"
#: The FILES(…) options sqlml reads (a subset of BigQuery's load_option_list on the page above).
OPTIONS = frozenset({"format", "uris", "skip_leading_rows", "field_delimiter", "quote", "null_marker", "hive_partition_uri_prefix"})
#: Options that apply to CSV only.
_CSV_ONLY = ("skip_leading_rows", "field_delimiter", "quote", "null_marker")


def load_data(context: StatementContext) -> Result:
    """Run ``LOAD DATA {INTO|OVERWRITE} [TEMP TABLE] table [(columns)] FROM FILES(…)``.

    Raises:
        InvalidOptionError: an unknown option or format, a cloud uri, or no uris.
        NotFoundError: a uri matches no file.
    """
    tree = context.plan.tree
    connection = tree.args.get("connection")
    if isinstance(connection, exp.Expression):
        raise InvalidOptionError(
            f"{STATEMENT} WITH CONNECTION {connection.sql(dialect='bigquery')} reads cloud storage, which sqlml cannot reach.",
            option="connection",
            hint="Remove WITH CONNECTION and load local files: FROM FILES(format=…, uris=['/data/part-*.csv']).",
        )
    schema = tree.this if isinstance(tree.this, exp.Schema) else None
    ref = schema.this if schema is not None else tree.this
    options = read_options(tree.args.get("files"), STATEMENT, OPTIONS)
    fmt = file_format(options, STATEMENT)
    if fmt == "AVRO":
        raise InvalidOptionError(f"{STATEMENT} cannot read format 'AVRO' in sqlml.", option="format", hint="Convert the files to PARQUET, CSV or JSON.")
    misplaced = next((name for name in _CSV_ONLY if name in options and fmt != "CSV"), None)
    if misplaced:
        raise InvalidOptionError(f"The '{misplaced}' option of {STATEMENT} applies to format='CSV' only (format is '{fmt}').", option=misplaced)
    load = _Load(context, ref, schema, fmt, options, _paths(options.get("uris")))
    if ref.db and not tree.args.get("temp"):
        return modification_log.write_in_turn(context.executor, ref, load.run)
    return load.run()


def _paths(uris: object) -> list[str]:
    if isinstance(uris, str):
        uris = [uris]
    if not isinstance(uris, list) or not uris:
        raise InvalidOptionError(
            f"{STATEMENT} needs the option uris, a non-empty ARRAY of paths.", option="uris", hint="FROM FILES(format='CSV', uris=['/data/part-*.csv'])"
        )
    paths = [local_path(uri, STATEMENT, "uris") for uri in uris]
    for path in paths:
        if not glob.glob(path):
            raise NotFoundError(f"{STATEMENT} found no file matching the uri '{path}'.", hint="Check the path (globs such as /data/part-*.csv are allowed).")
    return paths


class _Load:
    """One LOAD DATA statement's write, run in the table's turn."""

    def __init__(self, context: StatementContext, ref: exp.Table, schema: exp.Schema | None, fmt: str, options: dict, paths: list[str]):
        self.context, self.ref, self.schema, self.fmt, self.options, self.paths = context, ref, schema, fmt, options, paths
        tree = context.plan.tree
        self.temp, self.overwrite = bool(tree.args.get("temp")), bool(tree.args.get("overwrite"))
        # PARTITION BY / CLUSTER BY / OPTIONS as CREATE TABLE reads them, kept for a created table
        properties = tree.args.get("properties")
        target = (schema if schema is not None else ref).copy()
        self.partitioning = partitions.take_partitioning(exp.Create(this=target, kind="TABLE", properties=properties.copy())) if properties else None
        hive = tree.args.get("partition_columns")  # WITH PARTITION COLUMNS: key=value folders of the uris
        self.hive = None if hive is None else [(c.name, c.args["kind"].sql(dialect="duckdb")) for c in hive.expressions]

    def run(self) -> Result:
        executor = self.context.executor
        name = self.ref.sql(dialect="duckdb")
        with executor.engine.lease() as cursor, atomic(executor, cursor):
            existing = self._columns(cursor)
            replace = not existing or self.overwrite
            if replace and self.schema is not None:  # the given schema, typed as CREATE TABLE types it
                create = exp.Create(this=self.schema.copy(), kind="TABLE", replace=True, properties=self._properties())
                cursor.execute(executor.renderer(self.context.params).render(create, cursor, self.context.sources)[0])
                existing = self._columns(cursor)
            reader = self._reader(existing or None)
            if replace and self.schema is None:
                rows = cursor.execute(f"CREATE OR REPLACE {'TEMP ' if self.temp else ''}TABLE {name} AS SELECT * FROM {reader}").fetchall()
            else:
                rows = cursor.execute(f"INSERT INTO {name} BY NAME SELECT * FROM {reader}").fetchall()
            if self.ref.db and not self.temp:
                if replace:  # a replaced table loses its old spec
                    partitions.record(cursor, self.ref.db, self.ref.name, self.partitioning)
                modification_log.record(executor.engine, cursor, self.ref.db, self.ref.name, None if replace else [modification_log.WHOLE_TABLE])
        return Result.empty(STATEMENT, rows[0][0] if rows and isinstance(rows[0][0], int) else -1)

    def _columns(self, cursor: Cursor) -> list[tuple[str, str]]:
        return cursor.table_columns(self.ref.db, self.ref.name) if self.ref.db else _temp_columns(cursor, self.ref.name)

    def _properties(self) -> exp.Properties | None:
        return exp.Properties(expressions=[exp.TemporaryProperty()]) if self.temp else None

    def _reader(self, columns: list[tuple[str, str]] | None) -> str:
        files = exp.Array(expressions=[exp.Literal.string(p) for p in self.paths]).sql(dialect="duckdb")
        hive = self._hive_arguments()
        if columns and self.hive:  # the partition columns come from the folder names, not the files
            names = {name.lower() for name, _ in self.hive}
            columns = [(c, t) for c, t in columns if c.lower() not in names]
        if self.fmt == "PARQUET":
            return f"read_parquet({files}{hive})"
        if self.fmt == "JSON":  # BigQuery's JSON is newline-delimited
            typed = f", columns = {_struct(columns)}" if columns else ""
            return f"read_json({files}, format = 'newline_delimited'{typed}{hive})"
        return f"read_csv({files}, {', '.join(self._csv_arguments(columns))}{hive})"

    def _hive_arguments(self) -> str:
        if self.hive is None:
            return ""
        return ", hive_partitioning = true" + (f", hive_types = {_struct(self.hive)}" if self.hive else "")

    def _csv_arguments(self, columns: list[tuple[str, str]] | None) -> list[str]:
        options, skip = self.options, self.options.get("skip_leading_rows")
        if not isinstance(skip, (int, type(None))) or isinstance(skip, bool) or (skip or 0) < 0:
            raise InvalidOptionError(f"The 'skip_leading_rows' option of {STATEMENT} must be an INT64 >= 0. Got {skip!r} instead.", option="skip_leading_rows")
        if columns:  # the rows are read into the given (or the table's) columns; the header is skipped
            arguments = [f"columns = {_struct(columns)}", "header = false", f"skip = {skip or 0}"]
        elif skip is None:
            arguments = []  # DuckDB detects a header row, as BigQuery's schema auto-detection does
        else:  # the last skipped row names the columns
            arguments = [f"header = {'true' if skip else 'false'}", f"skip = {max(skip - 1, 0)}"]
        text = {"field_delimiter": "delim", "quote": "quote", "null_marker": "nullstr"}
        arguments += [f"{duck} = {exp.Literal.string(str(options[bq])).sql(dialect='duckdb')}" for bq, duck in text.items() if bq in options]
        return arguments or ["auto_detect = true"]


def _struct(columns: list[tuple[str, str]]) -> str:
    # DuckDB readers take column types as {'name': 'TYPE', …}
    pairs = [exp.PropertyEQ(this=exp.Literal.string(c), expression=exp.Literal.string(t)) for c, t in columns]
    return exp.Struct(expressions=pairs).sql(dialect="duckdb")


def _temp_columns(cursor: Cursor, name: str) -> list[tuple[str, str]]:
    # an unqualified name is a session (TEMP) table; a registered view of the same name is no table
    rows = cursor.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'temp' AND lower(table_name) = lower(?) ORDER BY column_index", [name]
    ).fetchall()
    return [(column, kind) for column, kind in rows]
