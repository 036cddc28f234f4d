"""A model store with a trained classifier, shared by the serving tests."""

from __future__ import annotations

import pytest

import sqlml

TRAIN = (
    "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['approved'], "
    "max_iterations={rounds}) AS SELECT income, sex, approved FROM ds.t"
)


@pytest.fixture
def store(tmp_path):
    """(connection, folder) with ds.t and version 1 of ds.m."""
    with sqlml.connect(tmp_path / "wh", tmp_path / "models", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT i, MOD(i * 37, 100) AS income, IF(MOD(i, 3) = 0, 'female', 'male') AS sex, "
            "MOD(i * 37, 100) + MOD(i * 13, 40) - IF(MOD(i, 3) = 0, 10, 0) > 60 AS approved FROM UNNEST(GENERATE_ARRAY(1, 1500)) AS i"
        )
        con.query(TRAIN.format(rounds=10))
        yield con, tmp_path


@pytest.fixture
def retrain():
    """``retrain(con, rounds)``: a new version of ds.m."""
    return lambda con, rounds: con.query(TRAIN.format(rounds=rounds))
