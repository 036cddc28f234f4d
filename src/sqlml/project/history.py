"""Run history in the warehouse: ``sqlml_meta.runs`` and ``sqlml_meta.node_runs``.

Every run and every node run is recorded with its start, end, status, rows written, error and the
hash of the node's SQL, so ``sqlml runs`` can show history, ``--retry-failed`` can pick up where a
run stopped and ``--changed-only`` can skip nodes whose SQL and inputs are unchanged.

A run is written as it goes, so that a run whose process is killed leaves an exact account: the
run row (with the identity of its process) and one ``pending`` row per selected node at the
start, each node ``running`` when it starts and its outcome when it ends. Statuses:

* runs: a :class:`~sqlml.project.kinds.RunStatus`: ``running``, ``success``, ``error``,
  ``cancelled`` (stopped by Ctrl-C or an exception) and ``interrupted`` (its process died: see
  :mod:`sqlml.project.recovery`);
* node runs: a :class:`~sqlml.project.kinds.NodeStatus`: ``pending``, ``running``, the outcomes of
  :class:`NodeRun`, ``interrupted`` (its run stopped while it ran) and ``not_started`` (its run
  stopped before it started).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlml
from sqlml.project.kinds import BUILT, FAILURES, OPEN, UNFINISHED, Command, NodeKind, NodeStatus, RunStatus
from sqlml.process import ProcessIdentity
from sqlml.warehouse.meta import META_SCHEMA, RUN_HISTORY_DDL

if TYPE_CHECKING:
    from sqlml.project.nodes import Node
    from sqlml.result import Result

SCHEMA = META_SCHEMA


@dataclass
class NodeRun:
    """The outcome of one node in one run.

    ``status`` is ``success``, ``error``, ``skipped``, ``gate_failed`` (the retrained model did not
    pass its gate; the previous version stays current), ``unchanged``, ``pass``, ``fail`` or ``warn``.
    """

    node: str
    kind: NodeKind
    relation: str | None
    status: NodeStatus
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
        return self.status.stops_downstream


@dataclass(frozen=True)
class OpenRun:
    """A run recorded as running.

    Attributes:
        run_id: its id.
        started_at: when it started (naive UTC).
        process: the process running it; None for a run recorded by a version of sqlml that did
            not record it.
    """

    run_id: str
    started_at: dt.datetime
    process: ProcessIdentity | None


@dataclass(frozen=True)
class StoppedNode:
    """A node that was running when its run stopped.

    Attributes:
        node: the node's name.
        kind: its kind (``ml`` nodes may need their model's gate undone).
        started_at: when it started (naive UTC).
        previous_version: for an ML node, the model version that was current when it started
            (None if the model did not exist).
    """

    node: str
    kind: NodeKind
    started_at: dt.datetime
    previous_version: int | None


def utcnow() -> dt.datetime:
    """The current time in UTC, without tzinfo (stored as TIMESTAMP)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_run_id() -> str:
    """A fresh run id."""
    return uuid.uuid4().hex[:12]


def naive_utc(value: dt.datetime) -> dt.datetime:
    """A timestamp as naive UTC, however the driver returned it."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


class History:
    """Reads and writes the run history of one warehouse."""

    def __init__(self, connection: sqlml.Connection) -> None:
        self.connection = connection
        connection.query(RUN_HISTORY_DDL)

    # -- writing a run as it goes --------------------------------------------------------------

    def start_run(self, run_id: str, project: str, command: Command, nodes: list[Node], process: ProcessIdentity | None = None) -> None:
        """Record a new run, the process running it and a ``pending`` row for each of its nodes.

        Args:
            nodes: the selected :class:`~sqlml.project.nodes.Node` objects, in order.
            process: the process running it (default: this one).
        """
        process = process or ProcessIdentity.current()
        self.connection.query(
            f"INSERT INTO {SCHEMA}.runs (run_id, project, command, started_at, status, nodes, failures, host, pid, "
            f"process_started_at) VALUES (@id, @project, @command, @at, @running, 0, 0, @host, @pid, @process_at)",
            {"id": run_id, "project": project, "command": command, "at": utcnow(), "running": RunStatus.RUNNING,
             "host": process.host, "pid": process.pid, "process_at": process.started_at},
        )  # fmt: skip
        if nodes:
            self.connection.query(
                f"INSERT INTO {SCHEMA}.node_runs (run_id, node, kind, relation, status) "
                f"SELECT @id, n.node, n.kind, n.relation, @pending FROM UNNEST(@nodes) AS n",
                {"id": run_id, "pending": NodeStatus.PENDING, "nodes": [{"node": n.name, "kind": n.kind, "relation": n.relation} for n in nodes]},
            )

    def node_started(self, run_id: str, node: str, previous_version: int | None = None) -> None:
        """Mark a node ``running``; an ML node records the model version current before it."""
        self.connection.query(
            f"UPDATE {SCHEMA}.node_runs SET status = @running, started_at = @at, previous_version = @previous "
            f"WHERE run_id = @id AND node = @node",
            {"id": run_id, "node": node, "at": utcnow(), "previous": previous_version, "running": NodeStatus.RUNNING},
        )

    def record(self, run_id: str, run: NodeRun) -> None:
        """Record one node's outcome."""
        self.connection.query(
            f"UPDATE {SCHEMA}.node_runs SET kind = @kind, relation = @relation, started_at = @started, ended_at = @ended, "
            f"status = @status, rows_written = @rows, error = @error, sql_hash = @hash, fingerprint = @fingerprint, "
            f"message = @message WHERE run_id = @run AND node = @node",
            {"run": run_id, "node": run.node, "kind": run.kind, "relation": run.relation, "started": run.started_at,
             "ended": run.ended_at, "status": run.status, "rows": run.rows_written, "error": run.error,
             "hash": run.sql_hash, "fingerprint": run.fingerprint, "message": run.message},
        )  # fmt: skip

    def finish_run(self, run_id: str, status: RunStatus, nodes: int, failures: int) -> None:
        """Record a run's end."""
        self.connection.query(
            f"UPDATE {SCHEMA}.runs SET ended_at = @at, status = @status, nodes = @nodes, failures = @failures "
            f"WHERE run_id = @id",
            {"id": run_id, "at": utcnow(), "status": status, "nodes": nodes, "failures": failures},
        )

    # -- runs whose process died -----------------------------------------------------------------

    def open_runs(self) -> list[OpenRun]:
        """Every run recorded as running, oldest first."""
        rows = self.connection.query(
            f"SELECT run_id, started_at, host, pid, process_started_at FROM {SCHEMA}.runs WHERE status = @running "
            f"ORDER BY started_at",
            {"running": RunStatus.RUNNING},
        ).fetchall()
        return [
            OpenRun(run_id, naive_utc(started), None if pid is None else ProcessIdentity(host, pid, naive_utc(process_at)))
            for run_id, started, host, pid, process_at in rows
        ]

    def mark_interrupted(self, run_id: str, reason: str) -> list[StoppedNode]:
        """Record that a run stopped without finishing; return the nodes it left running."""
        stopped = self.close_nodes(run_id, reason)
        self.connection.query(
            f"""UPDATE {SCHEMA}.runs SET status = @interrupted,
                  nodes = (SELECT COUNT(*) FROM {SCHEMA}.node_runs AS n WHERE n.run_id = @id AND n.ended_at IS NOT NULL),
                  failures = (SELECT COUNT(*) FROM {SCHEMA}.node_runs AS n WHERE n.run_id = @id AND n.status IN UNNEST(@failures))
                WHERE run_id = @id AND status = @running""",
            {"id": run_id, "interrupted": RunStatus.INTERRUPTED, "running": RunStatus.RUNNING, "failures": sorted(FAILURES)},
        )  # a run that ended meanwhile keeps its status
        return stopped

    def close_nodes(self, run_id: str, reason: str) -> list[StoppedNode]:
        """``running`` nodes of a stopped run become ``interrupted``, ``pending`` ones ``not_started``.

        Returns:
            The nodes that were running.
        """
        rows = self.connection.query(
            f"SELECT node, kind, started_at, previous_version FROM {SCHEMA}.node_runs WHERE run_id = @id AND status = @running",
            {"id": run_id, "running": NodeStatus.RUNNING},
        ).fetchall()
        self.connection.query(
            f"UPDATE {SCHEMA}.node_runs SET status = CASE status WHEN @running THEN @interrupted ELSE @not_started END, "
            f"message = CASE status WHEN @running THEN @reason || ' while this node ran' "
            f"ELSE @reason || ' before this node started' END WHERE run_id = @id AND status IN UNNEST(@open)",
            {"id": run_id, "reason": reason, "open": list(OPEN), "running": NodeStatus.RUNNING,
             "interrupted": NodeStatus.INTERRUPTED, "not_started": NodeStatus.NOT_STARTED},
        )  # fmt: skip
        return [StoppedNode(node, NodeKind(kind), naive_utc(started), previous) for node, kind, started, previous in rows]

    # -- reading ---------------------------------------------------------------------------------

    def last_fingerprints(self) -> dict[str, str]:
        """Node → the fingerprint of its last successful build."""
        rows = self.connection.query(
            f"SELECT node, fingerprint FROM {SCHEMA}.node_runs WHERE status IN UNNEST(@built) "
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY node ORDER BY ended_at DESC) = 1",
            {"built": list(BUILT)},
        ).fetchall()
        return dict(rows)

    def unfinished_nodes(self, project: str) -> set[str]:
        """Nodes of the project's most recent ended run that did not succeed (for --retry-failed).

        That is every node it selected that failed, was skipped, was interrupted or never started.
        """
        rows = self.connection.query(
            f"""SELECT node FROM {SCHEMA}.node_runs WHERE run_id = (
                  SELECT run_id FROM {SCHEMA}.runs WHERE project = @p AND status != @running
                  ORDER BY started_at DESC LIMIT 1)
                AND status IN UNNEST(@unfinished)""",
            {"p": project, "unfinished": list(UNFINISHED), "running": RunStatus.RUNNING},
        ).fetchall()
        return {row[0] for row in rows}

    def last_started(self) -> dict[str, dt.datetime]:
        """Node → when its most recent run started (for schedules); an interrupted one does not count."""
        rows = self.connection.query(
            f"SELECT node, MAX(started_at) FROM {SCHEMA}.node_runs WHERE started_at IS NOT NULL AND status != @interrupted "
            f"GROUP BY node",
            {"interrupted": NodeStatus.INTERRUPTED},
        ).fetchall()
        return {node: naive_utc(at) for node, at in rows}

    def recent_runs(self, limit: int = 20) -> Result:
        """The most recent runs, newest first, as a Result."""
        return self.connection.query(
            f"SELECT run_id, project, command, started_at, ended_at, status, nodes, failures, host, pid FROM {SCHEMA}.runs "
            f"ORDER BY started_at DESC LIMIT @n", {"n": limit},
        )  # fmt: skip

    def node_runs(self, run_id: str) -> Result:
        """The node runs of one run, in the order they started (pending ones last), as a Result."""
        return self.connection.query(
            f"SELECT node, kind, status, rows_written, ROUND(TIMESTAMP_DIFF(ended_at, started_at, MILLISECOND) / 1000, 2) "
            f"AS seconds, COALESCE(error, message) AS detail FROM {SCHEMA}.node_runs WHERE run_id = @id "
            f"ORDER BY started_at NULLS LAST",
            {"id": run_id},
        )
