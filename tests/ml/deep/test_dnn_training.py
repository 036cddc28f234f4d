"""Training DNN models: the same statement trains the same network (versions of a model agree),
defaults from the data, and hyperparameter tuning over BigQuery's DNN search space.

https://cloud.google.com/bigquery/docs/hp-tuning-overview — hidden_units is tuned with
``HPARAM_CANDIDATES([STRUCT([…]), …])``; trials are listed by ML.TRIAL_INFO.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.deep.network import NetworkSpec
from sqlml.ml.deep.options import network_shape
from sqlml.ml.models.model import Model
from sqlml.store.records import ModelRef

TRAIN = (
    "CREATE OR REPLACE MODEL ds.det OPTIONS(model_type='dnn_classifier', input_label_cols=['churned'], hidden_units=[6], "
    "max_iterations=2, dropout=0.25, batch_norm=TRUE, activation_fn='CRELU', optimizer='ADAGRAD', learn_rate=0.05, l2_reg=0.01) "
    "AS SELECT x1, x2, plan, churned FROM ds.train"
)
PROBE = "SELECT predicted_churned_probs FROM ML.PREDICT(MODEL `{}`, (SELECT x1, x2, plan FROM ds.fresh))"


def _load(con, name: str) -> Model:
    store = con.models
    return Model.load(store.verified_files(store.resolve(ModelRef.parse(name))))


def test_the_same_statement_trains_the_same_network_and_each_version_keeps_its_own(ml_con):
    ml_con.query(TRAIN)
    first = ml_con.query(PROBE.format("ds.det")).fetchall()
    ml_con.query(TRAIN)
    assert ml_con.query("SELECT COUNT(*) FROM ML.VERSIONS(MODEL ds.det)").fetchall() == [(2,)]
    assert ml_con.query(PROBE.format("ds.det")).fetchall() == first  # deterministic: seeded weights, dropout and row order
    assert ml_con.query(PROBE.format("ds.det@1")).fetchall() == first
    one, two = _load(ml_con, "ds.det@1").estimator.network_, _load(ml_con, "ds.det@2").estimator.network_
    assert one.arrays().keys() == two.arrays().keys() and "batch_norm_0/moving_mean" in one.arrays()
    assert all(np.array_equal(one.arrays()[k], two.arrays()[k]) for k in one.arrays())
    assert one.spec == NetworkSpec(inputs=5, hidden_units=[6], outputs=1, activation="CRELU", dropout=0.25, batch_norm=True,
                                   wide=False, seed=one.spec.seed)  # fmt: skip
    assert one.layer_output(np.zeros((2, 5)), "activation_0").shape == (2, 12)  # CRELU doubles the width


def test_default_hidden_units_and_batch_size_follow_bigquery():
    # one layer of min(128, rows / (10 × (inputs + outputs))) units; batch min(32, rows)
    assert network_shape({}, rows=1200, inputs=5, outputs=1) == ([20], 32)
    assert network_shape({}, rows=1_000_000, inputs=5, outputs=1) == ([128], 32)
    assert network_shape({}, rows=10, inputs=5, outputs=1) == ([1], 10)
    assert network_shape({"hidden_units": (4, 2), "batch_size": 7}, rows=100, inputs=5, outputs=3) == ([4, 2], 7)


def test_tuning_tries_hidden_units_candidates_and_serves_the_best_trial(ml_con):
    ml_con.query(
        "CREATE MODEL ds.tuned OPTIONS(model_type='dnn_regressor', input_label_cols=['target'], num_trials=2, max_iterations=2, "
        "hidden_units=HPARAM_CANDIDATES([STRUCT([4]), STRUCT([6, 3])]), learn_rate=0.02, hparam_tuning_algorithm='GRID_SEARCH') "
        "AS SELECT x1, x2, target FROM ds.train"
    )
    info = ml_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.tuned) ORDER BY trial_id").arrow()
    assert info.schema.field("hyperparameters").type == pa.struct([("hidden_units", pa.list_(pa.int64()))])
    assert sorted(r["hidden_units"] for r in info.column("hyperparameters").to_pylist()) == [[4], [6, 3]]
    assert info.column("status").to_pylist() == ["SUCCEEDED", "SUCCEEDED"]
    optimal = [r["trial_id"] for r in info.to_pylist() if r["is_optimal"]][0]
    served = ml_con.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.tuned, (SELECT 1.0 AS x1, 2.0 AS x2))").fetchall()
    chosen = ml_con.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL ds.tuned, (SELECT 1.0 AS x1, 2.0 AS x2), STRUCT({optimal} AS trial_id))").fetchall()
    assert served == chosen
    model = _load(ml_con, "ds.tuned")
    assert sorted(e.network_.spec.hidden_units for e in model.trial_estimators.values()) == [[4], [6, 3]]
    assert model.estimator.network_.spec.hidden_units == next(
        r["hyperparameters"]["hidden_units"] for r in info.to_pylist() if r["trial_id"] == optimal
    )


@pytest.mark.parametrize("model_type", ["dnn_regressor", "dnn_linear_combined_regressor"])
def test_default_tuning_space_is_bigquerys(ml_con, model_type):
    from sqlml.ml.models.catalog import family_of

    family = family_of(model_type.upper())
    expected = {"dnn_regressor": ("batch_size", "dropout", "learn_rate", "l1_reg", "l2_reg"),
                "dnn_linear_combined_regressor": ("batch_size", "dropout", "l1_reg", "l2_reg")}[model_type]  # fmt: skip
    assert family.tuned_options(model_type.upper(), {}) == expected
    table = family.option_table(model_type.upper())
    assert table["batch_size"].search == (16, 1024, "LOG") and table["dropout"].search == (0.0, 0.8, "LINEAR")
    assert table["l1_reg"].search == (0.0, 10.0, "LOG") and table["hidden_units"].tunable


def test_warm_start_continues_from_the_current_weights(ml_con):
    create = ("CREATE OR REPLACE MODEL ds.warm OPTIONS(model_type='dnn_regressor', input_label_cols=['target'], hidden_units=[{}], "
              "max_iterations=2, early_stop=FALSE, learn_rate=0.01{}) AS SELECT x1, x2, target FROM ds.train")  # fmt: skip
    ml_con.query(create.format(6, ""))
    ml_con.query(create.format(6, ", warm_start=TRUE"))
    info = ml_con.query("SELECT training_run, iteration, loss FROM ML.TRAINING_INFO(MODEL ds.warm) ORDER BY training_run, iteration").fetchall()
    assert [(run, iteration) for run, iteration, _ in info] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert info[2][2] < info[0][2]  # the second run starts where the first left off, not from new weights
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        ml_con.query(create.format(3, ", warm_start=TRUE"))
    assert caught.value.message == (
        "warm_start=TRUE continues from weights of hidden_units=[6], activation_fn='RELU', batch_norm=FALSE; "
        "this statement's network has hidden_units=[3], activation_fn='RELU', batch_norm=FALSE."
    )
    assert ml_con.query("SELECT COUNT(*) FROM ML.VERSIONS(MODEL ds.warm)").fetchall() == [(2,)]


def test_class_weights_weigh_the_loss(ml_con):
    ml_con.query(TRAIN)
    ml_con.query(TRAIN.replace("ds.det", "ds.weighted").replace("l2_reg=0.01", "l2_reg=0.01, class_weights=[('true', 20.0), ('false', 1.0)]"))
    share = "SELECT AVG(CAST(predicted_churned AS INT64)) FROM ML.PREDICT(MODEL {}, (SELECT x1, x2, plan FROM ds.fresh))"
    plain, weighted = ml_con.query(share.format("ds.det")).fetchall()[0][0], ml_con.query(share.format("ds.weighted")).fetchall()[0][0]
    assert weighted > plain + 0.1  # churners weigh 20 times as much: many more rows are predicted to churn
