"""What a project's nodes are, how they are built, and how they and their runs end: ``str`` Enums.

The values are the strings ``sqlml_meta.runs`` and ``sqlml_meta.node_runs`` store and the CLI
prints, so a history written before these Enums existed reads the same. Groups of members that
the runner treats alike are tables here, next to the Enum (dbt's ``NodeType`` and ``RunStatus``
in ``dbt/node_types.py`` and ``dbt/artifacts/schemas/results.py`` do the same), so that no other
module compares kinds or statuses with strings.
"""

from __future__ import annotations

from enum import StrEnum


class NodeKind(StrEnum):
    """What a node is (see :mod:`sqlml.project.nodes`)."""

    SEED = "seed"  # a CSV file under seeds/, loaded as a table
    DATA = "data"  # one query, materialized as its config says
    ML = "ml"  # one CREATE MODEL
    SCRIPT = "script"  # any other SQL, run as a script
    TEST = "test"  # a query returning failing rows (YAML generic tests and tests/*.sql)

    @property
    def status_on_error(self) -> NodeStatus:
        """A node's status when it raises: a test *fails*, anything else ends in *error*."""
        return _STATUS_ON_ERROR[self]


class Materialization(StrEnum):
    """How a data model is built (``config(materialized=…)``); dbt's four."""

    VIEW = "view"
    TABLE = "table"
    INCREMENTAL = "incremental"
    EPHEMERAL = "ephemeral"  # never built: inlined where referenced


class RelationKind(StrEnum):
    """What a relation is in the warehouse (:meth:`sqlml.Connection.relation_kind`)."""

    TABLE = "table"
    VIEW = "view"


class Command(StrEnum):
    """A runner command (``sqlml run``, ``build``, ``seed``, ``test``)."""

    RUN = "run"
    BUILD = "build"
    SEED = "seed"
    TEST = "test"

    @property
    def kinds(self) -> frozenset[NodeKind]:
        """The node kinds the command runs."""
        return _COMMAND_KINDS[self]


class NodeStatus(StrEnum):
    """How a node stands in a run: waiting, running, or how it ended."""

    PENDING = "pending"  # selected, not started yet
    RUNNING = "running"
    SUCCESS = "success"
    UNCHANGED = "unchanged"  # SQL and inputs unchanged since its last success: not rebuilt
    PASS = "pass"  # a test without failing rows
    GATE_FAILED = "gate_failed"  # a retrained model missed its gate; the previous version stays current
    WARN = "warn"  # a test with failing rows and severity 'warn'
    ERROR = "error"
    FAIL = "fail"  # a test with failing rows
    SKIPPED = "skipped"  # an upstream node failed, or another process was running it
    INTERRUPTED = "interrupted"  # its run stopped while it ran
    NOT_STARTED = "not_started"  # its run stopped before it started

    @property
    def is_failure(self) -> bool:
        """An error or a failing test: what fails the run and the CLI command."""
        return self in FAILURES

    @property
    def stops_downstream(self) -> bool:
        """Whether the nodes downstream of it are skipped."""
        return self in FAILURES or self is NodeStatus.SKIPPED

    @property
    def is_ok(self) -> bool:
        """Built, unchanged, or a passing test."""
        return self in (NodeStatus.SUCCESS, NodeStatus.PASS, NodeStatus.UNCHANGED)

    @property
    def is_warning(self) -> bool:
        """Done, with something to look at: a missed gate or a warning test."""
        return self in (NodeStatus.GATE_FAILED, NodeStatus.WARN)


class RunStatus(StrEnum):
    """How a run stands (``sqlml_meta.runs.status``)."""

    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    CANCELLED = "cancelled"  # stopped by Ctrl-C or an exception
    INTERRUPTED = "interrupted"  # its process died (see :mod:`sqlml.project.recovery`)


#: Node statuses that count as failures of the run.
FAILURES = frozenset({NodeStatus.ERROR, NodeStatus.FAIL})
#: Node statuses that end a node without success: what ``--retry-failed`` runs again.
UNFINISHED = (NodeStatus.ERROR, NodeStatus.FAIL, NodeStatus.SKIPPED, NodeStatus.INTERRUPTED, NodeStatus.NOT_STARTED)
#: Node statuses of a run that has not ended (yet).
OPEN = (NodeStatus.PENDING, NodeStatus.RUNNING)
#: Node statuses after which the node's output is its fingerprint's (``--changed-only``).
BUILT = (NodeStatus.SUCCESS, NodeStatus.GATE_FAILED)

_STATUS_ON_ERROR = {
    NodeKind.SEED: NodeStatus.ERROR,
    NodeKind.DATA: NodeStatus.ERROR,
    NodeKind.ML: NodeStatus.ERROR,
    NodeKind.SCRIPT: NodeStatus.ERROR,
    NodeKind.TEST: NodeStatus.FAIL,
}
_BUILDS = frozenset({NodeKind.SEED, NodeKind.DATA, NodeKind.ML, NodeKind.SCRIPT})
_COMMAND_KINDS = {
    Command.RUN: _BUILDS,
    Command.BUILD: _BUILDS | {NodeKind.TEST},
    Command.SEED: frozenset({NodeKind.SEED}),
    Command.TEST: frozenset({NodeKind.TEST}),
}
