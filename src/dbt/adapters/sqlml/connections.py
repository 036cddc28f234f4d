"""dbt's connections on sqlml: one :func:`sqlml.connect` per warehouse, a session per dbt thread.

Statements run through :meth:`sqlml.Connection.query`, so model SQL is read as BigQuery SQL (or
DuckDB's, with ``dialect: duckdb``) and ML statements (CREATE MODEL, ML.PREDICT) work as in sqlml.
Like dbt-bigquery, the adapter opens no transactions: each statement is atomic on its own.
"""

from __future__ import annotations

import atexit
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from dbt.adapters.contracts.connection import AdapterResponse, Connection, ConnectionState
from dbt.adapters.sql import SQLConnectionManager
from dbt_common.exceptions import DbtDatabaseError, DbtRuntimeError

from dbt.adapters.sqlml.credentials import SqlmlCredentials

_shared: dict[tuple[str, str, str], Any] = {}
_shared_lock = threading.Lock()


def shared_connection(credentials: SqlmlCredentials) -> Any:
    """The one :class:`sqlml.Connection` of this process on the target's warehouse (opened once)."""
    import sqlml

    key = (credentials.warehouse, credentials.models, credentials.dialect)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = sqlml.connect(credentials.warehouse, credentials.models, credentials.dialect)
        return _shared[key]


def close_shared() -> None:
    """Close every warehouse this process opened (the end of a dbt invocation)."""
    with _shared_lock:
        for connection in _shared.values():
            connection.close()
        _shared.clear()


atexit.register(close_shared)

#: Arrow type ids → BigQuery type names, the names dbt shows for a query's columns.
_ARROW_TO_BIGQUERY = {
    "int8": "INT64", "int16": "INT64", "int32": "INT64", "int64": "INT64", "uint8": "INT64",
    "uint16": "INT64", "uint32": "INT64", "uint64": "INT64", "float": "FLOAT64", "double": "FLOAT64",
    "halffloat": "FLOAT64", "string": "STRING", "large_string": "STRING", "bool": "BOOL",
    "date32": "DATE", "date64": "DATE", "time64": "TIME", "time32": "TIME", "binary": "BYTES",
    "large_binary": "BYTES", "decimal128": "NUMERIC", "decimal256": "BIGNUMERIC",
    "list": "ARRAY", "large_list": "ARRAY", "struct": "STRUCT", "null": "STRING",
}  # fmt: skip


def bigquery_type_name(arrow_type: Any) -> str:
    """The BigQuery name of an Arrow type as sqlml returns it (TIMESTAMP has a time zone)."""
    name = str(arrow_type).split("[")[0].split("<")[0].split("(")[0]
    if name == "timestamp":
        return "TIMESTAMP" if getattr(arrow_type, "tz", None) else "DATETIME"
    return _ARROW_TO_BIGQUERY.get(name, name.upper())


class SqlmlCursor:
    """The DB-API cursor dbt expects, over a sqlml session: ``execute``, ``description``, ``fetch*``."""

    def __init__(self, session: Any):
        self._session = session
        self._rows: list[tuple] = []
        self.description: list[tuple] | None = None
        self.rowcount = -1

    def execute(self, sql: str, bindings: Any = None) -> None:
        """Run ``sql`` (one statement or a script) and keep the last statement's rows.

        Each runs in a session of its own, ended after it: dbt-bigquery runs every statement as a
        BigQuery job of its own, whose TEMP functions and tables end with it. A model's
        ``sql_header`` (``CREATE TEMP FUNCTION f …``) is in both the statement that builds its
        scratch table and its MERGE, and in every model that shares the header; on one session
        the second failed with 'A function named f already exists'. (~0.1 ms a statement.)
        """
        script = self._session.cursor()
        try:
            result = script.query(sql, bindings or None)
            schema = result.schema
            self.description = [(f.name, bigquery_type_name(f.type), None, None, None, None, True) for f in schema]
            self._rows = result.fetchall() if schema.names else []
        finally:
            script.close()
        self.rowcount = len(self._rows) if schema.names else -1

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchmany(self, size: int) -> list[tuple]:
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchone(self) -> tuple | None:
        return self.fetchmany(1)[0] if self._rows else None

    def close(self) -> None:
        self._rows = []


class SqlmlHandle:
    """A dbt connection's handle: a sqlml session of the shared warehouse, with its own cursor."""

    def __init__(self, credentials: SqlmlCredentials):
        self._shared = shared_connection(credentials)
        self.session = self._shared.cursor()
        self._metadata: dict[str, Any] = {}

    def metadata(self, sql: str, params: Any = None, dialect: str = "bigquery") -> list[tuple]:
        """Rows of a catalogue query written in ``dialect``, whatever the target's dialect is."""
        if dialect == self.session.dialect:
            return self.session.query(sql, params).fetchall()
        if dialect not in self._metadata:
            self._metadata[dialect] = self._shared.cursor()
            self._metadata[dialect].dialect = dialect
        return self._metadata[dialect].query(sql, params).fetchall()

    def cursor(self) -> SqlmlCursor:
        return SqlmlCursor(self.session)

    def close(self) -> None:
        for session in self._metadata.values():
            session.close()
        self.session.close()

    def rollback(self) -> None:
        """No transaction is ever open (statements are atomic one by one)."""


class SqlmlConnectionManager(SQLConnectionManager):
    """Connections of ``type: sqlml``."""

    TYPE = "sqlml"

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        if connection.state == ConnectionState.OPEN:
            return connection
        try:
            connection.handle = SqlmlHandle(connection.credentials)
            connection.state = ConnectionState.OPEN
        except Exception as error:
            connection.handle, connection.state = None, ConnectionState.FAIL
            raise DbtRuntimeError(f"sqlml could not open warehouse {connection.credentials.warehouse!r}: {error}")
        return connection

    @contextmanager
    def exception_handler(self, sql: str) -> Iterator[None]:
        import sqlml

        try:
            yield
        except sqlml.Error as error:
            raise DbtDatabaseError(str(error)) from error
        except DbtRuntimeError:
            raise
        except Exception as error:
            raise DbtRuntimeError(f"{type(error).__name__}: {error}") from error

    def cancel(self, connection: Connection) -> None:
        if connection.handle is not None:
            connection.handle.session.interrupt()

    @classmethod
    def get_response(cls, cursor: SqlmlCursor) -> AdapterResponse:
        return AdapterResponse(_message="OK", rows_affected=cursor.rowcount)

    @classmethod
    def data_type_code_to_name(cls, type_code: int | str) -> str:
        return str(type_code)

    def begin(self) -> None:
        """dbt-bigquery's rule: no transactions."""

    def commit(self) -> None:
        """dbt-bigquery's rule: no transactions."""
