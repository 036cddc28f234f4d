"""Shared fixtures: an in-memory connection per test, and a warehouse folder on disk."""

from __future__ import annotations

import pytest

import sqlml


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
