"""Helpers of the realistic dbt project tests: one dbt invocation that must succeed, and reading
the warehouse the project built."""

from __future__ import annotations

from pathlib import Path

from dbt.adapters.factory import reset_adapters
from dbt.cli.main import dbtRunner

import sqlml


def dbt(root: Path, *args: str):
    """One dbt invocation in this process; it must succeed, every node included. Its adapters are
    cleared after (see test_jaffle_vs_duckdb.dbt)."""
    try:
        result = dbtRunner().invoke([*args, "--project-dir", str(root), "--profiles-dir", str(root)])
    finally:
        reset_adapters()
    failed = [(r.node.name, str(r.status), r.message) for r in getattr(result.result, "results", []) if str(r.status) not in ("success", "pass", "warn")]
    assert result.success and not failed, f"dbt {' '.join(args)} failed: {result.exception or failed}"
    return result.result


def read(root: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` on the project's warehouse and model store."""
    with sqlml.connect(root / "warehouse", root / "model_store", idle_release=0) as con:
        return con.query(sql).fetchall()
