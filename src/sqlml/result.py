"""The rows a statement returned: Arrow, pandas or tuples, materialized once or streamed.

A :class:`Result` wraps either rows already in memory (an Arrow table) or a pending DuckDB
relation. A pending result holds the warehouse lease and the ML sources it reads until it is
consumed or closed, so that a huge result can be streamed batch by batch with :meth:`reader`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from sqlml.errors import SqlTypeError
from sqlml.render import Rows, numeric_columns, render_table

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.engine.base import Relation

_PREVIEW_ROWS = 10

#: DuckDB types whose values DuckDB's own ``fetchall`` gives exactly as Arrow's ``to_pylist`` does,
#: by the Arrow type they arrive as: rows of only these skip Arrow (a small result's rows cost less
#: than building the table; ``import pyarrow`` is ~0.2 s of a ``sqlml query`` process).
_PLAIN_TYPES = {"BOOLEAN": "bool_", "TINYINT": "int8", "SMALLINT": "int16", "INTEGER": "int32", "BIGINT": "int64",
                "UTINYINT": "uint8", "USMALLINT": "uint16", "UINTEGER": "uint32", "UBIGINT": "uint64",
                "FLOAT": "float32", "DOUBLE": "float64", "VARCHAR": "string"}  # fmt: skip
_NUMERIC_TYPES = frozenset(_PLAIN_TYPES) - {"BOOLEAN", "VARCHAR"}


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
        self._rows: list[tuple] | None = None  # read without Arrow (plain types only), with their DuckDB types
        self._types: list[str] = []
        self._names: list[str] = []
        self.rowcount = rowcount
        self.statement = statement
        self._on_close = on_close
        self._on_error = on_error
        self._lock = threading.Lock()
        self._streamed = False

    @classmethod
    def empty(cls, statement: str = "", rowcount: int = -1) -> "Result":
        """A result without rows, for DDL and DML."""
        result = cls(rowcount=rowcount, statement=statement)
        result._rows = []
        return result

    @property
    def schema(self) -> pa.Schema:
        """Column names and Arrow types, known without running a pending query."""
        if self._schema is None:
            self._schema = self._relation.arrow_schema if self._relation is not None else self._rows_schema()
        return self._schema

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        if self._table is not None:
            return list(self._table.column_names)
        if self._rows is not None:
            return list(self._names)
        return list(self._relation.columns)

    def arrow(self) -> pa.Table:
        """All rows as an Arrow table (run once, then cached)."""
        with self._lock:
            if self._table is None:
                if self._rows is not None:
                    self._table = self._rows_table()
                elif self._streamed:
                    raise RuntimeError("This result was streamed with reader(); run the query again.")
                else:
                    try:
                        self._table = bigquery_types(self._relation.to_arrow_table())
                    except Exception as error:
                        raise self._translated(error) from None
                    finally:
                        self._relation = None
                        self._close_resources()
                self._schema = self._table.schema
            return self._table

    def df(self):
        """All rows as a pandas DataFrame."""
        return self.arrow().to_pandas()

    def fetchall(self) -> list[tuple]:
        """All rows as a list of tuples."""
        return list(self._python_rows())

    def fetchone(self) -> tuple | None:
        """The first row, or None when there are none."""
        rows = self._python_rows(first_only=True)
        return rows[0] if rows else None

    def scalar(self):
        """The value in the first column of the first row (None when there are no rows)."""
        row = self.fetchone()
        return row[0] if row else None

    def rows(self) -> Rows:
        """All rows as Python values with their column names, for display (:mod:`sqlml.render`)."""
        rows = self._python_rows()
        if self._table is None:
            return Rows(self._names, [t in _NUMERIC_TYPES for t in self._types], rows)
        return Rows(self._table.column_names, numeric_columns(self._table.schema), rows)

    def reader(self, batch_size: int = 122_880) -> pa.RecordBatchReader:
        """Stream the rows as Arrow record batches, for results larger than memory.

        A pending result is streamed from DuckDB without being materialized; the lease on the
        warehouse is released once the last batch has been read or the reader is closed.
        """
        import pyarrow as pa

        with self._lock:
            if self._table is None and self._rows is not None:
                self._table = self._rows_table()
            if self._table is not None:
                return pa.RecordBatchReader.from_batches(self._table.schema, self._table.to_batches(batch_size))
            if self._streamed:
                raise RuntimeError("This result was already streamed; run the query again.")
            self._streamed = True
            source = self._relation.to_arrow_reader(batch_size)
            self._relation = None
        schema = pa.schema([_int64_field(f) for f in source.schema])
        return pa.RecordBatchReader.from_batches(schema, self._drain(source))

    def _python_rows(self, first_only: bool = False) -> list[tuple]:
        """The rows as tuples: read by DuckDB itself when every column's type is plain, else through Arrow."""
        with self._lock:
            if self._table is None and self._rows is None and self._relation is not None and self._plain():
                try:
                    self._rows = self._relation.fetchall()
                except Exception as error:
                    raise self._translated(error) from None
                finally:
                    self._relation = None
                    self._close_resources()
            if self._table is None and self._rows is not None:
                return self._rows
        table = self.arrow()
        return self._rows_of(table.slice(0, 1) if first_only else table)

    def _plain(self) -> bool:
        """Whether the pending relation's columns are all of :data:`_PLAIN_TYPES` (noted for later)."""
        types = self._relation.types
        if not all(t in _PLAIN_TYPES for t in types):
            return False
        self._names, self._types = list(self._relation.columns), types
        return True

    def _rows_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([(name, getattr(pa, _PLAIN_TYPES[t])()) for name, t in zip(self._names, self._types)])

    def _rows_table(self) -> pa.Table:
        import pyarrow as pa

        schema = self._rows_schema()
        columns = list(zip(*self._rows)) if self._rows else [[] for _ in schema]
        return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)

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
        return len(self._python_rows()) if self._table is None else self._table.num_rows

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
        rows = self.rows()
        text = render_table(Rows(rows.names, rows.numeric, rows.values[:_PREVIEW_ROWS]))
        more = f"\n({len(rows.values)} rows)" if len(rows.values) > _PREVIEW_ROWS else ""
        return text + more


def _int64_field(field: pa.Field) -> pa.Field:
    import pyarrow as pa

    return field.with_type(pa.int64()) if field.type == pa.decimal128(38, 0) else field


def bigquery_types(data: pa.Table | pa.RecordBatch):
    """DuckDB's HUGEINT (SUM of integers, arrives as DECIMAL(38, 0)) as BigQuery's INT64."""
    import pyarrow as pa

    hugeint = pa.decimal128(38, 0)
    if not any(field.type == hugeint for field in data.schema):
        return data
    columns = [c.cast(pa.int64()) if c.type == hugeint else c for c in data.columns]
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, names=data.schema.names)
    return pa.table(columns, names=data.column_names)
