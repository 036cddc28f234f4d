"""Shared fixtures: an in-memory connection per test, and a warehouse folder on disk."""

from __future__ import annotations

import os

import pytest

# LightGBM trains on every core, and by default its idle OpenMP threads spin between parallel
# regions: on a machine busy with other work they take turns spinning, and the small models of
# these tests train up to ten times slower; on an idle machine spinning is 2-4x faster (a random
# forest of tests/ml/test_common.py: 1.1 s spinning, 4.5 s passive). So the threads wait
# passively where the machine is already busier than its cores when the tests start, and always
# under pytest-xdist, whose workers (one per core) share the cores.
# Either way only the schedule changes, not the results (same thread count, LightGBM's
# deterministic mode). Set before LightGBM loads, and inherited by the processes tests start.
if "PYTEST_XDIST_WORKER" in os.environ or os.getloadavg()[0] > (os.cpu_count() or 1):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Tables print as on a 120-column terminal, whatever runs the tests: a terminal of any width, a pipe,
# or a pytest-xdist worker (whose standard output is not the terminal).
os.environ["COLUMNS"] = "120"

import sqlml  # noqa: E402


@pytest.fixture
def con():
    """An in-memory warehouse with a temporary model store."""
    with sqlml.connect(":memory:") as connection:
        yield connection


@pytest.fixture
def disk_con(tmp_path):
    """A warehouse and model store in a temporary folder; released as soon as work ends."""
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as connection:
        yield connection
