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
from sqlml.ml.models.model import Model
from sqlml.store.records import ModelRef

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


def _weights(con, name: str) -> dict[str, np.ndarray]:
    store = con.models
    return Model.load(store.verified_files(store.resolve(ModelRef.parse(name)))).estimator.network_.arrays()


def test_warm_start_continues_from_the_current_weights_and_adds_a_training_run(con):
    warm = "CREATE OR REPLACE MODEL ds.warm OPTIONS(model_type='autoencoder', early_stop=FALSE{options}) AS SELECT a, b, c FROM ds.t"
    with pytest.raises(InvalidOptionError) as missing:
        con.query(warm.format(options=", warm_start=TRUE"))
    assert missing.value.message == "warm_start=TRUE continues training ds.warm from its current weights, but the model does not exist yet."
    con.query(warm.format(options=", hidden_units=[3, 1, 3], max_iterations=2"))
    before = _weights(con, "ds.warm")
    con.query(warm.format(options=", warm_start=TRUE, learn_rate=0, max_iterations=3"))  # hidden_units kept; no step moves
    after = _weights(con, "ds.warm")
    assert sorted(after) == sorted(before) and all(np.array_equal(after[k], before[k]) for k in before)
    runs = con.query("SELECT training_run, iteration FROM ML.TRAINING_INFO(MODEL ds.warm) ORDER BY training_run, iteration").fetchall()
    assert runs == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    con.query(warm.format(options=", warm_start=TRUE, learn_rate=0.01, max_iterations=1"))
    assert not np.array_equal(_weights(con, "ds.warm")["hidden_0/kernel"], before["hidden_0/kernel"])


WARM = "CREATE OR REPLACE MODEL ds.warm2 OPTIONS(model_type='autoencoder', warm_start=TRUE{options}) AS SELECT {columns} FROM ds.t"
NETWORK = "warm_start=TRUE continues from the current version's network, whose "


@pytest.fixture(scope="module")
def warm2(con):
    """ds.warm2 ([3, 1, 3], RELU, on a, b, c) and its weights."""
    con.query("CREATE OR REPLACE MODEL ds.warm2 OPTIONS(model_type='autoencoder', hidden_units=[3, 1, 3], max_iterations=1) AS SELECT a, b, c FROM ds.t")
    return _weights(con, "ds.warm2")


@pytest.mark.parametrize(
    ("options", "columns", "error", "message"),
    [
        (", hidden_units=[2]", "a, b, c", InvalidOptionError, NETWORK + "hidden_units is [3, 1, 3]; this statement asks for [2]."),
        (", activation_fn='TANH'", "a, b, c", InvalidOptionError, NETWORK + "activation_fn is 'RELU'; this statement asks for 'TANH'."),
        ("", "a, b", InvalidModelInputError,
         "warm_start=TRUE continues from weights trained on the features ['a', 'b', 'c']; the training query gives ['a', 'b']."),
        (", num_trials=2", "a, b, c", InvalidOptionError, "warm_start=TRUE continues one model's weights; it cannot be combined with num_trials."),
    ],
)  # fmt: skip
def test_warm_start_refuses_another_network_other_columns_or_tuning_and_keeps_the_model(con, warm2, options, columns, error, message):
    with pytest.raises(error) as caught:
        con.query(WARM.format(options=options, columns=columns))
    assert caught.value.message == message
    after = _weights(con, "ds.warm2")
    assert all(np.array_equal(after[k], warm2[k]) for k in warm2)
