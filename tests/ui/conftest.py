"""A warehouse and model store for the UI's tests, built once for the folder: a partitioned table,
a classifier with two versions, a tuned classifier, and a project's two runs (the second with a
failed gate)."""

from __future__ import annotations

import textwrap

import pytest
from fastapi.testclient import TestClient

import sqlml
from sqlml.project.runner import Runner, RunOptions
from sqlml.ui import create_app
from tests.project.test_project_features import GATED as PROJECT  # a seed, a model with a gate (var), a view on it

TOKEN = "s3cret-token"
APPLICANTS = (
    "CREATE SCHEMA ds; CREATE TABLE ds.applicants PARTITION BY signup AS SELECT IF(MOD(i, 3) = 0, 'female', 'male') AS sex, "
    "MOD(i * 37, 100) AS income, MOD(i * 13, 60) AS debt, DATE_ADD(DATE '2026-01-01', INTERVAL MOD(i, 4) DAY) AS signup, "
    "MOD(i * 37, 100) - MOD(i * 13, 60) + MOD(i * 29, 31) - IF(MOD(i, 3) = 0, 10, 0) > 25 AS approved "
    "FROM UNNEST(GENERATE_ARRAY(1, 400)) AS i"
)
CREDIT = (
    "CREATE OR REPLACE MODEL ds.credit OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['approved'], "
    "max_iterations={iterations}, learn_rate={rate}) AS SELECT sex, income, debt, approved FROM ds.applicants"
)
TUNED = (
    "CREATE MODEL ds.tuned OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['approved'], num_trials=3, "
    "max_iterations=4, learn_rate=HPARAM_RANGE(0.05, 0.5), max_tree_depth=HPARAM_CANDIDATES([3, 5])) "
    "AS SELECT sex, income, debt, approved FROM ds.applicants"
)


def write_project(root, gate: str) -> None:
    for relative, text in {**PROJECT, "sqlml_project.yml": f"name: shop\nvars:\n  gate: {gate}\n"}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


@pytest.fixture(scope="package")
def store(tmp_path_factory):
    """(connection, project folder): the shared warehouse and model store."""
    root = tmp_path_factory.mktemp("ui")
    with sqlml.connect(root / "wh", root / "models", idle_release=0) as con:
        con.query(APPLICANTS)
        con.query(CREDIT.format(iterations=5, rate=0.3))
        con.query(CREDIT.format(iterations=8, rate=0.2))
        con.query(TUNED)
        project = root / "project"
        write_project(project, "r2_score >= 0.9")
        Runner(project, connection=con).run(RunOptions())
        write_project(project, "r2_score >= 1.5")
        Runner(project, connection=con).run(RunOptions(full_refresh=True))
        yield con, project


@pytest.fixture(scope="package")
def token_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("token") / "token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def reader(store):
    """A client of a read-only UI (no token configured)."""
    con, project = store
    return TestClient(create_app(con, None, project))


@pytest.fixture
def client(store):
    """A client of a UI with a token configured, not logged in."""
    con, project = store
    return TestClient(create_app(con, TOKEN, project))
