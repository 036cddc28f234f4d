"""Running a project: seeds, data models, ML models, scripts and tests in dependency order.

Independent nodes run in parallel (``threads``); a node whose upstream failed is skipped; every
outcome is recorded in ``sqlml_meta`` as it happens. ML models retrain only when their SQL or
inputs changed (or when forced: ``--full-refresh``, a schedule, ``retrain='always'``), and a
retrained model replaces the current one only if its gate on ML.EVALUATE holds. Each run first
closes the runs whose process died (see :mod:`.recovery`).
"""

from __future__ import annotations

import concurrent.futures as futures
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import sqlml
from sqlml.errors import Error, ProjectError
from sqlml.project import datatests, recovery
from sqlml.project.config import Project, load_project
from sqlml.project.graph import Graph
from sqlml.project.history import History, NodeRun, new_run_id, utcnow
from sqlml.project.kinds import Command, Materialization, NodeKind, NodeStatus, RunStatus
from sqlml.project.locks import lock_folder, node_lock, run_lock
from sqlml.project.node_runners import RUNNER_MAP
from sqlml.project.nodes import Node, discover, render_context
from sqlml.project.templating import RenderContext
from sqlml.store.records import ModelRef


@dataclass
class RunOptions:
    """What to run and how (the ``sqlml run`` flags).

    Attributes:
        command: ``run``, ``build``, ``seed`` or ``test`` (a :class:`Command`; a string is read as one).
        select / exclude: dbt-style selectors (see :meth:`Graph.select`).
        full_refresh: rebuild incremental tables and retrain every ML model.
        threads: how many nodes may run at once.
        changed_only: skip nodes whose SQL and inputs did not change since their last success.
        retry_failed: run only what did not succeed in the last run: what failed, was skipped,
            was interrupted or never started.
        force: node names to rebuild even if unchanged (the scheduler's due nodes).
    """

    command: Command = Command.RUN
    select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    full_refresh: bool = False
    threads: int = 1
    changed_only: bool = False
    retry_failed: bool = False
    force: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.command = Command(self.command)


@dataclass
class _Run:
    """What one call of :meth:`Runner.run` tracks."""

    id: str
    options: RunOptions
    history: History
    total: int
    fingerprints: dict[str, str]
    previous: dict[str, str]  # node → fingerprint of its last successful build
    outcomes: dict[str, NodeRun] = field(default_factory=dict)
    started: int = 0


class Runner:
    """A loaded project and a connection to its warehouse.

    Args:
        project: a :class:`Project`, or a folder to load one from.
        connection: an open connection (default: the project's warehouse and model store, opened
            when first needed).
        echo: called with one line per node event (the CLI prints them).
        lock_timeout: seconds to wait for another process to release the warehouse (when the
            runner opens the connection).
    """

    def __init__(self, project: Project | str | Path | None = None, connection: sqlml.Connection | None = None,
                 echo: Callable[[str], None] | None = None, *, lock_timeout: float = 30.0) -> None:  # fmt: skip
        self.project = project if isinstance(project, Project) else load_project(project)
        self._own_connection = connection is None
        self._connection = connection
        self._lock_timeout = lock_timeout
        self.echo = echo or (lambda line: None)
        nodes, self.templates = discover(self.project)
        tests = datatests.generic_test_nodes(self.project, {node.name: node for node in nodes}, self.templates)
        self.graph = Graph(nodes + tests)
        self.nodes = self.graph.nodes

    @property
    def connection(self) -> sqlml.Connection:
        """The connection to the project's warehouse, opened on first use: listing, drawing and
        compiling the project (``sqlml ls``, ``dag``, ``compile``) never query it, so they create
        no warehouse or model folder."""
        if self._connection is None:
            project = self.project
            on_spark = {"engine": "spark", "spark": project.spark_master} if project.engine == "spark" else {}
            self._connection = sqlml.connect(project.warehouse, project.models, lock_timeout=self._lock_timeout, **on_spark)
        return self._connection

    @property
    def _locks(self) -> Path | None:
        return lock_folder(self.connection.warehouse_path)

    def close(self) -> None:
        """Close the connection if the runner opened it."""
        if self._own_connection and self._connection is not None:
            self._connection.close()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- compiling -------------------------------------------------------------------------

    def relation_of(self, name: str) -> str:
        """What ``ref(name)`` renders to: the node's relation, or its query for an ephemeral model."""
        node = self.nodes[name]
        if node.kind is NodeKind.DATA and node.materialized is Materialization.EPHEMERAL:
            return f"(\n{self.compile(node)}\n)"
        return node.relation

    def compile(self, node: Node, incremental: bool = False) -> str:
        """The SQL a node runs, Jinja rendered with real relations."""
        if node.kind is NodeKind.SEED:
            return f"-- seed: {node.path.name} -> {node.relation}"
        if node.kind is NodeKind.TEST and "test" in node.config:
            target = node.config.get("relation") or self.nodes[node.config["model"]].relation
            to, where = (self.templates.render(str(node.config[key]), self._context(node, False)).strip() if key in node.config else None
                         for key in ("to_template", "where"))  # fmt: skip
            return datatests.generic_test_sql(node, target, to, where)
        return self.templates.render(node.text, self._context(node, incremental)).strip().rstrip(";")

    def _context(self, node: Node, incremental: bool) -> RenderContext:
        return render_context(self.project, node.name, node.path, self.relation_of, incremental)

    # -- running ---------------------------------------------------------------------------

    def selected(self, options: RunOptions, history: History | None = None) -> list[str]:
        """Node names a command runs, in dependency order."""
        names = self.graph.select(options.select, options.exclude, self.project.root)
        if options.command is Command.TEST and options.select:
            tested = set(names)
            names = [n for n in self.graph.order if self.nodes[n].kind is NodeKind.TEST and (n in tested or set(self.nodes[n].refs) & tested)]
        if options.retry_failed and history is not None:
            unfinished = history.unfinished_nodes(self.project.name)
            names = [n for n in names if n in unfinished]
        return [n for n in names if self.nodes[n].kind in options.command.kinds and self.nodes[n].config.get("enabled", True)]

    def recover(self, history: History | None = None) -> list[str]:
        """Mark the runs whose process died as interrupted and repair what they left; return their ids."""
        return recovery.recover(self.connection, history or History(self.connection), self.nodes, self.echo)

    def run(self, options: RunOptions | None = None) -> list[NodeRun]:
        """Run the selected nodes; return their outcomes in the order they finished."""
        options = options or RunOptions()
        history = History(self.connection)
        self.recover(history)
        names = self.selected(options, history)
        run_id = new_run_id()
        with run_lock(self._locks, run_id):
            history.start_run(run_id, self.project.name, options.command, [self.nodes[n] for n in names])
            run = _Run(run_id, options, history, len(names), self._fingerprints(run_id), history.last_fingerprints())
            self._create_datasets(names)
            self.echo(f"Running {len(names)} node(s) of {self.project.name} with {options.threads} thread(s).")
            try:
                self._run_nodes(names, self._run_dependencies(names, options.command), run)
            except BaseException:
                history.close_nodes(run_id, "the run was cancelled")
                history.finish_run(run_id, RunStatus.CANCELLED, len(run.outcomes), sum(o.failed for o in run.outcomes.values()))
                raise
            outcomes = list(run.outcomes.values())
            failures = sum(o.status.is_failure for o in outcomes)
            history.finish_run(run_id, RunStatus.ERROR if failures else RunStatus.SUCCESS, len(outcomes), failures)
        self.echo(f"Done: {sum(o.status.is_ok for o in outcomes)} ok, "
                  f"{failures} failed, {sum(o.status is NodeStatus.SKIPPED for o in outcomes)} skipped, "
                  f"{sum(o.status.is_warning for o in outcomes)} warnings.")  # fmt: skip
        return outcomes

    def _run_nodes(self, names: list[str], dependencies: dict[str, set[str]], run: _Run) -> None:
        """Start each node once its upstream is done, at most ``threads`` at a time; skip those whose upstream failed."""
        threads = max(1, run.options.threads)
        pending = list(names)
        with futures.ThreadPoolExecutor(threads) as pool:
            running: dict[futures.Future, str] = {}
            try:
                while pending or running:
                    for name in list(pending):
                        if any(d in pending or d in running.values() for d in dependencies[name]):
                            continue
                        blocked = [d for d in dependencies[name] if run.outcomes[d].failed]
                        if blocked:
                            pending.remove(name)
                            self._finished(self._skipped(name, blocked[0], run), run)
                        elif len(running) < threads:
                            pending.remove(name)
                            running[self._start(name, pool, run)] = name
                    if not running:
                        if pending:
                            raise ProjectError(f"Nodes wait on each other: {', '.join(pending)}.")
                        continue
                    # A timeout, so that Ctrl-C is seen: the signal may land on a DuckDB thread,
                    # and then nothing wakes a main thread blocked in an untimed wait.
                    done, _ = futures.wait(running, timeout=0.5, return_when=futures.FIRST_COMPLETED)
                    for future in done:
                        running.pop(future)
                        self._finished(future.result(), run)
            except BaseException:
                self._stop(pool)
                raise

    def _stop(self, pool: futures.ThreadPoolExecutor) -> None:
        """Stop the nodes running on ``pool`` (Ctrl-C) instead of waiting for them to finish.

        The pool's threads are awaited, not the futures known so far: Ctrl-C may land between
        a submit and its bookkeeping. The interrupt is repeated because a node that was just
        starting a statement would miss a single one.
        """
        stopper = threading.Thread(target=pool.shutdown, kwargs={"cancel_futures": True})
        stopper.start()
        while stopper.is_alive():
            self.connection.interrupt()
            stopper.join(0.1)

    def _skipped(self, name: str, blocker: str, run: _Run) -> NodeRun:
        now = utcnow()
        node = self.nodes[name]
        return NodeRun(name, node.kind, node.relation, NodeStatus.SKIPPED, now, now, message=f"upstream {blocker} {run.outcomes[blocker].status}")

    def _start(self, name: str, pool: futures.Executor, run: _Run) -> futures.Future:
        """Record a node as running (an ML node with its current model version), then run it on the pool."""
        node = self.nodes[name]
        unchanged = self._unchanged(name, run.options, run.fingerprints, run.previous)
        run.history.node_started(run.id, name, self.current_version(node) if node.kind is NodeKind.ML else None)
        run.started += 1
        self.echo(f"{run.started} of {run.total} START {node.kind} {name}")
        return pool.submit(self._run_node, name, run.options, run.fingerprints[name], unchanged)

    def _create_datasets(self, names: list[str]) -> None:
        """Create the datasets nodes write into, up front: concurrent CREATE SCHEMA would conflict."""
        datasets = {self.nodes[n].relation.split(".")[0] for n in names if self.nodes[n].relation and "." in self.nodes[n].relation}
        for dataset in sorted(datasets):
            self.connection.query(f"CREATE SCHEMA IF NOT EXISTS `{dataset}`")

    def _run_dependencies(self, names: list[str], command: Command) -> dict[str, set[str]]:
        """Each selected node's selected upstream; in ``build`` also the tests of its parents."""
        chosen = set(names)
        tests_of: dict[str, set[str]] = {}
        for name in names:
            if self.nodes[name].kind is NodeKind.TEST:
                for parent in self.nodes[name].depends_on:
                    tests_of.setdefault(parent, set()).add(name)
        result = {}
        for name in names:
            deps = {d for d in self.graph.ancestors(name) if d in chosen}
            if command is Command.BUILD and self.nodes[name].kind is not NodeKind.TEST:
                for parent in self.nodes[name].depends_on:
                    deps |= {t for t in tests_of.get(parent, ()) if name not in self.graph.ancestors(t)}
            result[name] = deps
        return result

    def _finished(self, outcome: NodeRun, run: _Run) -> None:
        run.outcomes[outcome.node] = outcome
        run.history.record(run.id, outcome)
        seconds = (outcome.ended_at - outcome.started_at).total_seconds()
        detail = outcome.error or outcome.message or ""
        rows = f" {outcome.rows_written:,} rows" if outcome.rows_written not in (None, -1) else ""
        self.echo(f"{len(run.outcomes)} of {run.total} {outcome.status.upper():<11} {outcome.kind} {outcome.node}{rows}"
                  f" [{seconds:.2f}s]" + (f" — {detail}" if detail else ""))  # fmt: skip

    def _fingerprints(self, run_id: str) -> dict[str, str]:
        """A hash of each node's compiled SQL and its upstream hashes: equal means nothing to redo."""
        result: dict[str, str] = {}
        for name in self.graph.order:
            node = self.nodes[name]
            if node.kind is NodeKind.SEED:
                own = hashlib.sha256(node.path.read_bytes()).hexdigest()
            else:
                try:
                    own = hashlib.sha256((self.compile(node) + repr(sorted(node.config.items(), key=str))).encode()).hexdigest()
                except Error:
                    own = run_id  # the run will report the error
            if node.kind is NodeKind.DATA and node.materialized is Materialization.INCREMENTAL:
                own += run_id  # its output depends on when it runs
            parents = "".join(result[p] for p in sorted(node.depends_on))
            result[name] = hashlib.sha256((own + parents).encode()).hexdigest()[:16]
        return result

    def _unchanged(self, name: str, options: RunOptions, fingerprints: dict, previous: dict) -> bool:
        node = self.nodes[name]
        if options.full_refresh or name in options.force or node.kind is NodeKind.TEST or previous.get(name) != fingerprints[name]:
            return False
        if node.kind is NodeKind.ML:
            return node.config.get("retrain", "on_change") != "always" and self._model_exists(node.relation)
        return options.changed_only

    def _model_exists(self, relation: str) -> bool:
        dataset, name = relation.split(".", 1)
        return self.connection.models.exists(dataset, name)

    def current_version(self, node: Node) -> int | None:
        """The version of an ML node's model that is current now; None if there is no model."""
        if not self._model_exists(node.relation):
            return None
        dataset, name = node.relation.split(".", 1)
        return self.connection.models.resolve(ModelRef(dataset, name)).version

    def _run_node(self, name: str, options: RunOptions, fingerprint: str, unchanged: bool) -> NodeRun:
        node = self.nodes[name]
        started = utcnow()
        outcome = NodeRun(name, node.kind, node.relation, NodeStatus.SUCCESS, started, started, fingerprint=fingerprint,
                          sql_hash=node.text_hash())  # fmt: skip
        if unchanged:
            outcome.status, outcome.message = NodeStatus.UNCHANGED, "SQL and inputs unchanged since the last success"
            return outcome
        with node_lock(self._locks, name) as acquired:
            if not acquired:
                outcome.status, outcome.message = NodeStatus.SKIPPED, "another process is running this node"
            else:
                try:
                    with self.connection.cursor() as con:  # a session of its own: transactions stay the node's
                        con.dialect = self.project.dialect  # how the project's SQL is written
                        RUNNER_MAP[node.kind](self, node, options, outcome, con)
                except Error as error:
                    outcome.status, outcome.error = node.kind.status_on_error, str(error)
        outcome.ended_at = utcnow()
        return outcome
