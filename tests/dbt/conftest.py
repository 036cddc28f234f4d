"""dbt-tests-adapter's fixtures, pointed at a sqlml warehouse in a temporary folder per test class.

Each class writes its own small dbt project (dbt-tests-adapter's ``project`` fixture); nothing is
fetched. The classes run dbt several times each, so the heavier ones are marked slow.
"""

from __future__ import annotations

import pytest

pytest.importorskip("dbt.adapters.sqlml", reason="the dbt extra is not installed: pip install -e '.[dbt]'")

from dbt.tests.fixtures.project import *  # noqa: E402,F401,F403 - dbt-tests-adapter's fixtures


@pytest.fixture(scope="class")
def dbt_profile_target(tmpdir_factory):
    """A ``type: sqlml`` target on a fresh warehouse and model store."""
    root = tmpdir_factory.mktemp("sqlml")
    return {"type": "sqlml", "threads": 2, "warehouse": str(root / "warehouse"), "models": str(root / "models")}


@pytest.fixture(scope="class")
def logs_dir(tmpdir_factory):
    """dbt's logs in a temporary folder (dbt-tests-adapter writes them under the repository)."""
    return str(tmpdir_factory.mktemp("dbt-logs"))
