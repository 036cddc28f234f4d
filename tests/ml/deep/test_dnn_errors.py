"""Bad DNN and wide & deep options are refused with messages naming the option, the model type and
what is accepted; a failed CREATE OR REPLACE keeps the previous model; a missing ``sqlml[deep]``
extra is named.

Accepted values: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-dnn-models
and …-create-wnd-models.
"""

from __future__ import annotations

import re
import sys

import pytest

import sqlml

DNN = "CREATE MODEL ds.bad OPTIONS(model_type='dnn_classifier', input_label_cols=['churned'], {}) AS SELECT x1, churned FROM ds.train"
WIDE = "CREATE MODEL ds.bad OPTIONS(model_type='dnn_linear_combined_regressor', input_label_cols=['target'], {}) AS SELECT x1, target FROM ds.train"
OF_DNN = "The '{}' option of CREATE MODEL (model_type='dnn_classifier')"
OF_WIDE = "The '{}' option of CREATE MODEL (model_type='dnn_linear_combined_regressor')"


@pytest.mark.parametrize(
    ("statement", "options", "message"),
    [
        (DNN, "activation_fn='SOFTMAX'", OF_DNN.format("activation_fn") + " must be one of 'RELU', 'RELU6', 'CRELU', 'ELU', 'SELU', 'SIGMOID', 'TANH'. Got 'SOFTMAX' instead."),
        (DNN, "optimizer='LBFGS'", OF_DNN.format("optimizer") + " must be one of 'ADAGRAD', 'ADAM', 'FTRL', 'RMSPROP', 'SGD'. Got 'LBFGS' instead."),
        (DNN, "hidden_units=[]", OF_DNN.format("hidden_units") + " needs at least one layer and at least 1 unit per layer. Got [] instead."),
        (DNN, "hidden_units=[8, 0]", OF_DNN.format("hidden_units") + " needs at least one layer and at least 1 unit per layer. Got [8, 0] instead."),
        (DNN, "hidden_units=['wide']", OF_DNN.format("hidden_units") + " must be an array of integers. Got ['wide'] instead."),
        (DNN, "hidden_units=HPARAM_CANDIDATES([STRUCT([8]), STRUCT([0])]), num_trials=2", OF_DNN.format("hidden_units") + " needs at least one layer and at least 1 unit per layer. Got [0] instead."),
        (DNN, "batch_size=0", OF_DNN.format("batch_size") + " must be an integer in the range (0, 8192]. Got 0 instead."),
        (DNN, "dropout=1.5", OF_DNN.format("dropout") + " must be a float in the range [0, 1]. Got 1.5 instead."),
        (DNN, "learn_rate=[STRUCT('dnn', 0.1)]", OF_DNN.format("learn_rate") + " must be a float in the range [0, 1]. Got [('dnn', 0.1)] instead."),
        (WIDE, "learn_rate=[STRUCT('deep', 0.1)]", OF_WIDE.format("learn_rate") + " takes one entry per part, 'dnn' and 'linear', with rates in [0, 1]. Got [('deep', 0.1)] instead."),
        (WIDE, "optimizer=[STRUCT('dnn', 'ADAM'), STRUCT('dnn', 'SGD')]", OF_WIDE.format("optimizer") + " takes one entry per part, 'dnn' and 'linear'. Got [('dnn', 'ADAM'), ('dnn', 'SGD')] instead."),
        (WIDE, "optimizer=[STRUCT('linear', 'NEWTON')]", OF_WIDE.format("optimizer") + " must be an array of (part, name) pairs or one of 'ADAGRAD', 'ADAM', 'FTRL', 'RMSPROP', 'SGD'. Got [('linear', 'NEWTON')] instead."),
    ],
)  # fmt: skip
def test_a_bad_option_is_refused_naming_it(ml_con, statement, options, message):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        ml_con.query(statement.format(options))
    assert caught.value.message == message


def test_a_failed_create_or_replace_keeps_the_previous_model(ml_con):
    ml_con.query(
        "CREATE MODEL ds.kept OPTIONS(model_type='dnn_regressor', input_label_cols=['target'], hidden_units=[4], max_iterations=2) "
        "AS SELECT x1, x2, target FROM ds.train"
    )
    probe = "SELECT predicted_target FROM ML.PREDICT(MODEL ds.kept, (SELECT 0.5 AS x1, 1.5 AS x2))"
    before = ml_con.query(probe).fetchall()
    with pytest.raises(sqlml.InvalidOptionError, match=re.escape("The 'activation_fn' option of CREATE MODEL (model_type='dnn_regressor') must be one of")):
        ml_con.query("CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='dnn_regressor', input_label_cols=['target'], activation_fn='GELU') AS SELECT x1, x2, target FROM ds.train")
    with pytest.raises(sqlml.Error, match="nope"):  # fails while reading the rows, after the options passed
        ml_con.query("CREATE OR REPLACE MODEL ds.kept OPTIONS(model_type='dnn_regressor', input_label_cols=['target']) AS SELECT x1, nope, target FROM ds.train")
    assert ml_con.query(probe).fetchall() == before
    assert ml_con.query("SELECT COUNT(*) FROM ML.VERSIONS(MODEL ds.kept)").fetchall() == [(1,)]


def test_without_the_deep_extra_create_model_names_it(ml_con, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)  # what `import keras` finds when it is not installed
    with pytest.raises(sqlml.ModelError) as caught:
        ml_con.query("CREATE MODEL ds.nokeras OPTIONS(model_type='dnn_classifier', input_label_cols=['churned']) AS SELECT x1, churned FROM ds.train")
    assert caught.value.message == "DNN_CLASSIFIER models need Keras 3 and JAX, which are not installed."
    assert caught.value.hint == 'Install them with: pip install "sqlml[deep]"'
    with pytest.raises(sqlml.ModelNotFoundError):
        ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.nokeras)")
