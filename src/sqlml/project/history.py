"""Run history in the warehouse: ``sqlml_meta.runs`` and ``sqlml_meta.node_runs``.

Every run and every node run is recorded with its start, end, status, rows written, error and the
hash of the node's SQL, so ``sqlml runs`` can show history, ``--retry-failed`` can pick up where a
run stopped and ``--changed-only`` can skip nodes whose SQL and inputs are unchanged.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlml

SCHEMA = "sqlml_meta"
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.runs (
  run_id STRING, project STRING, command STRING, started_at TIMESTAMP, ended_at TIMESTAMP,
  status STRING, nodes INT64, failures INT64);
CREATE TABLE IF NOT EXISTS {SCHEMA}.node_runs (
  run_id STRING, node STRING, kind STRING, relation STRING, started_at TIMESTAMP, ended_at TIMESTAMP,
  status STRING, rows_written INT64, error STRING, sql_hash STRING, fingerprint STRING, message STRING)
"""


@dataclass
class NodeRun:
    """The outcome of one node in one run.

    ``status`` is ``success``, ``error``, ``skipped``, ``gate_failed`` (the retrained model did not
    pass its gate; the previous version stays current), ``unchanged``, ``pass``, ``fail`` or ``warn``.
    """

    node: str
    kind: str
    relation: str | None
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime
    rows_written: int | None = None
    error: str | None = None
    sql_hash: str | None = None
    fingerprint: str | None = None
    message: str | None = None

    @property
    def failed(self) -> bool:
        """An error or a failing test: what stops downstream nodes."""
        return self.status in ("error", "fail", "skipped")


def utcnow() -> dt.datetime:
    """The current time in UTC, without tzinfo (stored as TIMESTAMP)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """A timestamp as naive UTC, however the driver returned it."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


class History:
    """Reads and writes the run history of one warehouse."""

    def __init__(self, connection: sqlml.Connection):
        self.connection = connection
        connection.query(_DDL)

    def start_run(self, project: str, command: str) -> str:
        """Record a new run; return its id."""
        run_id = uuid.uuid4().hex[:12]
        self.connection.query(
            f"INSERT INTO {SCHEMA}.runs VALUES (@id, @project, @command, @at, NULL, 'running', 0, 0)",
            {"id": run_id, "project": project, "command": command, "at": utcnow()},
        )
        return run_id

    def finish_run(self, run_id: str, status: str, nodes: int, failures: int) -> None:
        """Record a run's end."""
        self.connection.query(
            f"UPDATE {SCHEMA}.runs SET ended_at = @at, status = @status, nodes = @nodes, failures = @failures "
            f"WHERE run_id = @id",
            {"id": run_id, "at": utcnow(), "status": status, "nodes": nodes, "failures": failures},
        )

    def record(self, run_id: str, run: NodeRun) -> None:
        """Record one node's outcome."""
        self.connection.query(
            f"INSERT INTO {SCHEMA}.node_runs VALUES (@run, @node, @kind, @relation, @started, @ended, @status, "
            f"@rows, @error, @hash, @fingerprint, @message)",
            {"run": run_id, "node": run.node, "kind": run.kind, "relation": run.relation, "started": run.started_at,
             "ended": run.ended_at, "status": run.status, "rows": run.rows_written, "error": run.error,
             "hash": run.sql_hash, "fingerprint": run.fingerprint, "message": run.message},
        )  # fmt: skip

    def last_fingerprints(self) -> dict[str, str]:
        """Node → the fingerprint of its last successful build."""
        rows = self.connection.query(
            f"SELECT node, fingerprint FROM {SCHEMA}.node_runs WHERE status IN ('success', 'gate_failed') "
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY node ORDER BY ended_at DESC) = 1"
        ).fetchall()
        return dict(rows)

    def unfinished_nodes(self, project: str) -> set[str]:
        """Nodes that failed or were skipped in the project's most recent run (for --retry-failed)."""
        rows = self.connection.query(
            f"""SELECT node FROM {SCHEMA}.node_runs WHERE run_id = (
                  SELECT run_id FROM {SCHEMA}.runs WHERE project = @p AND status != 'running'
                  ORDER BY started_at DESC LIMIT 1)
                AND status IN ('error', 'skipped', 'fail')""",
            {"p": project},
        ).fetchall()
        return {row[0] for row in rows}

    def last_started(self) -> dict[str, dt.datetime]:
        """Node → when its most recent run started (for schedules)."""
        rows = self.connection.query(f"SELECT node, MAX(started_at) FROM {SCHEMA}.node_runs GROUP BY node").fetchall()
        return {node: _naive_utc(at) for node, at in rows}

    def recent_runs(self, limit: int = 20):
        """The most recent runs, newest first, as a Result."""
        return self.connection.query(
            f"SELECT run_id, project, command, started_at, ended_at, status, nodes, failures FROM {SCHEMA}.runs "
            f"ORDER BY started_at DESC LIMIT @n", {"n": limit},
        )  # fmt: skip

    def node_runs(self, run_id: str):
        """The node runs of one run, in order, as a Result."""
        return self.connection.query(
            f"SELECT node, kind, status, rows_written, ROUND(TIMESTAMP_DIFF(ended_at, started_at, MILLISECOND) / 1000, 2) "
            f"AS seconds, COALESCE(error, message) AS detail FROM {SCHEMA}.node_runs WHERE run_id = @id ORDER BY started_at",
            {"id": run_id},
        )
