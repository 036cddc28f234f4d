"""DuckDB's cursor and relation as the seam's :class:`~sqlml.engine.base.Cursor` and
:class:`~sqlml.engine.base.Relation`: the same calls, with DuckDB's exceptions turned into the
seam's :class:`~sqlml.engine.base.EngineError` kinds (the message kept as DuckDB wrote it, but
for a bad value's: :mod:`.values`).

Each method is one call into DuckDB inside a ``try``: the statement path pays one Python frame per
call, nothing per row or per batch.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from sqlml.engine.base import (
    EngineBindError,
    EngineConversionError,
    EngineError,
    EngineInterrupted,
    EngineIOError,
    EngineSyntaxError,
    EngineTransactionError,
    Parameters,
)
from sqlml.engine.duckdb import catalog
from sqlml.engine.duckdb.values import bad_value

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from sqlml.engine.duckdb.builtins import OnFirstNeed

__all__ = ["DuckDBCursor", "DuckDBRelation", "engine_error"]

#: DuckDB's exception classes, most specific first, and the seam's kind for each.
_KINDS: tuple[tuple[type[duckdb.Error] | tuple[type[duckdb.Error], ...], type[EngineError]], ...] = (
    (duckdb.InterruptException, EngineInterrupted),
    (duckdb.ParserException, EngineSyntaxError),
    ((duckdb.ConversionException, duckdb.TypeMismatchException), EngineConversionError),
    (duckdb.BinderException, EngineBindError),
    (duckdb.TransactionException, EngineTransactionError),
    (duckdb.IOException, EngineIOError),
)

#: DuckDB's cap on the rows of one Arrow batch it streams.
BATCH_ROWS = 122_880


def engine_error(error: duckdb.Error) -> EngineError:
    """The seam's exception for a DuckDB exception, with DuckDB's message unchanged but for a bad
    value's, worded as on the Spark engine with BigQuery's fix as its ``hint`` (:mod:`.values`), and
    a write of the warehouse file the system refused (a full disk…: :mod:`.file_faults`)."""
    from sqlml.engine.duckdb.file_faults import write_refused  # loaded on a failure only

    if refusal := write_refused(str(error)):
        return refusal
    if worded := bad_value(str(error)):
        seam_error = (EngineConversionError if worded.conversion else EngineError)(worded.message)
        seam_error.hint = worded.hint  # read by the executor's translation (sqlml.engine.errors)
        return seam_error
    for kinds, kind in _KINDS:
        if isinstance(error, kinds):
            return kind(str(error))
    return EngineError(str(error))


class DuckDBRelation:
    """A pending DuckDB relation (``cursor.sql(...)``), run when first read."""

    __slots__ = ("_cursor", "_relation")

    def __init__(self, relation: duckdb.DuckDBPyRelation, cursor: DuckDBCursor | None = None) -> None:
        self._relation = relation
        self._cursor = cursor  # the making cursor, where map_groups registers its rows

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return self._relation.columns

    @property
    def types(self) -> list[str]:
        """DuckDB's type names of the columns, in order (``STRUCT(a INTEGER)``, ``VARCHAR[]``…)."""
        return [str(t) for t in self._relation.types]

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema DuckDB will produce, from the relation's types, without running it."""
        import pyarrow as pa  # here: a plain query's rows need no pyarrow

        relation = self._relation
        return pa.schema([pa.field(name, arrow_type(str(t))) for name, t in zip(relation.columns, relation.types)])

    def fetchall(self) -> list[tuple]:
        """Run the relation; every row."""
        try:
            return self._relation.fetchall()
        except duckdb.Error as error:
            raise engine_error(error) from error

    def to_arrow_table(self) -> pa.Table:
        """Run the relation; its rows as one Arrow table."""
        try:
            return self._relation.to_arrow_table()
        except duckdb.Error as error:
            raise engine_error(error) from error

    def to_arrow_reader(self, batch_size: int = BATCH_ROWS) -> pa.RecordBatchReader:
        """Stream the relation's rows (DuckDB reports a failure while streaming as ``OSError``);
        closed at the latest with the making cursor (see :meth:`DuckDBCursor.close`)."""
        try:
            reader = self._relation.to_arrow_reader(batch_size)
        except duckdb.Error as error:
            raise engine_error(error) from error
        if self._cursor is not None:
            self._cursor.opened(reader)
        return reader

    def map_batches(
        self, function: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]], schema: pa.Schema, name: str
    ) -> None:
        """Refused: DuckDB has no workers to map batches on (:attr:`DuckDBCursor.maps_batches` is
        False); its callers read the rows in this process, where DuckDB runs."""
        raise EngineError(f"DuckDB maps no Arrow batches on workers (view {name}): read the rows in this process.")

    def map_groups(self, function: Callable[[pa.Table], pa.Table], keys: Sequence[str], schema: pa.Schema, name: str) -> None:
        """Run ``function`` on each group of rows sharing the ``keys`` columns' values here and now
        (DuckDB runs in this process), and register the rows it gives, in ``schema``, as ``name``
        on the making cursor."""
        import pyarrow as pa

        table = self.to_arrow_table()
        parts = [function(table.take(rows)).select(schema.names).cast(schema) for rows in _group_rows(table, keys)]
        self._cursor.register(name, pa.concat_tables(parts) if parts else schema.empty_table())


def _group_rows(table: pa.Table, keys: Sequence[str]) -> list[pa.Array]:
    """The row numbers of each group of ``table``'s rows sharing the ``keys`` columns' values."""
    import numpy as np
    import pyarrow as pa

    rows = pa.array(np.arange(table.num_rows))
    if not keys or not table.num_rows:
        return [rows] if table.num_rows else []
    numbered = table.select(list(keys)).append_column("__row", rows)
    groups = numbered.group_by(list(keys), use_threads=False).aggregate([("__row", "list")]).column("__row_list")
    return [group.values for group in groups]


class DuckDBCursor:
    """A DuckDB cursor (a connection of one instance) as the seam's cursor.

    Args:
        cursor: the DuckDB cursor.
        builtins: the instance's built-in functions, installed before the first statement that
            needs them (see :class:`~sqlml.engine.duckdb.builtins.OnFirstNeed`); None if installed.
    """

    __slots__ = ("_builtins", "_cursor", "_readers")

    def __init__(self, cursor: duckdb.DuckDBPyConnection, builtins: OnFirstNeed | None = None) -> None:
        self._cursor = cursor
        self._builtins = builtins
        self._readers: weakref.WeakSet | None = None  # made with the first reader (few cursors stream)

    def opened(self, reader: pa.RecordBatchReader) -> None:
        """Note a reader streaming from this cursor, to be closed with it."""
        if self._readers is None:
            self._readers = weakref.WeakSet()
        self._readers.add(reader)

    @property
    def maps_batches(self) -> bool:
        """False: DuckDB runs in this process, so there are no workers to map batches on."""
        return False

    @property
    def types_intervals(self) -> bool:
        """True: DuckDB's one INTERVAL type holds months, days and microseconds alike."""
        return True

    def execute(self, sql: str, parameters: Parameters = None) -> DuckDBCursor:
        """Run one statement now; read its rows with the fetch methods."""
        self._call(self._cursor.execute, sql, parameters)
        return self

    def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> DuckDBCursor:
        """Run one statement once per row of ``parameters``."""
        self._call(self._cursor.executemany, sql, parameters)
        return self

    def sql(self, query: str, params: Parameters = None) -> DuckDBRelation:
        """The rows of ``query``, run when first read."""
        return DuckDBRelation(self._call(lambda text, values: self._cursor.sql(text, params=values), query, params), self)

    def _call(self, method: Callable[[str, Any], Any], sql: str, parameters: Any) -> Any:
        """``method(sql, parameters)``, the built-in functions installed first if it names them,
        or after it failed for want of one (then it runs once more)."""
        builtins = self._builtins
        if builtins is not None and builtins.pending:
            builtins.before(sql)
        try:
            return method(sql, parameters)
        except duckdb.Error as error:
            if builtins is None or not builtins.after_missing(error):
                raise engine_error(error) from error
        try:
            return method(sql, parameters)
        except duckdb.Error as error:
            raise engine_error(error) from error

    def fetchall(self) -> list[tuple]:
        """Every row of the last executed statement."""
        try:
            return self._cursor.fetchall()
        except duckdb.Error as error:
            raise engine_error(error) from error

    def fetchone(self) -> tuple | None:
        """The next row of the last executed statement."""
        try:
            return self._cursor.fetchone()
        except duckdb.Error as error:
            raise engine_error(error) from error

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        """Every column of the last executed statement as a NumPy array (masked where NULL)."""
        try:
            return self._cursor.fetchnumpy()
        except duckdb.Error as error:
            raise engine_error(error) from error

    @property
    def description(self) -> list[tuple] | None:
        """PEP 249's description of the last executed statement's columns."""
        return self._cursor.description

    def register(self, name: str, data: pa.Table | pa.RecordBatchReader | pd.DataFrame) -> None:
        """Make Arrow data (or a DataFrame) readable as ``name`` on this cursor."""
        try:
            self._cursor.register(name, data)
        except duckdb.Error as error:
            raise engine_error(error) from error

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""
        try:
            self._cursor.unregister(name)
        except duckdb.Error as error:
            raise engine_error(error) from error

    def begin(self) -> None:
        """BEGIN a transaction on this cursor (with the built-in functions: a macro created while
        it runs would be invisible to it)."""
        if self._builtins is not None:
            self._builtins.install()
        self.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        """COMMIT this cursor's transaction."""
        self.execute("COMMIT")

    def rollback(self) -> None:
        """ROLLBACK this cursor's transaction."""
        self.execute("ROLLBACK")

    def close(self) -> None:
        """Close the cursor (DuckDB rolls back a transaction left open on it) and the readers
        still streaming from it: an open reader keeps the warehouse file open even once detached
        (DuckDB then refuses to attach it again, "already attached"), and one kept by a failed
        statement's traceback would otherwise keep it as long as the caller keeps the error."""
        for reader in list(self._readers or ()):
            reader.close()
        try:
            self._cursor.close()
        except duckdb.Error as error:
            raise engine_error(error) from error

    def dataset_exists(self, dataset: str) -> bool:
        """Whether the warehouse has the dataset ``dataset`` (see :mod:`~sqlml.engine.duckdb.catalog`)."""
        return catalog.dataset_exists(self, dataset)

    def relation_kind(self, dataset: str, name: str) -> str | None:
        """``"table"``, ``"view"`` or None for ``dataset.name``."""
        return catalog.relation_kind(self, dataset, name)

    def table_columns(self, dataset: str | None, name: str) -> list[tuple[str, str]]:
        """``(column, DuckDB type)`` of ``dataset.name`` (no dataset: of any relation ``name``), in order."""
        return catalog.table_columns(self, dataset, name)

    def view_definition(self, dataset: str, name: str) -> str | None:
        """DuckDB's ``CREATE VIEW`` statement for ``dataset.name``, None if it is no view."""
        return catalog.view_definition(self, dataset, name)

    def session_relations(self) -> list[str]:
        """Names of this cursor's TEMP tables and views and of registered data."""
        return catalog.session_relations(self)

    def list_tables(self, dataset: str | None = None, *, views: bool = True) -> list[tuple[str, str]]:
        """``(dataset, name)`` of the tables (and ``views``) of ``dataset`` (None: every dataset), sorted."""
        return catalog.list_tables(self, dataset, views)


@functools.lru_cache(maxsize=256)
def arrow_type(type_name: str) -> pa.DataType:
    """The Arrow type DuckDB produces for a column of the DuckDB type ``type_name``."""
    with _TYPE_LOCK:
        empty = _types_connection().sql(f"SELECT NULL::{type_name} AS c LIMIT 0").to_arrow_table()
    return empty.schema.field(0).type


@functools.cache
def _types_connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:")


_TYPE_LOCK = threading.Lock()
