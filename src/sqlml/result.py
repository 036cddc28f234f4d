"""The rows a statement returned: Arrow, pandas or tuples, materialized once or streamed.

A :class:`Result` wraps either rows already in memory (an Arrow table) or a pending DuckDB
relation. A pending result holds the warehouse lease and the ML sources it reads until it is
consumed or closed, so that a huge result can be streamed batch by batch with :meth:`reader`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.errors import SqlTypeError

if TYPE_CHECKING:
    from sqlml.engine.base import Relation

_PREVIEW_ROWS = 10


def _out_of_range(error: Exception) -> SqlTypeError:
    return SqlTypeError(
        f"A value of the result cannot be read into Python: {error}.",
        hint="BigQuery's DATE, DATETIME and TIMESTAMP values run from 0001-01-01 to 9999-12-31: filter the "
        "others out, or read the rows with .arrow().",
    )


class Result:
    """Rows returned by the last statement of a :meth:`~sqlml.Connection.query` call.

    Args:
        table: rows already in memory.
        relation: a pending relation of the engine (:class:`~sqlml.engine.base.Relation`), run on first use.
        rowcount: rows changed by a DML statement, or -1.
        statement: the kind of statement that produced it (``SELECT``, ``INSERT``…).
        on_close: called once when the result is consumed or closed (releases resources).
        on_error: turns an exception raised while reading a pending result into a sqlml error.
    """

    def __init__(
        self,
        *,
        table: pa.Table | None = None,
        relation: Relation | None = None,
        rowcount: int = -1,
        statement: str = "",
        on_close: Callable[[], None] | None = None,
        on_error: Callable[[BaseException], BaseException] | None = None,
    ):
        self._table = table
        self._relation = relation
        self._schema = table.schema if table is not None else None
        self.rowcount = rowcount
        self.statement = statement
        self._on_close = on_close
        self._on_error = on_error
        self._lock = threading.Lock()
        self._streamed = False

    @classmethod
    def empty(cls, statement: str = "", rowcount: int = -1) -> "Result":
        """A result without rows, for DDL and DML."""
        return cls(table=pa.table({}), rowcount=rowcount, statement=statement)

    @property
    def schema(self) -> pa.Schema:
        """Column names and Arrow types, known without running a pending query."""
        if self._schema is None:
            self._schema = self._relation.arrow_schema
        return self._schema

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        if self._table is not None:
            return list(self._table.column_names)
        return list(self._relation.columns)

    def arrow(self) -> pa.Table:
        """All rows as an Arrow table (run once, then cached)."""
        with self._lock:
            if self._table is None:
                if self._streamed:
                    raise RuntimeError("This result was streamed with reader(); run the query again.")
                try:
                    self._table = bigquery_types(self._relation.to_arrow_table())
                    self._schema = self._table.schema
                except Exception as error:
                    raise self._translated(error) from None
                finally:
                    self._relation = None
                    self._close_resources()
            return self._table

    def df(self):
        """All rows as a pandas DataFrame."""
        return self.arrow().to_pandas()

    def fetchall(self) -> list[tuple]:
        """All rows as a list of tuples."""
        return self._rows_of(self.arrow())

    def fetchone(self) -> tuple | None:
        """The first row, or None when there are none."""
        rows = self.arrow().slice(0, 1)
        return self._rows_of(rows)[0] if rows.num_rows else None

    def scalar(self):
        """The value in the first column of the first row (None when there are no rows)."""
        row = self.fetchone()
        return row[0] if row else None

    def reader(self, batch_size: int = 122_880) -> pa.RecordBatchReader:
        """Stream the rows as Arrow record batches, for results larger than memory.

        A pending result is streamed from DuckDB without being materialized; the lease on the
        warehouse is released once the last batch has been read or the reader is closed.
        """
        with self._lock:
            if self._table is not None:
                return pa.RecordBatchReader.from_batches(self._table.schema, self._table.to_batches(batch_size))
            if self._streamed:
                raise RuntimeError("This result was already streamed; run the query again.")
            self._streamed = True
            source = self._relation.to_arrow_reader(batch_size)
            self._relation = None
        schema = pa.schema([_int64_field(f) for f in source.schema])
        return pa.RecordBatchReader.from_batches(schema, self._drain(source))

    def _drain(self, source: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        try:
            for batch in source:
                yield bigquery_types(batch)
        except Exception as error:
            raise self._translated(error) from None
        finally:
            self._close_resources()

    def _translated(self, error: Exception) -> Exception:
        return self._on_error(error) if self._on_error is not None else error

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())

    def __len__(self) -> int:
        return self.arrow().num_rows

    def close(self) -> None:
        """Free the warehouse lease and any ML sources without reading the rows."""
        with self._lock:
            self._relation = None
            self._close_resources()

    def _close_resources(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __del__(self):
        on_close = getattr(self, "_on_close", None)
        if on_close is not None:
            self._on_close = None
            on_close()

    def _rows_of(self, table: pa.Table) -> list[tuple]:
        try:
            columns = [column.to_pylist() for column in table.columns]
        except (OverflowError, ValueError) as error:  # a DATE past year 9999: DuckDB holds it, Python cannot
            raise self._translated(_out_of_range(error)) from error
        return list(zip(*columns))

    def __repr__(self) -> str:
        if not self.columns:
            affected = f", {self.rowcount} rows affected" if self.rowcount >= 0 else ""
            return f"<sqlml.Result {self.statement or 'statement'}{affected}>"
        from sqlml.render import render_table

        table = self.arrow()
        text = render_table(table.slice(0, _PREVIEW_ROWS))
        more = f"\n({table.num_rows} rows)" if table.num_rows > _PREVIEW_ROWS else ""
        return text + more


_HUGEINT = pa.decimal128(38, 0)


def _int64_field(field: pa.Field) -> pa.Field:
    return field.with_type(pa.int64()) if field.type == _HUGEINT else field


def bigquery_types(data: pa.Table | pa.RecordBatch):
    """DuckDB's HUGEINT (SUM of integers, arrives as DECIMAL(38, 0)) as BigQuery's INT64."""
    if not any(field.type == _HUGEINT for field in data.schema):
        return data
    columns = [c.cast(pa.int64()) if c.type == _HUGEINT else c for c in data.columns]
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, names=data.schema.names)
    return pa.table(columns, names=data.column_names)

