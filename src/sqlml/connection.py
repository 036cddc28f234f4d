"""A session on a warehouse and a model store: the object every front door talks to."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlml.engine.base import EngineError, SqlEngine
from sqlml.engine.duckdb.engine import DuckDBEngine
from sqlml.errors import Error, ModelError, ParameterError, SqlSyntaxError, WarehouseError
from sqlml.execution.known import run_known
from sqlml.ml.compiled.switch import compiling
from sqlml.result import Result
from sqlml.sql import known_statements
from sqlml.udfs import duckdb_installers

# The executor, the statement table, the model store, sqlglot and Arrow load when a statement
# first needs them: a statement run before (sqlml.sql.known_statements) needs none of them.
if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sqlglot import exp

    from sqlml.execution.executor import Executor
    from sqlml.store import ModelStore

MEMORY = ":memory:"
#: Dialect names known good without importing sqlglot (:data:`sqlml.sql.dialect.DIALECTS`'); the
#: executor checks any other name when the connection opens.
_PLAIN_DIALECTS = ("bigquery", "duckdb")

_READERS = {
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".parquet": "read_parquet",
    ".json": "read_json_auto",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
}


class Connection:
    """A sqlml session: SQL in, results out, models trained and used along the way.

    Open one with :func:`sqlml.connect`. A connection may be used from several threads at once
    (each thread gets its own DuckDB cursor); session state — script variables, registered
    DataFrames, the open transaction — belongs to the connection. While a transaction is open,
    every statement of the connection, from any thread, runs in it, one at a time; a thread that
    needs a transaction of its own uses a session of its own from :meth:`cursor`.

    Args:
        warehouse: the warehouse folder, or ``":memory:"``.
        models: the model store folder; with an in-memory warehouse and the default value, a
            temporary folder removed on :meth:`close`, or when the connection is garbage-collected
            or the interpreter exits without it.
        dialect: ``"bigquery"`` (default) or ``"duckdb"``: how the SQL is written.
        read_only: open the warehouse read-only.
        lock_timeout: seconds to wait for another process to release the warehouse.
        idle_release: seconds of idleness after which the warehouse file is released.
        config: extra DuckDB settings.
        engine: ``"duckdb"`` (default) or ``"spark"``: where the datasets live and the SQL runs.
        spark: with ``engine="spark"``, a SparkSession or the master URL of one to start
            (default ``local[2]``).
        compile: score tree models through their compiled form when the rows justify it
            (default); ``False`` keeps LightGBM's own predictor, as ``SQLML_COMPILE=off`` does
            for the whole process.
    """

    def __init__(
        self,
        warehouse: str | os.PathLike = "warehouse",
        models: str | os.PathLike | None = "models",
        dialect: str = "bigquery",
        *,
        read_only: bool = False,
        lock_timeout: float = 30.0,
        idle_release: float = 0.2,
        config: dict | None = None,
        engine: str = "duckdb",
        spark: object = None,
        compile: bool = True,  # noqa: A002 - the option's name in sqlml.connect(compile=False)
    ):
        in_memory = str(warehouse) == MEMORY
        temporary = models is None or (in_memory and str(models) == "models")
        if temporary:
            models = tempfile.mkdtemp(prefix="sqlml-models-")
        self.warehouse_path = None if in_memory else Path(warehouse)
        self.models_path = Path(models)
        try:
            self.models_path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            from sqlml.store.faults import folder_failed  # sqlite3 loads only when a folder is refused

            raise folder_failed(error, self.models_path, "model store", ModelError) from None
        if engine not in ("duckdb", "spark"):
            raise Error(f"Unknown engine {engine!r}.", hint='Use engine="duckdb" (the default) or engine="spark".')
        if engine == "spark":
            from sqlml.engine.spark.engine import SparkEngine  # pyspark loads only for engine="spark"

            make_engine = functools.partial(SparkEngine, spark=spark)
        else:
            make_engine = DuckDBEngine
        try:
            self._warehouse = make_engine(
                None if in_memory else warehouse,
                read_only=read_only,
                lock_timeout=lock_timeout,
                idle_release=idle_release,
                config=config,
                functions=duckdb_installers(),
            )
        except OSError as error:
            if isinstance(error, Error):  # WarehouseLockedError: already said
                raise
            from sqlml.store.faults import folder_failed

            raise folder_failed(error, Path(warehouse), "warehouse", WarehouseError) from None
        self._models: ModelStore | None = None
        self._made_executor: Executor | None = None
        self._dialect = dialect
        self._compile = compile
        self._lock = threading.Lock()
        if dialect not in _PLAIN_DIALECTS:
            self._executor  # noqa: B018 - refuses an unknown dialect now
        self._parent: Connection | None = None
        self._sessions: weakref.WeakSet[Connection] = weakref.WeakSet()
        # Also run when the connection is garbage-collected or the interpreter exits unclosed.
        self._finalizer = weakref.finalize(self, _remove_folder, self.models_path if temporary else None)

    def cursor(self) -> "Connection":
        """A new session on the same warehouse and model store, with its own transaction.

        Like DuckDB's ``cursor()``: it shares this connection's DuckDB instance, its hold on the
        warehouse file and its registered data, and has its own transaction, TEMP tables and
        script variables — for a thread that runs transactions of its own beside others. Close
        it when done; closing this connection ends it too.
        """
        session = Connection.__new__(Connection)
        session.warehouse_path, session.models_path, session._models = self.warehouse_path, self.models_path, self.models
        session._warehouse = self._warehouse.session()
        session._dialect, session._lock, session._compile = self.dialect, threading.Lock(), self._compile
        session._made_executor = _new_executor(session._warehouse, self.models, self.dialect)
        session._parent = self  # keeps the shared instance open while the session is used
        session._sessions = weakref.WeakSet()
        session._finalizer = weakref.finalize(session, session._warehouse.close)
        self._sessions.add(session)
        return session

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection (begun by any thread)."""
        return self._warehouse.transaction_open

    @property
    def models(self) -> ModelStore:
        """The model store (opened on first use: a plain query never needs it)."""
        if self._models is None:
            from sqlml.store import ModelStore

            with self._lock:
                if self._models is None:
                    self._models = ModelStore(self.models_path)
        return self._models

    @property
    def _executor(self) -> Executor:
        """The executor (made on first use, with the statement table it imports)."""
        if self._made_executor is None:
            executor = _new_executor(self._warehouse, _models_on_demand(self), self._dialect)
            with self._lock:
                if self._made_executor is None:
                    self._made_executor = executor
        return self._made_executor

    @property
    def dialect(self) -> str:
        """How this connection reads SQL: ``"bigquery"`` or ``"duckdb"``."""
        return self._dialect

    @dialect.setter
    def dialect(self, value: str) -> None:
        _new_executor(self._warehouse, _models_on_demand(self), value)  # validates the name
        self._executor.dialect = self._dialect = value

    def query(self, sql: str, params: Mapping | Sequence | None = None, *, path: str | None = None) -> Result:
        """Run one statement or a whole script and return the last statement's result.

        Args:
            sql: the SQL text; statements are separated by semicolons.
            params: values for ``@name`` parameters (a dict) or ``?`` parameters (a list),
                bound as values, never pasted into the SQL text.
            path: the file the SQL came from, named in error messages.

        Raises:
            sqlml.Error: the first statement that failed, with its position and a hint.
        """
        with self._warehouse.statement(), compiling(self._compile):
            result = self._known_result(sql, params, path)
            if result is None:
                result = self._executor.execute(sql, params, path)
            if self._warehouse.in_transaction:
                # Read now, in the transaction and this call's turn: later, another thread's
                # statement may be using the transaction's cursor, or the transaction be over.
                try:
                    result.arrow()
                except BaseException:
                    from sqlml.execution.context import rollback

                    rollback(self._executor)
                    raise
            return result

    execute = query

    def _known_result(self, sql: str, params: Mapping | Sequence | None, path: str | None) -> Result | None:
        """The rows of a statement whose DuckDB text is remembered (:mod:`sqlml.sql.known_statements`),
        run without parsing it — or, on its first run, whose DuckDB text DuckDB's own parser decides
        (:mod:`sqlml.engine.duckdb.bigquery_alike`); None when neither, or when this session's state could change
        what it means (parameters, script variables, an open transaction)."""
        made = self._made_executor
        if params is not None or not isinstance(sql, str) or self._warehouse.transaction_open or (made is not None and not made.runs_known_statements()):
            return None
        known, first = known_statements.lookup(sql, self._dialect), False
        if known is None and self._dialect == "bigquery" and isinstance(self._warehouse, DuckDBEngine):
            from sqlml.engine.duckdb.bigquery_alike import translate  # a first run that DuckDB's parser can decide

            try:
                with self._warehouse.lease() as cursor:
                    known, first = translate(sql, cursor), True
            except EngineError:
                return None
        if known is None:
            return None
        try:
            result = run_known(self._warehouse, known, lambda error: self._executor.read_error(sql, path, error))
        except EngineError:
            return None  # the full path runs it again and says why
        if first:
            known_statements.remember(sql, self._dialect, known)  # as the full path's first run does
        return result

    def register(self, name: str, data: pd.DataFrame | pa.Table | pa.RecordBatch) -> None:
        """Make a pandas DataFrame or Arrow table/batch readable as ``name`` in later queries."""
        import pyarrow as pa

        if not isinstance(data, (pa.Table, pa.RecordBatch)) and not hasattr(data, "to_numpy"):
            raise ParameterError(f"Cannot register {type(data).__name__}: pass a pandas DataFrame or an Arrow table.")
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        self._warehouse.register(name, data)

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""
        self._warehouse.unregister(name)

    def load(
        self, table: str, path: str | os.PathLike, *, format: str | None = None, replace: bool = True, **reader_options
    ) -> int:
        """Create (or replace) ``table`` from a CSV, Parquet or JSON file; return its row count.

        Args:
            table: ``dataset.table``; the dataset is created if missing.
            path: the file (or a glob such as ``data/*.parquet``).
            format: ``csv``, ``parquet`` or ``json``; inferred from the file extension if omitted.
            replace: replace an existing table (otherwise it is an error).
            **reader_options: options of DuckDB's reader, e.g. ``nullstr='NA'`` for a CSV file
                that writes missing values as ``NA``; bound as values.
        """
        from sqlml.execution.context import atomic, rollback
        from sqlml.warehouse import modification_log

        reader = _reader_for(path, format)
        for key in reader_options:
            if not key.isidentifier():
                raise ParameterError(f"{key!r} is not a reader option name.")
        extra = "".join(f", {key} := $opt_{key}" for key in reader_options)
        values = {"path": str(path), **{f"opt_{key}": value for key, value in reader_options.items()}}
        target = _table_name(table)
        dataset = target.args.get("db")
        create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE"
        target_sql = target.sql(dialect="duckdb")

        def write() -> int:
            with self._warehouse.lease() as cursor, atomic(self._executor, cursor):
                if dataset is not None:
                    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.sql(dialect='duckdb')}")
                cursor.execute(f"{create} {target_sql} AS SELECT * FROM {reader}($path{extra})", values)
                if dataset is not None:  # for materialized views over it and INFORMATION_SCHEMA.PARTITIONS
                    modification_log.record(self._warehouse, cursor, target.db, target.name, None)
                return cursor.sql(f"SELECT count(*) FROM {target_sql}").fetchall()[0][0]

        with self._warehouse.statement():
            try:
                return modification_log.write_in_turn(self._executor, target, write)
            except EngineError as error:  # translate at the boundary
                rollback(self._executor)  # as a failed statement does
                raise Error(f"Cannot load {path} into {table}: {str(error).splitlines()[0]}") from None
            finally:  # the table is new or replaced: what statements remembered of the catalog is out of date
                self._warehouse.forget_memos()

    def relation_kind(self, name: str) -> str | None:
        """Whether ``dataset.name`` is a ``"table"``, a ``"view"`` or nothing (None) in the warehouse."""
        target = _table_name(name)
        dataset = target.args.get("db")
        schema = dataset.name if dataset is not None else "main"
        with self._warehouse.statement(), self._warehouse.lease() as cursor:
            return cursor.relation_kind(schema, target.name)

    def query_progress(self) -> float:
        """Percent done of the query running now (-1 when unknown), once :meth:`track_progress` is on."""
        return self._warehouse.query_progress()

    def track_progress(self, on: bool = True) -> None:
        """Have DuckDB measure query progress (the shell's progress bar for long queries)."""
        self._warehouse.track_progress(on)

    def interrupt(self) -> None:
        """Ask the statements running on this connection and its sessions to stop (Ctrl-C).

        DuckDB queries are interrupted at once; training stops at its next iteration. Either way
        the statement fails with :class:`~sqlml.errors.Cancelled` and changes nothing — unless the
        interrupt comes too late: a statement whose commit already took effect (a COMMIT, a
        statement's own transaction, a published model version) completes and returns its result,
        and the script's next statement is the one cancelled.
        """
        for connection in [self, *self._sessions]:
            connection._executor.cancel.set()
            connection._warehouse.interrupt()

    def close(self) -> None:
        """Release the warehouse and remove a temporary model store (a session: end it)."""
        if self._finalizer.alive:
            self._finalizer()
            if self._parent is None:
                self._warehouse.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.warehouse_path or MEMORY
        return f"<sqlml.Connection warehouse={str(where)!r} models={str(self.models_path)!r} dialect={self.dialect!r}>"


def _remove_folder(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _reader_for(path, format: str | None) -> str:
    if format is not None:
        key = "." + format.lower().lstrip(".")
    else:
        key = Path(str(path)).suffix.lower()
    if key not in _READERS:
        raise ParameterError(
            f"Cannot tell the format of {path}.",
            hint="Pass format='csv', 'parquet' or 'json'.",
        )
    return _READERS[key]


def _table_name(name: str) -> exp.Table:
    from sqlglot import exp

    from sqlml.sql.dialect import Sqlml

    try:
        table = exp.to_table(name, dialect=Sqlml)
    except Exception:
        raise SqlSyntaxError(f"{name!r} is not a table name.", hint="Write it as dataset.table.") from None
    table.set("catalog", None)
    return table


def _models_on_demand(connection: Connection) -> Callable[[], ModelStore]:
    """Opens ``connection``'s model store when its executor first needs it — a statement that names
    no model never does; held weakly, so that the executor does not keep its connection alive."""
    owner = weakref.ref(connection)
    return lambda: owner().models


def _new_executor(warehouse: SqlEngine, models: ModelStore | Callable[[], ModelStore], dialect: str) -> Executor:
    """An executor with the statement table, imported when a connection first needs one: its
    handlers load the ML modules, which ``import sqlml`` does not."""
    from sqlml.execution.executor import Executor
    from sqlml.statement_table import TABLE

    return Executor(warehouse, models, TABLE, dialect)
