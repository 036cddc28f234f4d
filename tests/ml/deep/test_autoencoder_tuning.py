"""AUTOENCODER hyperparameter tuning: hidden_units candidates, BigQuery's reconstruction-loss
objectives, ML.TRIAL_INFO and per-trial ML.EVALUATE / ML.GENERATE_EMBEDDING / ML.PREDICT.

https://cloud.google.com/bigquery/docs/hp-tuning-overview (autoencoder objectives: MEAN_SQUARED_ERROR
by default, MEAN_ABSOLUTE_ERROR, MEAN_SQUARED_LOG_ERROR)
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.errors import InvalidOptionError, ModelError

os.environ.setdefault("KERAS_BACKEND", "jax")  # as sqlml.ml.deep.backend sets it before Keras' first import
pytest.importorskip("keras")

TUNED = (
    "CREATE MODEL ds.tuned OPTIONS(model_type='autoencoder', num_trials=2, max_iterations=2, "
    "hidden_units=HPARAM_CANDIDATES([STRUCT([3, 1, 3]), STRUCT([2])]), hparam_tuning_algorithm='GRID_SEARCH', "
    "hparam_tuning_objectives=['mean_absolute_error']) AS SELECT a, b, c FROM ds.t"
)
METRICS = ("mean_absolute_error", "mean_squared_error", "mean_squared_log_error")


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("autoencoder_tuning")
    rng = np.random.default_rng(9)
    rows = pa.table({"a": rng.normal(size=80), "b": rng.normal(size=80), "c": rng.normal(size=80)})
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("t_rows", rows)
        con.query("CREATE TABLE ds.t AS SELECT * FROM t_rows")
        con.query(TUNED)
        yield con


def test_trial_info_lists_each_hidden_units_candidate_and_the_optimal_trial_by_the_objective(con):
    info = con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.tuned) ORDER BY trial_id").arrow()
    assert info.schema.field("hyperparameters").type == pa.struct([("hidden_units", pa.list_(pa.int64()))])
    assert sorted(row["hidden_units"] for row in info.column("hyperparameters").to_pylist()) == [[2], [3, 1, 3]]
    metrics = info.column("hparam_tuning_evaluation_metrics").to_pylist()
    assert all(sorted(m) == sorted(METRICS) for m in metrics)
    best = int(np.argmin([m["mean_absolute_error"] for m in metrics]))
    assert info.column("is_optimal").to_pylist() == [i == best for i in range(2)]


def test_evaluate_without_input_reports_every_trial(con):
    table = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.tuned) ORDER BY trial_id").arrow()
    assert table.column_names == ["trial_id", *METRICS] and table.column("trial_id").to_pylist() == [1, 2]


def test_each_trial_embeds_with_its_own_latent_width_and_predict_names_the_optimal_one(con):
    info = con.query("SELECT trial_id, hyperparameters.hidden_units AS units, is_optimal FROM ML.TRIAL_INFO(MODEL ds.tuned)").fetchall()
    widths = {trial: units[len(units) // 2] for trial, units, _ in info}
    for trial, width in widths.items():
        sql = f"SELECT ml_generate_embedding_result AS e FROM ML.GENERATE_EMBEDDING(MODEL ds.tuned, TABLE ds.t, STRUCT({trial} AS trial_id))"
        assert {len(row[0]) for row in con.query(sql).fetchall()} == {width}
    optimal = next(trial for trial, _, best in info if best)
    other = next(trial for trial, _, best in info if not best)
    columns = con.query("SELECT * FROM ML.PREDICT(MODEL ds.tuned, TABLE ds.t)").arrow().column_names
    assert columns == ["trial_id"] + [f"latent_col_{i}" for i in range(1, widths[optimal] + 1)] + ["a", "b", "c"]
    with pytest.raises(ModelError) as error:
        con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.tuned, TABLE ds.t, STRUCT({other} AS trial_id))").arrow()
    assert error.value.message == (
        f"ML.PREDICT returns the {widths[optimal]} latent columns of the model's optimal trial; the trial asked for "
        f"has a latent layer of {widths[other]} units (another hidden_units candidate)."
    )
    assert "ML.GENERATE_EMBEDDING" in error.value.hint


def test_objectives_are_the_reconstruction_losses_and_candidates_are_checked(con):
    with pytest.raises(InvalidOptionError) as error:
        con.query(TUNED.replace("ds.tuned", "ds.r2").replace("mean_absolute_error", "r2_score"))
    assert error.value.message == "'R2_SCORE' is not a tuning objective for AUTOENCODER."
    assert error.value.hint == "Objectives: MEAN_SQUARED_ERROR, MEAN_ABSOLUTE_ERROR, MEAN_SQUARED_LOG_ERROR."
    with pytest.raises(InvalidOptionError, match=r"^The 'hidden_units' option .* must list an odd number of layers"):
        con.query(TUNED.replace("ds.tuned", "ds.even").replace("STRUCT([2])", "STRUCT([2, 2])"))
