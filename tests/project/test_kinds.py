"""Node kinds, materializations, commands and statuses are str Enums dispatched by tables."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sqlml.project
from sqlml.project import RunOptions
from sqlml.project.history import SCHEMA
from sqlml.project.kinds import Command, Materialization, NodeKind, NodeStatus, RelationKind, RunStatus
from sqlml.project.node_runners import RUNNER_MAP

PROJECT_SOURCES = [*Path(sqlml.project.__file__).parent.glob("*.py"), Path(sqlml.project.__file__).parents[1] / "cli" / "project.py"]


def test_enum_values_are_the_strings_the_history_stores_and_the_cli_prints():
    assert [k.value for k in NodeKind] == ["seed", "data", "ml", "script", "test"]
    assert [m.value for m in Materialization] == ["view", "table", "incremental", "ephemeral"]
    assert [c.value for c in Command] == ["run", "build", "seed", "test"]
    assert [s.value for s in RunStatus] == ["running", "success", "error", "cancelled", "interrupted"]
    assert {s.value for s in NodeStatus} == {
        "pending", "running", "success", "unchanged", "pass", "gate_failed", "warn", "error", "fail", "skipped",
        "interrupted", "not_started",
    }  # fmt: skip
    assert f"{NodeStatus.GATE_FAILED} {NodeKind.ML}" == "gate_failed ml" and NodeStatus.FAIL.upper() == "FAIL"
    assert [r.value for r in RelationKind] == ["table", "view"]


def test_every_node_kind_has_its_runner():
    assert set(RUNNER_MAP) == set(NodeKind)


def test_each_command_runs_its_node_kinds():
    builds = {NodeKind.SEED, NodeKind.DATA, NodeKind.ML, NodeKind.SCRIPT}
    assert {c: c.kinds for c in Command} == {
        Command.RUN: builds, Command.BUILD: builds | {NodeKind.TEST},
        Command.SEED: {NodeKind.SEED}, Command.TEST: {NodeKind.TEST},
    }  # fmt: skip


def test_status_groups():
    assert {s for s in NodeStatus if s.is_failure} == {NodeStatus.ERROR, NodeStatus.FAIL}
    assert {s for s in NodeStatus if s.stops_downstream} == {NodeStatus.ERROR, NodeStatus.FAIL, NodeStatus.SKIPPED}
    assert {s for s in NodeStatus if s.is_ok} == {NodeStatus.SUCCESS, NodeStatus.PASS, NodeStatus.UNCHANGED}
    assert {s for s in NodeStatus if s.is_warning} == {NodeStatus.GATE_FAILED, NodeStatus.WARN}
    assert {k: k.status_on_error for k in NodeKind} == {
        NodeKind.SEED: NodeStatus.ERROR, NodeKind.DATA: NodeStatus.ERROR, NodeKind.ML: NodeStatus.ERROR,
        NodeKind.SCRIPT: NodeStatus.ERROR, NodeKind.TEST: NodeStatus.FAIL,
    }  # fmt: skip


def test_run_options_read_a_command_given_as_a_string():
    assert RunOptions(command="test").command is Command.TEST
    with pytest.raises(ValueError, match="'deploy' is not a valid Command"):
        RunOptions(command="deploy")


def test_nodes_and_outcomes_carry_enums_and_the_history_plain_strings(make_project):
    runner = make_project({
        "seeds/points.csv": "x\n1\n2\n",
        "doubled.sql": "{{ config(materialized='table') }} SELECT x * 2 AS y FROM {{ ref('points') }}",
        "models.yml": "models:\n  - name: doubled\n    columns:\n      - name: y\n        tests: [not_null]\n",
    })  # fmt: skip
    assert runner.nodes["doubled"].kind is NodeKind.DATA and runner.nodes["doubled"].materialized is Materialization.TABLE
    outcomes = runner.run(RunOptions(command="build"))
    assert {o.node: (o.kind, o.status) for o in outcomes} == {
        "points": (NodeKind.SEED, NodeStatus.SUCCESS), "doubled": (NodeKind.DATA, NodeStatus.SUCCESS),
        "not_null_doubled_y": (NodeKind.TEST, NodeStatus.PASS),
    }  # fmt: skip
    stored = runner.connection.query(f"SELECT node, kind, status FROM {SCHEMA}.node_runs ORDER BY node").fetchall()
    assert stored == [("doubled", "data", "success"), ("not_null_doubled_y", "test", "pass"), ("points", "seed", "success")]
    assert all(type(value) is str for row in stored for value in row)
    run = runner.connection.query(f"SELECT command, status FROM {SCHEMA}.runs").fetchall()
    assert run == [("build", "success")]


def _compares_a_kind_with_a_string(node: ast.Compare) -> bool:
    sides = [node.left, *node.comparators]
    words = {"kind", "materialized", "status", "command", "existing"}
    named = any(
        isinstance(side, ast.Attribute) and side.attr in words or isinstance(side, ast.Name) and side.id in words for side in sides
    )
    literal = any(
        isinstance(side, ast.Constant) and isinstance(side.value, str)
        or isinstance(side, (ast.Tuple, ast.Set, ast.List)) and any(isinstance(e, ast.Constant) for e in side.elts)
        for side in sides
    )
    return named and literal


def test_the_runner_compares_no_kind_materialization_or_status_with_a_string():
    assert _compares_a_kind_with_a_string(ast.parse("o.status in ('error', 'fail')").body[0].value)  # the check can fail
    found = [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for path in PROJECT_SOURCES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Compare) and _compares_a_kind_with_a_string(node)
    ]
    assert not found, "\n".join(found)
