"""Served predictions appended to a warehouse table, so that served traffic can be checked later
(``ML.VALIDATE_DATA_SKEW(MODEL m, (SELECT … FROM the log))``) and audited — every one of them,
in the order they were served, even when another process holds the warehouse or the server is
killed.

A request is answered only after its rows are in this process's spool file (:mod:`.spool`). A
background thread writes the spool to the table about once a second, trying the warehouse with
a short lock timeout and backing off while another process holds it, so requests never wait for
the warehouse. Each spool segment is written in transactions that also record, in
``sqlml_meta.prediction_log_spools``, the last line of the segment that landed; a segment is
deleted only after that commit, and lines at or below the mark are never inserted again, so a
crash between the INSERT and the deletion duplicates nothing. Segments left by a dead process
(a killed server, another ``--workers`` process) are written by whichever server runs next.

Columns: ``request_id``, ``model``, ``model_version``, ``served_at``, ``latency_ms``, ``inputs``
and ``outputs`` (JSON text, one row per instance).
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import orjson
import pyarrow as pa
from sqlglot import exp

import sqlml
from sqlml.errors import InvalidOptionError, WarehouseLockedError
from sqlml.serve.scoring import json_default
from sqlml.serve.spool import Segment, SpoolWriter, segments
from sqlml.warehouse.meta import PREDICTION_LOG_MARKS, PREDICTION_LOG_MARKS_DDL

if TYPE_CHECKING:
    from sqlml.serve.models import Served

LOG = logging.getLogger("sqlml.serve")
FLUSH_SECONDS = 1.0
#: How long one attempt waits for the warehouse; the flusher retries with back-off instead.
LOCK_TIMEOUT = 0.25
#: Longest pause between attempts while the warehouse stays busy.
MAX_BACKOFF_SECONDS = 10.0
#: How long closing keeps trying before it leaves the rest for the next server start.
CLOSE_SECONDS = 5.0
#: About how much spool text (requests, whole lines) one transaction writes.
BATCH_BYTES = 8 * 1024 * 1024
MARKS_TABLE = PREDICTION_LOG_MARKS
_SCHEMA = pa.schema([
    ("request_id", pa.string()), ("model", pa.string()), ("model_version", pa.int64()),
    ("served_at", pa.timestamp("us", tz="UTC")), ("latency_ms", pa.float64()), ("inputs", pa.string()), ("outputs", pa.string()),
])  # fmt: skip
_COLUMNS = ", ".join(_SCHEMA.names)
_BATCH = "__sqlml_served"
_REMOVED = "__sqlml_removed_segments"


class PredictionLog:
    """Appends served predictions to ``table`` (``dataset.table``, created on first write).

    Args:
        connection: the warehouse to write to; open it with a short ``lock_timeout`` (one attempt's wait).
        table: ``dataset.table``.
        spool_folder: where the spool segments live; by default ``<warehouse>/spool/<dataset.table>``.
        flush_seconds: how often the spool is written to the table; while the warehouse stays busy
            the next attempt comes after half that, then twice as long each time (up to
            :data:`MAX_BACKOFF_SECONDS`).

    Raises:
        InvalidOptionError: ``table`` is not ``dataset.table``.
    """

    def __init__(self, connection: sqlml.Connection, table: str, *, spool_folder: Path | None = None, flush_seconds: float = FLUSH_SECONDS):
        self.connection = connection
        dataset, name = parse_table(table)
        self.name = f"{dataset}.{name}"
        self.table = exp.table_(name, db=dataset, quoted=True).sql("bigquery")
        self._commit_sql = _commit_script(exp.to_identifier(dataset, quoted=True).sql("bigquery"), self.table)
        self.folder = Path(spool_folder) if spool_folder else _default_folder(connection, dataset, name)
        self.flush_seconds = flush_seconds
        self._writer = SpoolWriter(self.folder)
        self._sealed: list[Path] = []  # this process's sealed segments not yet known written, for the warning at close
        self._removed: list[str] = []  # segments deleted whose marks are still to drop
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlml-prediction-log", daemon=True)
        self._thread.start()

    def add(self, request_id: str, served: Served, instances: list[dict], outputs: list[dict], latency_ms: float) -> None:
        """Spool one request's rows (one per instance); returns once they are on disk.

        Raises:
            WarehouseError: the spool cannot be written (the request must not be answered).
        """
        record = {
            "request_id": request_id, "model": served.name, "model_version": served.version,
            "served_at": time.time_ns() // 1000, "latency_ms": latency_ms, "inputs": instances, "outputs": outputs,
        }  # fmt: skip
        self._writer.append(record, default=json_default)

    def flush(self) -> None:
        """Write every spooled request that is not in the table yet: first what is waiting (this
        process's sealed segments, those of dead processes), then this process's current
        segment, sealed — so while the warehouse stays busy the backlog is one growing file, not
        one more per attempt. Segments that another live process writes, or is flushing now, are
        left to it.

        Raises:
            WarehouseLockedError: another process held the warehouse longer than one attempt waits.
            sqlml.Error: the table could not be written (the rows stay spooled).
        """
        with self._flushing:
            for path in segments(self.folder):
                self._write_claimed(path)
            sealed = self._writer.seal()
            if sealed is not None:
                self._sealed = [*(path for path in self._sealed if path.exists()), sealed]
                self._write_claimed(sealed)
            self._forget_marks()

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Stop, writing what is spooled; what cannot be written within ``timeout`` seconds stays
        spooled for the next server start."""
        self._stop.set()
        self._thread.join()
        deadline, delay = time.monotonic() + timeout, 0.1
        while not self._flush_logged() and time.monotonic() + delay < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        self._writer.close()
        left = [path.name for path in [*self._sealed, self._writer.path] if path.exists()]
        if left:
            LOG.warning(json.dumps({"event": "prediction_log_deferred", "table": self.name, "spool": str(self.folder), "segments": left}))

    def _run(self) -> None:
        delay, failures = self.flush_seconds, 0
        while not self._stop.wait(delay):
            if self._flush_logged():
                failures, delay = 0, self.flush_seconds
            else:
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, self.flush_seconds / 2 * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)

    def _flush_logged(self) -> bool:
        """:meth:`flush`, with failures logged instead of raised; whether it succeeded."""
        try:
            self.flush()
            return True
        except WarehouseLockedError as error:
            LOG.warning(json.dumps({"event": "prediction_log_busy", "table": self.name, "holder_pid": error.pid, "spool": str(self.folder)}))
        except sqlml.Error as error:
            LOG.error(json.dumps({"event": "prediction_log_failed", "table": self.name, "error": error.message, "spool": str(self.folder)}))
        except Exception as error:  # an OSError of the spool folder, or a bug: the flusher must live on (the rows stay spooled)
            LOG.exception(json.dumps({"event": "prediction_log_failed", "table": self.name, "error": repr(error), "spool": str(self.folder)}))
        return False

    def _write_claimed(self, path: Path) -> None:
        """Write the segment at ``path`` unless a live process holds it or it is gone."""
        segment = Segment.claim(path)
        if segment is None:
            return
        try:
            self._write(segment)
        finally:
            segment.release()

    def _write(self, segment: Segment) -> None:
        """Write ``segment`` to the table in transactions, then delete it."""
        committed = False
        for records in segment.chunks(BATCH_BYTES):
            self._commit(segment.id, records)
            committed = True
        if segment.skipped:
            LOG.warning(json.dumps({"event": "prediction_log_spool_damaged", "segment": str(segment.path), "lines_skipped": segment.skipped}))
        segment.remove()
        if committed:
            self._removed.append(segment.id)

    def _commit(self, segment_id: str, records: list[dict]) -> None:
        """Insert the records above the segment's mark and move the mark, in one transaction."""
        self.connection.register(_BATCH, _batch(records))
        try:
            self.connection.query(self._commit_sql, {"segment": segment_id, "log_table": self.name, "last": records[-1]["seq"]})
        finally:
            self.connection.unregister(_BATCH)

    def _forget_marks(self) -> None:
        """Drop the marks of deleted segments: with the file gone, nothing can be written twice."""
        if not self._removed:
            return
        self.connection.register(_REMOVED, pa.table({"segment": self._removed}))
        try:
            self.connection.query(f"DELETE FROM {MARKS_TABLE} WHERE segment IN (SELECT segment FROM {_REMOVED})")
        finally:
            self.connection.unregister(_REMOVED)
        self._removed.clear()


def _commit_script(dataset: str, table: str) -> str:
    """The transaction that appends a chunk to ``table`` (both names quoted) and moves its segment's mark."""
    marked = f"COALESCE((SELECT MAX(sequence) FROM {MARKS_TABLE} WHERE segment = @segment), 0)"
    return f"""
        BEGIN TRANSACTION;
        CREATE SCHEMA IF NOT EXISTS {dataset};
        {PREDICTION_LOG_MARKS_DDL}
        CREATE TABLE IF NOT EXISTS {table} AS SELECT {_COLUMNS} FROM {_BATCH} WHERE FALSE;
        INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM {_BATCH} WHERE _seq > {marked} ORDER BY _seq, _row;
        DELETE FROM {MARKS_TABLE} WHERE segment = @segment AND sequence <= @last;
        INSERT INTO {MARKS_TABLE} SELECT @segment, @log_table, @last, CURRENT_TIMESTAMP() FROM (SELECT 1) WHERE NOT EXISTS (SELECT 1 FROM {MARKS_TABLE} WHERE segment = @segment);
        COMMIT TRANSACTION
    """


def _batch(records: list[dict]) -> pa.Table:
    """One row per instance, with the spool line (``_seq``) and the row's place (``_row``) to order by."""
    columns: dict[str, list] = {name: [] for name in [*_SCHEMA.names, "_seq"]}
    for record in records:
        for instance, output in zip(record["inputs"], record["outputs"]):
            for name in ("request_id", "model", "model_version", "served_at", "latency_ms"):
                columns[name].append(record[name])
            columns["inputs"].append(orjson.dumps(instance).decode())
            columns["outputs"].append(orjson.dumps(output).decode())
            columns["_seq"].append(record["seq"])
    types = {**{field.name: field.type for field in _SCHEMA}, "served_at": pa.int64(), "_seq": pa.int64()}
    arrays = {name: pa.array(values, types[name]) for name, values in columns.items()}
    arrays["served_at"] = arrays["served_at"].cast(_SCHEMA.field("served_at").type)  # spooled as microseconds since the epoch
    arrays["_row"] = pa.array(range(len(columns["_seq"])), pa.int64())
    return pa.table(arrays)


def parse_table(table: str) -> tuple[str, str]:
    """(dataset, table) of ``[project.]dataset.table`` (the project is ignored, as everywhere in
    sqlml), or an error saying how to write it."""
    try:
        parsed = exp.to_table(table, dialect="bigquery")
    except Exception:  # sqlglot's ParseError/TokenError: not a name at all
        parsed = None
    if parsed is None or not parsed.args.get("db") or not isinstance(parsed.this, exp.Identifier) or not parsed.name:
        raise InvalidOptionError(f"The prediction log table {table!r} is not a dataset.table name.", hint="Write --log-table dataset.table, e.g. credit.served.")
    return parsed.args["db"].name, parsed.name


def _default_folder(connection: sqlml.Connection, dataset: str, name: str) -> Path:
    base = connection.warehouse_path
    if base is None:  # an in-memory warehouse does not outlive the process; neither need its spool
        return Path(tempfile.mkdtemp(prefix="sqlml-spool-"))
    return base / "spool" / quote(f"{dataset}.{name}", safe=".")
