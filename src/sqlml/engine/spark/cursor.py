"""The seam's :class:`~sqlml.engine.base.Cursor` and :class:`~sqlml.engine.base.Relation` on Spark.

A :class:`SparkCursor` pairs the Spark session with a cursor of the DuckDB file that keeps sqlml's
bookkeeping, and sends each statement to its side (:func:`sqlml.engine.spark.translate.side`):
DuckDB's cursor runs it as it is, Spark runs its transpiled text (:mod:`.statements`). Spark's
results are read as Arrow (``spark.sql.execution.arrow.pyspark.enabled``), cast to the Arrow
schema DuckDB would give the same types (:mod:`.types`); Spark's exceptions leave as the seam's
kinds (:mod:`.errors`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlml.engine.base import Cursor, EngineError, Parameters, Relation
from sqlml.engine.spark import catalog
from sqlml.engine.spark.errors import engine_error
from sqlml.engine.spark.layout import is_options_write, lay_out
from sqlml.engine.spark.statements import run_statements
from sqlml.engine.spark.translate import META, reads_meta_catalog, side, with_catalog_views
from sqlml.engine.spark.types import arrow_schema, duckdb_type, intervals_as_parts, parts_as_intervals
from sqlml.sql.duckdb_names import META_SCHEMA

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkCursor", "SparkRelation", "Shared"]

#: Rows of one Arrow batch a Spark result streams in.
BATCH_ROWS = 122_880


@dataclass
class Shared:
    """What every session and cursor of one Spark engine shares: the Spark session and the names
    (lower case) of the TEMP views defined on the DuckDB side."""

    spark: SparkSession
    meta_views: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def meta_view_names(self) -> frozenset[str]:
        with self.lock:
            return frozenset(self.meta_views)


class SparkRelation:
    """A Spark DataFrame's pending rows, run when first read, as Arrow in DuckDB's types."""

    __slots__ = ("_frame", "_mapped")

    def __init__(self, frame: DataFrame, mapped: list[str] | None = None) -> None:
        self._frame = frame
        self._mapped = mapped  # the making cursor's mapped views, dropped when it closes

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return [f.name for f in self._frame.schema.fields]

    @property
    def types(self) -> list[str]:
        """DuckDB's names of the columns' types, in order."""
        return [duckdb_type(f.dataType) for f in self._frame.schema.fields]

    @property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the rows (DuckDB's for the same types), without running the query."""
        return arrow_schema(self._frame.schema)

    def map_batches(self, function: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]], schema: pa.Schema, name: str) -> None:
        """Define the Spark TEMP view ``name`` as ``function`` applied to the rows' Arrow batches on
        the executors (``mapInArrow``), giving rows of ``schema``: run where the data is, when a
        statement reads the view. The cursor that made this relation drops the view when it closes."""
        from pyspark.sql.pandas.types import from_arrow_schema

        try:
            self._frame.mapInArrow(function, from_arrow_schema(schema)).createOrReplaceTempView(name)
        except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
            raise engine_error(error) from error
        if self._mapped is not None:
            self._mapped.append(name)

    def map_groups(self, function: Callable[[pa.Table], pa.Table], keys: Sequence[str], schema: pa.Schema, name: str) -> None:
        """Define the Spark TEMP view ``name`` as ``function`` applied to each group of rows sharing
        the ``keys`` columns' values, on the executors (``groupBy(keys).applyInArrow``), each
        group's table in DuckDB's types (:attr:`arrow_schema`), giving rows of ``schema``. The
        cursor that made this relation drops the view when it closes."""
        from pyspark.sql.pandas.types import from_arrow_schema

        types = self.arrow_schema

        def grouped(table):  # noqa: ANN001, ANN202 - no hints: applyInArrow picks its form by them and fails on unresolved ones
            return function(table.rename_columns(types.names).cast(types))  # as to_arrow_table reads a result

        try:
            frame = self._frame.groupBy(*[self._frame[key] for key in keys])
            frame.applyInArrow(grouped, from_arrow_schema(schema)).createOrReplaceTempView(name)
        except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
            raise engine_error(error) from error
        if self._mapped is not None:
            self._mapped.append(name)

    def fetchall(self) -> list[tuple]:
        """Run the query; every row."""
        return _rows(self.to_arrow_table())

    def to_arrow_table(self) -> pa.Table:
        """Run the query; its rows as one Arrow table."""
        schema = self.arrow_schema
        try:
            table = intervals_as_parts(self._frame).toArrow()
        except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
            raise engine_error(error) from error
        return parts_as_intervals(table, self._frame.schema).rename_columns(schema.names).cast(schema)

    def to_arrow_reader(self, batch_size: int = BATCH_ROWS) -> pa.RecordBatchReader:
        """The rows as a stream of Arrow batches (Spark collects them to the driver first)."""
        import pyarrow as pa

        table = self.to_arrow_table()
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch_size))


def _rows(table: pa.Table) -> list[tuple]:
    return list(zip(*(column.to_pylist() for column in table.columns))) if table.num_columns else []


class SparkCursor:
    """One thread's cursor: Spark for the datasets, ``meta`` (DuckDB) for sqlml's bookkeeping.

    Args:
        shared: the engine's Spark session and DuckDB-side views.
        meta: the DuckDB cursor of the bookkeeping file.
    """

    def __init__(self, shared: Shared, meta: Cursor) -> None:
        self._shared, self._spark, self.meta = shared, shared.spark, meta
        self._mapped: list[str] = []  # TEMP views its relations' map_batches defined, dropped on close
        self._last: Relation | None = None  # None: the last statement ran on DuckDB's cursor
        self._rows: Iterator[tuple] | None = None

    @property
    def maps_batches(self) -> bool:
        """True: its relations map Arrow batches on Spark's executors (:meth:`SparkRelation.map_batches`)."""
        return True

    @property
    def types_intervals(self) -> bool:
        """False: Spark's catalog calls YEAR TO MONTH and DAY TO SECOND intervals both ``INTERVAL``."""
        return False

    # -- running statements ------------------------------------------------------------------

    def _on_meta(self, sql: str) -> str | None:
        """DuckDB's text for ``sql`` if DuckDB's side runs it (the catalog views refreshed first), else None."""
        meta_views = self._shared.meta_view_names()
        if side(sql, meta_views) != META:
            return None
        if reads_meta_catalog(sql, meta_views):
            catalog.install_catalog_views(self._spark, self.meta)
            return with_catalog_views(sql)
        return sql

    def execute(self, sql: str, parameters: Parameters = None) -> SparkCursor:
        """Run one statement (or several, ``;``-separated) now; read its rows with the fetch methods."""
        self._rows = None
        meta_sql = self._on_meta(sql)
        if meta_sql is not None:
            self.meta.execute(meta_sql, parameters)
            self._last = None
            if parameters and is_options_write(sql):
                self._spark_call(lay_out, parameters)
        else:
            self._last = SparkRelation(run_statements(self._spark, sql, parameters))
        return self

    def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> SparkCursor:
        """Run one statement once per row of ``parameters``."""
        meta_sql = self._on_meta(sql)
        if meta_sql is not None:
            self.meta.executemany(meta_sql, parameters)
            self._last = None
            return self
        for row in parameters:
            self.execute(sql, row)
        return self

    def sql(self, query: str, params: Parameters = None) -> Relation:
        """The rows of ``query``, run when first read (Spark plans it now, as DuckDB binds it)."""
        meta_sql = self._on_meta(query)
        if meta_sql is not None:
            return self.meta.sql(meta_sql, params)
        return SparkRelation(run_statements(self._spark, query, params), self._mapped)

    # -- reading the last statement's rows ----------------------------------------------------

    def _pending(self) -> Iterator[tuple]:
        if self._rows is None:
            self._rows = iter(self._last.fetchall())
        return self._rows

    def fetchall(self) -> list[tuple]:
        """Every (remaining) row of the last executed statement."""
        return self.meta.fetchall() if self._last is None else list(self._pending())

    def fetchone(self) -> tuple | None:
        """The next row of the last executed statement."""
        return self.meta.fetchone() if self._last is None else next(self._pending(), None)

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        """Every column of the last executed statement as a NumPy array (masked where NULL)."""
        if self._last is None:
            return self.meta.fetchnumpy()
        import numpy as np

        table = self._last.to_arrow_table()
        return {
            name: np.ma.masked_array(column.to_numpy(zero_copy_only=False), mask=column.is_null().to_numpy(zero_copy_only=False))
            for name, column in zip(table.column_names, table.columns)
        }

    @property
    def description(self) -> list[tuple] | None:
        """PEP 249's description of the last executed statement's columns."""
        if self._last is None:
            return self.meta.description
        return [(name, type_name, None, None, None, None, None) for name, type_name in zip(self._last.columns, self._last.types)]

    # -- registered data, transactions ---------------------------------------------------------

    def register(self, name: str, data: pa.Table | pa.RecordBatchReader | pd.DataFrame) -> None:
        """Make Arrow data (or a DataFrame) readable as the Spark TEMP view ``name``."""
        register_frame(self._spark, name, data)

    def unregister(self, name: str) -> None:
        """Forget a name given to :meth:`register`."""
        self._spark.catalog.dropTempView(name)

    def begin(self) -> None:
        """BEGIN the bookkeeping's transaction (Spark's writes are committed one statement at a time)."""
        self.meta.begin()

    def commit(self) -> None:
        """COMMIT the bookkeeping's transaction."""
        self.meta.commit()

    def rollback(self) -> None:
        """ROLLBACK the bookkeeping's transaction."""
        self.meta.rollback()

    def close(self) -> None:
        """Drop the TEMP views its relations mapped (a statement's side cursor closes when the
        statement ends), and close the DuckDB cursor (the Spark session stays, shared)."""
        try:
            while self._mapped:
                self._spark.catalog.dropTempView(self._mapped.pop())
        except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
            raise engine_error(error) from error
        finally:
            self.meta.close()

    # -- catalog lookups: sqlml's schema on DuckDB's side, the datasets on Spark's ---------------

    def _is_meta(self, dataset: str | None) -> bool:
        return dataset is not None and dataset.lower() == META_SCHEMA

    def dataset_exists(self, dataset: str) -> bool:
        """Whether the warehouse has the dataset ``dataset``."""
        return self.meta.dataset_exists(dataset) if self._is_meta(dataset) else self._catalog(catalog.dataset_exists, dataset)

    def relation_kind(self, dataset: str, name: str) -> str | None:
        """``"table"``, ``"view"`` or None for ``dataset.name``."""
        if self._is_meta(dataset):
            return self.meta.relation_kind(dataset, name)
        return self._catalog(catalog.relation_kind, dataset, name)

    def table_columns(self, dataset: str | None, name: str) -> list[tuple[str, str]]:
        """``(column, DuckDB type)`` of ``dataset.name`` (no dataset: a TEMP relation ``name``), in order."""
        if self._is_meta(dataset) or (dataset is None and name.lower() in self._shared.meta_view_names()):
            return self.meta.table_columns(dataset, name)
        return self._catalog(catalog.table_columns, dataset, name)

    def view_definition(self, dataset: str, name: str) -> str | None:
        """``CREATE VIEW`` of ``dataset.name`` in DuckDB's SQL, None if it is no view."""
        if self._is_meta(dataset):
            return self.meta.view_definition(dataset, name)
        return self._catalog(catalog.view_definition, dataset, name)

    def session_relations(self) -> list[str]:
        """Names of Spark's TEMP views and of DuckDB's side's TEMP relations."""
        return self.meta.session_relations() + self._catalog(catalog.session_relations)

    def list_tables(self, dataset: str | None = None, *, views: bool = True) -> list[tuple[str, str]]:
        """``(dataset, name)`` of the tables (and ``views``) of ``dataset`` (None: every dataset), sorted."""
        if self._is_meta(dataset):
            return self.meta.list_tables(dataset, views=views)
        return self._catalog(catalog.list_tables, dataset, views)

    def _catalog(self, lookup, *args):  # noqa: ANN001, ANN202 - one of the catalog module's lookups
        return self._spark_call(lookup, *args)

    def _spark_call(self, function, *args):  # noqa: ANN001, ANN202 - a function of the Spark session
        try:
            return function(self._spark, *args)
        except EngineError:
            raise
        except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
            raise engine_error(error) from error


def register_frame(spark: SparkSession, name: str, data: pa.Table | pa.RecordBatchReader | pd.DataFrame) -> None:
    """Make ``data`` readable by Spark's SQL as the TEMP view ``name``."""
    import pyarrow as pa

    if isinstance(data, pa.RecordBatchReader):
        data = data.read_all()
    try:
        spark.createDataFrame(data).createOrReplaceTempView(name)
    except Exception as error:  # noqa: BLE001 - Spark's and py4j's exceptions share no base
        raise engine_error(error) from error
