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


#: Tests that read dbt's JSON artifacts (manifest.json, run_results.json, catalog.json): dbt writes
#: them for these alone.
READ_JSON_ARTIFACTS = ("tests/dbt/test_docs.py", "tests/dbt/test_basic.py::TestEmpty", "tests/dbt/test_basic.py::TestEphemeral")


@pytest.fixture(scope="class", autouse=True)
def no_json_artifacts(request):
    """``DBT_WRITE_JSON=false`` (``--no-write-json``) for the tests that read no JSON artifact: dbt
    then skips writing manifest.json and run_results.json after every invocation, ~13 % of an
    invocation's CPU time (two snapshot classes: 12.2 s instead of 14.1 s over nine invocations)."""
    if request.node.nodeid.startswith(READ_JSON_ARTIFACTS):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_WRITE_JSON", "false")
        yield


@pytest.fixture(scope="class")
def logs_dir(tmpdir_factory):
    """dbt's logs in a temporary folder (dbt-tests-adapter writes them under the repository)."""
    return str(tmpdir_factory.mktemp("dbt-logs"))
