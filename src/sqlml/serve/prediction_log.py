"""Served predictions appended to a warehouse table, so that served traffic can be checked later
(``ML.VALIDATE_DATA_SKEW(MODEL m, (SELECT … FROM the log))``) and audited.

Requests only put their record on a queue; a background thread writes what has gathered about
once a second, in one INSERT, and holds the warehouse file only while it writes. Columns:
``request_id``, ``model``, ``model_version``, ``served_at``, ``latency_ms``, ``inputs`` and
``outputs`` (JSON text, one row per instance).
"""

from __future__ import annotations

import datetime
import json
import logging
import queue
import threading

import pyarrow as pa

import sqlml

LOG = logging.getLogger("sqlml.serve")
FLUSH_SECONDS = 1.0
_SCHEMA = pa.schema([
    ("request_id", pa.string()), ("model", pa.string()), ("model_version", pa.int64()),
    ("served_at", pa.timestamp("us", tz="UTC")), ("latency_ms", pa.float64()), ("inputs", pa.string()), ("outputs", pa.string()),
])  # fmt: skip


class PredictionLog:
    """Appends served predictions to ``table`` (``dataset.table``, created on first write)."""

    def __init__(self, connection: sqlml.Connection, table: str):
        self.connection = connection
        self.table = table
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlml-prediction-log", daemon=True)
        self._thread.start()

    def add(self, request_id: str, served, instances: list[dict], outputs: list[dict], latency_ms: float) -> None:
        """Queue one request's rows (one per instance)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        for instance, output in zip(instances, outputs):
            self._queue.put((request_id, served.name, served.version, now, latency_ms, json.dumps(instance, default=str), json.dumps(output, default=str)))

    def close(self) -> None:
        """Write what is queued and stop."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._flush()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self._flush()

    def _flush(self) -> None:
        rows = []
        while True:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if not rows:
            return
        batch = pa.Table.from_pylist([dict(zip(_SCHEMA.names, row)) for row in rows], schema=_SCHEMA)
        try:
            self.connection.register("__sqlml_served", batch)
            self.connection.query(
                f"CREATE TABLE IF NOT EXISTS {self.table} AS SELECT * FROM __sqlml_served WHERE FALSE; "
                f"INSERT INTO {self.table} SELECT * FROM __sqlml_served"
            )
        except sqlml.Error as error:
            LOG.error(json.dumps({"event": "prediction_log_failed", "table": self.table, "rows": len(rows), "error": error.message}))
        finally:
            self.connection.unregister("__sqlml_served")
