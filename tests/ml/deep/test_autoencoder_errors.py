"""AUTOENCODER's option checks (BigQuery's hidden_units rule: an odd number of layers around the
latent one; its activation functions) with their exact messages, early stop, and a failed
CREATE OR REPLACE MODEL leaving the previous model as it was.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-autoencoder
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError, ModelError, ModelNotFoundError

os.environ.setdefault("KERAS_BACKEND", "jax")  # as sqlml.ml.deep.backend sets it before Keras' first import
pytest.importorskip("keras")

CREATE = "CREATE OR REPLACE MODEL ds.keep OPTIONS(model_type='autoencoder', max_iterations=3{options}) AS SELECT a, b, c FROM ds.t"
PREDICT = "SELECT latent_col_1, latent_col_2 FROM ML.PREDICT(MODEL ds.keep, TABLE ds.t) ORDER BY id"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """ds.t (60 rows) and the autoencoder ds.keep (two latent columns) trained on it."""
    root = tmp_path_factory.mktemp("autoencoder_errors")
    rng = np.random.default_rng(5)
    rows = pa.table({"id": np.arange(60), "a": rng.normal(size=60), "b": rng.normal(size=60), "c": rng.normal(size=60)})
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("t_rows", rows)
        con.query("CREATE TABLE ds.t AS SELECT * FROM t_rows")
        con.query(CREATE.format(options=", hidden_units=[3, 2, 3]"))
        yield con


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[4, 2]", "The 'hidden_units' option of CREATE MODEL (model_type='autoencoder') must list an odd number of layers, "
                   "the middle one the latent layer. Got 2 layers [4, 2] instead."),
        ("[]", "The 'hidden_units' option of CREATE MODEL (model_type='autoencoder') needs at least one layer "
               "and at least 1 unit per layer. Got [] instead."),
        ("[4, 0, 4]", "The 'hidden_units' option of CREATE MODEL (model_type='autoencoder') needs at least one layer "
                      "and at least 1 unit per layer. Got [4, 0, 4] instead."),
    ],
)  # fmt: skip
def test_hidden_units_must_be_an_odd_non_empty_list_of_positive_sizes(con, value, message):
    with pytest.raises(InvalidOptionError) as error:
        con.query(CREATE.format(options=f", hidden_units={value}"))
    assert error.value.message == message
    assert error.value.option == "hidden_units" and error.value.hint


@pytest.mark.parametrize("activation", ["SWISH", "CRELU"])  # CRELU is a DNN activation; the autoencoder page omits it
def test_an_activation_the_autoencoder_page_does_not_list_is_refused(con, activation):
    message = (f"The 'activation_fn' option of CREATE MODEL (model_type='autoencoder') must be one of 'RELU', 'RELU6', "
               f"'ELU', 'SELU', 'SIGMOID', 'TANH'. Got '{activation}' instead.")  # fmt: skip
    with pytest.raises(InvalidOptionError) as error:
        con.query(CREATE.format(options=f", activation_fn='{activation}'"))
    assert error.value.message == message


def test_out_of_range_training_options_are_refused(con):
    with pytest.raises(InvalidOptionError, match=r"^The 'dropout' option of CREATE MODEL \(model_type='autoencoder'\) must be a float in the range \[0, 1\]\. Got 1\.5 instead\."):
        con.query(CREATE.format(options=", dropout=1.5"))
    with pytest.raises(InvalidOptionError, match=r"^The 'optimizer' option .* must be one of 'ADAGRAD', 'ADAM', 'FTRL', 'RMSPROP', 'SGD'\. Got 'LBFGS' instead\."):
        con.query(CREATE.format(options=", optimizer='LBFGS'"))


def test_a_failed_create_or_replace_keeps_the_previous_model(con):
    before = con.query(PREDICT).arrow()
    with pytest.raises(InvalidOptionError):
        con.query(CREATE.format(options=", hidden_units=[3, 2]"))
    with pytest.raises(InvalidModelInputError):  # fails while training: no rows
        con.query(CREATE.format(options=", hidden_units=[1]").replace("FROM ds.t", "FROM ds.t WHERE id < 0"))
    assert con.query(PREDICT).arrow().equals(before)


def test_early_stop_ends_training_at_the_first_epoch_below_min_rel_progress(con):
    con.query("CREATE MODEL ds.stops OPTIONS(model_type='autoencoder', hidden_units=[2], max_iterations=10, min_rel_progress=0.9) AS SELECT a, b, c FROM ds.t")
    info = con.query("SELECT iteration, loss FROM ML.TRAINING_INFO(MODEL ds.stops) ORDER BY iteration").fetchall()
    assert [row[0] for row in info] == [0, 1]  # the second epoch improves the loss by less than 90%
    assert (info[0][1] - info[1][1]) / info[0][1] < 0.9


def test_default_hidden_units_is_one_latent_layer_by_bigquerys_dnn_rule(con):
    con.query("CREATE MODEL ds.default OPTIONS(model_type='autoencoder', max_iterations=1) AS SELECT a, b, c FROM ds.t")
    columns = con.query("SELECT * FROM ML.PREDICT(MODEL ds.default, TABLE ds.t)").arrow().column_names
    assert columns == ["latent_col_1", "id", "a", "b", "c"]  # max(1, min(128, 60 // (10 * 2 * 3))) = 1 unit


def test_without_the_deep_extra_create_model_names_it(con, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)  # what `import keras` finds when it is not installed
    with pytest.raises(ModelError) as caught:
        con.query("CREATE MODEL ds.nokeras OPTIONS(model_type='autoencoder', hidden_units=[1]) AS SELECT a, b, c FROM ds.t")
    assert caught.value.message == "AUTOENCODER models need Keras 3 and JAX, which are not installed."
    assert caught.value.hint == 'Install them with: pip install "sqlml[deep]"'
    with pytest.raises(ModelNotFoundError):
        con.query("SELECT * FROM ML.EVALUATE(MODEL ds.nokeras)")


def test_warm_start_is_refused_rather_than_ignored(con):
    with pytest.raises(InvalidOptionError) as error:
        con.query(CREATE.format(options=", hidden_units=[3, 2, 3], warm_start=TRUE"))
    assert error.value.message == (
        "warm_start=TRUE is not supported for AUTOENCODER models yet: sqlml would train new weights, "
        "not continue from the model's last ones."
    )
    assert error.value.option == "warm_start"
