"""dbt-tests-adapter's fixtures, pointed at a sqlml warehouse in a temporary folder per test class.

Each class writes its own small dbt project (dbt-tests-adapter's ``project`` fixture); nothing is
fetched. The classes run dbt several times each, so the heavier ones are marked slow.
"""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("dbt.adapters.sqlml", reason="the dbt extra is not installed: pip install -e '.[dbt]'")

from dbt.tests.fixtures.project import *  # noqa: E402,F401,F403 - dbt-tests-adapter's fixtures


@pytest.fixture(scope="class")
def dbt_profile_target(tmpdir_factory):
    """A ``type: sqlml`` target on a fresh warehouse and model store."""
    root = tmpdir_factory.mktemp("sqlml")
    return {"type": "sqlml", "threads": 2, "warehouse": str(root / "warehouse"), "models": str(root / "models")}


def _calling_module() -> str:
    """The module of the nearest frame outside dbt_common.behavior_flags: what
    ``BehaviorFlagRendered._default_source`` finds, read from the frames' globals instead of
    ``inspect.stack()``, which reads every frame's source line and searches sys.modules for each
    frame's file."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != "dbt_common.behavior_flags":
            return name
        frame = frame.f_back
    return "Unknown"


@pytest.fixture(scope="session", autouse=True)
def behavior_flag_source_from_frames():
    """dbt names the source of each behavior flag of every adapter it creates (the fixtures' one and
    one per invocation) with ``inspect.stack()``: under pytest's deep stack and the suite's
    thousands of modules that was ~75 ms of CPU per adapter, nearly all of ``register_adapter``.
    The same name (only a field of dbt's behavior-change log event) comes from the frames' globals."""
    from dbt_common.behavior_flags import BehaviorFlagRendered

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BehaviorFlagRendered, "_default_source", staticmethod(_calling_module))
        yield


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
