"""Closing the runs whose process died, and undoing what the death left half-done.

A run's process can die at any moment (kill -9, the OOM killer, a power cut) and leave its run
recorded as ``running`` for ever. Before every run, ``sqlml runs`` and the scheduler, each run
recorded as running whose process is gone is marked ``interrupted``: its running nodes become
``interrupted``, its pending ones ``not_started``, and ``--retry-failed`` runs them again.

A run's process is gone when nobody holds its run lock (:mod:`.locks`), or, for a run without a
lock file, when its recorded :class:`~.process.ProcessIdentity` is gone; a run recorded without
either (by an older sqlml) can only be a dead one, since every live run records both.

What a death leaves behind, node by node:

* tables, views and incremental merges: nothing; each is one transaction, and DuckDB discards
  an uncommitted one when the file is next opened (see :mod:`.materialize`);
* seeds: nothing; one ``CREATE OR REPLACE TABLE … AS`` statement;
* model versions: nothing; the store publishes a version in one step and removes a dead
  process's staging folder (:mod:`sqlml.store.registry`);
* node locks: nothing; the kernel releases them;
* a gated ML model: the store makes a retrained version current as soon as it is written, and
  the gate is checked after; a death in between leaves a version current that never passed its
  gate. The version that was current when the node started is made current again (a model the
  node created is dropped), as a failed gate would have done.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import sqlml
from sqlml.project.gates import declares_gates
from sqlml.project.history import History, OpenRun, StoppedNode, naive_utc
from sqlml.project.kinds import NodeKind
from sqlml.project.locks import discard_run_lock, is_run_lock_free, lock_folder
from sqlml.project.nodes import Node
from sqlml.store.records import ModelRef


def recover(connection: sqlml.Connection, history: History, nodes: dict[str, Node], echo: Callable[[str], None]) -> list[str]:
    """Mark every run whose process is gone as interrupted and repair what it left; return their ids.

    Args:
        nodes: the project's nodes by name (to find the gates of interrupted ML nodes).
        echo: called with one line per interrupted run and per repaired model.
    """
    folder = lock_folder(connection.warehouse_path)
    interrupted = []
    for run in history.open_runs():
        if not is_gone(run, folder):
            continue
        who = run.process.describe() if run.process else "not recorded"
        stopped = history.mark_interrupted(run.run_id, f"its process ({who}) died")
        discard_run_lock(folder, run.run_id)
        echo(f"Run {run.run_id} (started {run.started_at:%Y-%m-%d %H:%M:%S} UTC) was interrupted: its process ({who}) died.")
        for node in stopped:
            if node.node in nodes and nodes[node.node].kind is NodeKind.ML:
                restore_gated_model(connection, nodes[node.node], node, echo)
        interrupted.append(run.run_id)
    return interrupted


def is_gone(run: OpenRun, folder: Path | None) -> bool:
    """Whether the process of a run recorded as running no longer runs it."""
    free = is_run_lock_free(folder, run.run_id)
    if free is not None:
        return free
    return run.process is None or run.process.is_gone()


def restore_gated_model(connection: sqlml.Connection, node: Node, stopped: StoppedNode, echo: Callable[[str], None]) -> None:
    """Make current again the version a gated model had before an interrupted retrain.

    Only a version written after the node started is undone: one that was current before, or
    that a later run trained, stays.
    """
    dataset, name = node.relation.split(".", 1)
    if not declares_gates(node.config) or not connection.models.exists(dataset, name):
        return
    current = connection.models.resolve(ModelRef(dataset, name))
    if current.version == stopped.previous_version or naive_utc(dt.datetime.fromisoformat(current.created_at)) < stopped.started_at:
        return
    unchecked = f"{node.relation}: version {current.version} was trained by an interrupted run and its gate was never checked"
    try:
        if stopped.previous_version is None:
            connection.query(f"DROP MODEL {node.relation}")
            echo(f"{unchecked}; the model did not exist before, so it was dropped.")
        else:
            connection.models.set_aliases(ModelRef(dataset, name, str(stopped.previous_version)), ["default"])
            echo(f"{unchecked}; version {stopped.previous_version} is current again.")
    except sqlml.Error as error:  # e.g. the previous version was dropped since
        echo(f"{unchecked}, and it could not be undone: {error}")

