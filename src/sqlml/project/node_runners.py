"""Building one node, by its kind: :data:`RUNNER_MAP` maps each :class:`NodeKind` to the function
that runs it, as dbt-core's ``task/build.py`` maps each resource type to its runner class.

Each function runs its node on the session it is given and writes what happened (rows written,
a message, the status of a test or of a missed gate) into the node's :class:`NodeRun`; an error
it raises is recorded by the :class:`~sqlml.project.runner.Runner`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlml.errors import ProjectError
from sqlml.project import datatests, gates, materialize
from sqlml.project.folder_config import IGNORED_KEYS
from sqlml.project.history import NodeRun
from sqlml.project.kinds import Materialization, NodeKind, NodeStatus, RelationKind
from sqlml.project.nodes import Node
from sqlml.sql.dialect import Sqlml
from sqlml.sql.nodes import Statement
from sqlml.sql.script import ScriptParser
from sqlml.store.records import ModelRef

if TYPE_CHECKING:
    from sqlml.connection import Connection
    from sqlml.project.runner import Runner, RunOptions

#: Config keys that describe a node rather than how to read a seed's CSV.
NODE_KEYS = {"materialized", "tags", "schedule", "schema", "dataset", "alias", "enabled", "retrain", "gate", "fairness", "skew",
             "severity", "column_types", *IGNORED_KEYS}  # fmt: skip

#: What runs one node: (the runner, the node, the run's options, its outcome to fill, its session).
NodeRunner = Callable[["Runner", Node, "RunOptions", NodeRun, "Connection"], None]


def load_seed(runner: Runner, node: Node, options: RunOptions, outcome: NodeRun, con: Connection) -> None:
    """Load a seed's CSV file into its table (the config's reader options passed on).

    dbt's ``column_types`` are types of the project's SQL: those columns are read as text and
    cast by a query (so ``STRING`` keeps ``01234``'s zero), in one transaction that replaces the table
    (https://docs.getdbt.com/reference/resource-configs/column_types).
    """
    reader = {k: v for k, v in node.config.items() if k not in NODE_KEYS}
    types = node.config.get("column_types") or {}
    if not types:
        outcome.rows_written = con.load(node.relation, node.path, format="csv", **reader)
        return
    staging = f"{node.relation.split('.')[0]}.__sqlml_seed_{node.name}"
    con.load(staging, node.path, format="csv", **reader, types={column: "VARCHAR" for column in types})
    casts = ", ".join(f"CAST({column} AS {kind}) AS {column}" for column, kind in types.items())
    con.query(f"BEGIN TRANSACTION;\nCREATE OR REPLACE TABLE {node.relation} AS SELECT * REPLACE ({casts}) FROM {staging};\n"
              f"DROP TABLE {staging};\nCOMMIT TRANSACTION;", path=str(node.path))  # fmt: skip
    outcome.rows_written = con.query(f"SELECT COUNT(*) FROM {node.relation}").scalar()


def build_data_model(runner: Runner, node: Node, options: RunOptions, outcome: NodeRun, con: Connection) -> None:
    """Build a data model as its materialization says; an incremental one adds to its table."""
    found = con.relation_kind(node.relation)
    existing = RelationKind(found) if found is not None else None
    incremental = node.materialized is Materialization.INCREMENTAL and not options.full_refresh and existing is RelationKind.TABLE
    sql = runner.compile(node, incremental=incremental)
    outcome.rows_written, outcome.message = materialize.build_data_model(con, node, sql, existing=existing, incremental_run=incremental)


def train_model(runner: Runner, node: Node, options: RunOptions, outcome: NodeRun, con: Connection) -> None:
    """Train an ML model; keep the previous version current if the new one fails its gate."""
    dataset, name = node.relation.split(".", 1)
    previous = runner.current_version(node)
    con.query(as_replace(runner.compile(node)), path=str(node.path))
    checked = gates.check_gates(con, node.relation, node.config, runner.relation_of)
    if checked is None:
        outcome.message = "trained"
        return
    passed, outcome.message = checked
    if passed:
        return
    if previous is not None:
        con.models.set_aliases(ModelRef(dataset, name, str(previous)), ["default"])
        outcome.status = NodeStatus.GATE_FAILED
        outcome.message += f"; version {previous} stays current"
    else:
        con.query(f"DROP MODEL {node.relation}")
        raise ProjectError(f"{node.name}: {outcome.message}; no earlier version, so the model was dropped.", node=node.name)


def run_script(runner: Runner, node: Node, options: RunOptions, outcome: NodeRun, con: Connection) -> None:
    """Run a script node's SQL."""
    con.query(runner.compile(node), path=str(node.path))


def run_test(runner: Runner, node: Node, options: RunOptions, outcome: NodeRun, con: Connection) -> None:
    """Count a test's failing rows: it passes with none, else fails (or warns, with ``severity='warn'``)."""
    failures = con.query(datatests.failures_sql(runner.compile(node)), path=str(node.path)).scalar()
    outcome.rows_written = failures
    if failures:
        outcome.status = NodeStatus.WARN if node.config.get("severity") == "warn" else NodeStatus.FAIL
        outcome.message = f"{failures} failing row(s)"
    else:
        outcome.status = NodeStatus.PASS


#: The function that runs each kind of node.
RUNNER_MAP: dict[NodeKind, NodeRunner] = {
    NodeKind.SEED: load_seed,
    NodeKind.DATA: build_data_model,
    NodeKind.ML: train_model,
    NodeKind.SCRIPT: run_script,
    NodeKind.TEST: run_test,
}


def as_replace(sql: str) -> str:
    """``CREATE MODEL m`` → ``CREATE OR REPLACE MODEL m``: a project retrains its models on every change.

    The edit is made at the token after CREATE (found by the tokenizer, not by pattern over text);
    ``IF NOT EXISTS`` and an explicit ``OR REPLACE`` are left as written.
    """
    parser = ScriptParser(sql, Sqlml)
    statement = next(n for n in parser.nodes() if isinstance(n, Statement))
    words = [t.text.upper() for t in statement.tokens[:6]]
    if "REPLACE" in words or "IF" in words:
        return sql
    create = statement.tokens[0]
    return sql[: create.end + 1] + " OR REPLACE" + sql[create.end + 1 :]
