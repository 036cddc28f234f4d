"""A model store with a trained classifier, shared by the serving tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sqlml

TRAIN = (
    "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['approved'], "
    "max_iterations={rounds}) AS SELECT income, sex, approved FROM ds.t"
)


def _trained(folder: Path):
    """A connection on ``folder`` with ds.t and version 1 of ds.m."""
    con = sqlml.connect(folder / "wh", folder / "models", idle_release=0)
    con.query(
        "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT i, MOD(i * 37, 100) AS income, IF(MOD(i, 3) = 0, 'female', 'male') AS sex, "
        "MOD(i * 37, 100) + MOD(i * 13, 40) - IF(MOD(i, 3) = 0, 10, 0) > 60 AS approved FROM UNNEST(GENERATE_ARRAY(1, 300)) AS i"
    )
    con.query(TRAIN.format(rounds=10))
    return con


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory):
    """Served tree models compile as they load (serve.models.compile_ahead): into a folder of the
    test session, not the user's compile cache."""
    folder = tmp_path_factory.mktemp("compiled")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SQLML_COMPILE_CACHE", str(folder))
        yield folder


@pytest.fixture
def store(tmp_path):
    """(connection, folder) with ds.t and version 1 of ds.m."""
    with _trained(tmp_path) as con:
        yield con, tmp_path


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory):
    """:func:`store` trained once for every test that only reads it (no new model, version or alias)."""
    folder = tmp_path_factory.mktemp("shared")
    with _trained(folder) as con:
        yield con, folder


@pytest.fixture
def retrain():
    """``retrain(con, rounds)``: a new version of ds.m."""
    return lambda con, rounds: con.query(TRAIN.format(rounds=rounds))


_HOLD = (
    "import sys, sqlml\n"
    "con = sqlml.connect(sys.argv[1], sys.argv[2])\n"
    "con.query('BEGIN TRANSACTION')\n"
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
    "con.query('COMMIT')\n"
    "con.close()\n"
)


@pytest.fixture
def warehouse_held():
    """``with warehouse_held(folder):`` another process holds ``folder/wh`` (an open transaction) until the block ends."""

    @contextlib.contextmanager
    def hold(folder: Path):
        process = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder / "wh"), str(folder / "models")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout.readline().strip() == "held"
            yield process.pid
        finally:
            if process.poll() is None:
                process.stdin.write("\n")
                process.stdin.flush()
                process.wait(timeout=60)

    return hold


@pytest.fixture
def wait_for():
    """``wait_for(condition, seconds)``: poll until ``condition()`` is truthy (returned), or fail after ``seconds``."""

    def poll(condition, seconds: float = 30.0):
        deadline = time.monotonic() + seconds
        while True:
            value = condition()
            if value or time.monotonic() > deadline:
                assert value, f"still not true after {seconds} s"
                return value
            time.sleep(0.05)

    return poll
