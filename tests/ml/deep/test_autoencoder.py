"""AUTOENCODER end to end: BigQuery's output columns for ML.PREDICT, ML.GENERATE_EMBEDDING,
ML.DETECT_ANOMALIES, ML.RECONSTRUCTION_LOSS, ML.EVALUATE and ML.TRAINING_INFO, with values equal to
a Keras network rebuilt here from the stored arrays and to NumPy computations on the same rows.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-autoencoder
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.models.anomaly import LOG_EPSILON
from sqlml.ml.models.model import ARRAYS_FILE, Model
from sqlml.store.records import ModelRef

os.environ.setdefault("KERAS_BACKEND", "jax")  # as sqlml.ml.deep.backend sets it before Keras' first import
keras = pytest.importorskip("keras")
pytest.importorskip("jax")

LAYERS = [4, 2, 4]
FEATURES = ("a", "b", "c")
STATEMENT = (
    "CREATE MODEL ds.ae OPTIONS(model_type='autoencoder', hidden_units=[4, 2, 4], activation_fn='TANH', "
    "learn_rate=0.01, max_iterations=6, early_stop=FALSE) AS SELECT a, b, c FROM ds.train"
)


def _rows(n: int, seed: int, first_id: int = 0) -> pa.Table:
    """Rows near the plane c = a + b, and a text column that is not a feature."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.0, 2.0, n), rng.normal(0.0, 1.0, n)
    ids = np.arange(first_id, first_id + n)
    return pa.table({"id": ids, "a": a, "b": b, "c": a + b + rng.normal(0.0, 0.2, n), "note": [f"n{i}" for i in ids]})


TRAIN = _rows(160, 3)
FRESH = _rows(24, 4, first_id=500)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """ds.train, ds.fresh and the autoencoder ds.ae trained on ds.train's three numbers."""
    root = tmp_path_factory.mktemp("autoencoder")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        for name, table in {"train": TRAIN, "fresh": FRESH}.items():
            con.register(f"{name}_rows", table)
            con.query(f"CREATE TABLE ds.{name} AS SELECT * FROM {name}_rows")
        con.query(STATEMENT)
        yield con


def _stored(con, name: str = "ds.ae") -> tuple[Model, dict[str, np.ndarray]]:
    """The stored model and its estimator's arrays, read from the arrays file as data."""
    files = con.models.verified_files(con.models.resolve(ModelRef.parse(name)))
    with np.load(files[ARRAYS_FILE], allow_pickle=False) as npz:
        arrays = {key.split(".", 1)[1]: npz[key] for key in npz.files if key.startswith("estimator.")}
    return Model.load(files), arrays


def _keras_networks(arrays: dict[str, np.ndarray], inputs: int, layers=LAYERS, activation: str = "tanh", batch_norm: bool = False):
    """A plain Keras encoder (input → latent activation) and autoencoder with the stored weights:
    Dense, batch normalization (inference: the stored moving statistics), activation per layer."""
    x = features = keras.Input((inputs,))
    latent = None
    for i, units in enumerate(layers):
        dense = keras.layers.Dense(units)
        x = dense(x)
        dense.set_weights([arrays[f"hidden_{i}/kernel"], arrays[f"hidden_{i}/bias"]])
        if batch_norm:
            norm = keras.layers.BatchNormalization()
            x = norm(x)
            norm.set_weights([arrays[f"batch_norm_{i}/{name}"] for name in ("gamma", "beta", "moving_mean", "moving_variance")])
        x = keras.layers.Activation(activation)(x)
        if i == len(layers) // 2:
            latent = x
    out = keras.layers.Dense(inputs)
    output = out(x)
    out.set_weights([arrays["logits/kernel"], arrays["logits/bias"]])
    return keras.Model(features, latent), keras.Model(features, output)


def _standardized(table: pa.Table) -> np.ndarray:
    """The three features standardized with the training rows' mean and sample standard deviation."""
    train = np.column_stack([TRAIN.column(name).to_numpy() for name in FEATURES])
    rows = np.column_stack([table.column(name).to_numpy() for name in FEATURES])
    return (rows - train.mean(axis=0)) / train.std(axis=0, ddof=1)


def _direct(con, table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(preprocessed rows, Keras latent values, Keras reconstruction) of ``table``'s rows."""
    model, arrays = _stored(con)
    X = np.asarray(model.features(table), dtype=np.float64)
    np.testing.assert_allclose(X, _standardized(table), rtol=1e-10)  # BigQuery's standardization
    encoder, network = _keras_networks(arrays, X.shape[1])
    X32 = X.astype(np.float32)
    return X, np.asarray(encoder(X32), np.float64), np.asarray(network(X32), np.float64)


def test_predict_returns_the_latent_columns_then_every_input_column(con):
    result = con.query("SELECT * FROM ML.PREDICT(MODEL ds.ae, TABLE ds.fresh)").arrow()
    inputs = [(f.name, f.type) for f in FRESH.schema]
    assert [(f.name, f.type) for f in result.schema] == [("latent_col_1", pa.float64()), ("latent_col_2", pa.float64()), *inputs]
    assert result.column("note").to_pylist() == FRESH.column("note").to_pylist()


def test_latent_values_equal_the_rebuilt_keras_encoder_on_the_same_preprocessed_rows(con):
    result = con.query("SELECT latent_col_1, latent_col_2 FROM ML.PREDICT(MODEL ds.ae, TABLE ds.fresh)").arrow()
    _, latent, _ = _direct(con, FRESH)
    got = np.column_stack([result.column(0).to_numpy(), result.column(1).to_numpy()])
    np.testing.assert_allclose(got, latent, rtol=1e-5, atol=1e-6)
    assert np.abs(latent).max() <= 1.0 and latent.std(axis=0).min() > 1e-3  # tanh values, not constant


def test_generate_embedding_is_the_latent_columns_as_one_array(con):
    result = con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.ae, TABLE ds.fresh)").arrow()
    assert result.schema.field(0) == pa.field("ml_generate_embedding_result", pa.list_(pa.float64()))
    assert result.column_names[1:] == FRESH.column_names
    _, latent, _ = _direct(con, FRESH)
    np.testing.assert_allclose(np.array(result.column(0).to_pylist()), latent, rtol=1e-5, atol=1e-6)
    ai = con.query("SELECT * FROM AI.GENERATE_EMBEDDING(MODEL ds.ae, TABLE ds.fresh)").arrow()  # the simplified name
    assert ai.column_names == ["embedding", *FRESH.column_names] and ai.column(0).equals(result.column(0))


@pytest.mark.parametrize("contamination", [0.0, 0.05, 0.2])
def test_anomaly_flags_equal_numpy_reconstruction_errors_and_the_training_quantile(con, contamination):
    sql = f"SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.ae, STRUCT({contamination} AS contamination), TABLE ds.fresh)"
    result = con.query(sql).arrow()
    assert [(f.name, f.type) for f in result.schema][:2] == [("is_anomaly", pa.bool_()), ("mean_squared_error", pa.float64())]
    assert result.column_names[2:] == FRESH.column_names
    X, _, rebuilt = _direct(con, FRESH)
    errors = ((X - rebuilt) ** 2).mean(axis=1)
    X_train, _, rebuilt_train = _direct(con, TRAIN)
    cut = np.quantile(((X_train - rebuilt_train) ** 2).mean(axis=1), 1.0 - contamination)
    np.testing.assert_allclose(result.column("mean_squared_error").to_numpy(), errors, rtol=1e-5)
    assert result.column("is_anomaly").to_pylist() == (errors > cut).tolist()


def test_training_rows_flagged_are_the_contamination_share(con):
    flagged = con.query("SELECT count(*) FROM ML.DETECT_ANOMALIES(MODEL ds.ae, STRUCT(0.1 AS contamination), TABLE ds.train) WHERE is_anomaly").fetchall()
    assert flagged == [(16,)]  # 10% of 160 distinct errors lie above their 90% quantile


def _losses(X: np.ndarray, rebuilt: np.ndarray) -> dict[str, np.ndarray]:
    """BigQuery's (Keras') three losses per row, written out in NumPy."""
    logs = np.log(np.maximum(X, LOG_EPSILON) + 1.0) - np.log(np.maximum(rebuilt, LOG_EPSILON) + 1.0)
    return {
        "mean_absolute_error": np.abs(X - rebuilt).mean(axis=1),
        "mean_squared_error": ((X - rebuilt) ** 2).mean(axis=1),
        "mean_squared_log_error": (logs**2).mean(axis=1),
    }


def test_reconstruction_loss_columns_and_values_equal_numpy(con):
    result = con.query("SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.ae, TABLE ds.fresh)").arrow()
    expected = _losses(*_direct(con, FRESH)[::2])
    assert [(f.name, f.type) for f in result.schema][:3] == [(name, pa.float64()) for name in expected]
    assert result.column_names[3:] == FRESH.column_names
    for name, values in expected.items():
        np.testing.assert_allclose(result.column(name).to_numpy(), values, rtol=1e-5, atol=1e-9)


def test_evaluate_reports_the_mean_losses_of_the_given_rows_and_of_the_training_rows_without_input(con):
    given = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.ae, TABLE ds.fresh)").arrow()
    assert [(f.name, f.type) for f in given.schema] == [(name, pa.float64()) for name in
                                                        ("mean_absolute_error", "mean_squared_error", "mean_squared_log_error")]  # fmt: skip
    for name, values in _losses(*_direct(con, FRESH)[::2]).items():
        assert given.column(name).to_pylist() == [pytest.approx(values.mean(), rel=1e-5)]
    stored = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.ae)").arrow()
    for name, values in _losses(*_direct(con, TRAIN)[::2]).items():
        assert stored.column(name).to_pylist() == [pytest.approx(values.mean(), rel=1e-5)]


def test_training_info_has_one_row_per_epoch_with_the_training_loss(con):
    info = con.query("SELECT iteration, loss, eval_loss, learning_rate FROM ML.TRAINING_INFO(MODEL ds.ae) ORDER BY iteration").fetchall()
    assert [row[0] for row in info] == list(range(6))  # early_stop=FALSE: every one of max_iterations
    assert all(row[2] is None and row[3] == 0.01 for row in info)
    losses = [row[1] for row in info]
    assert losses[-1] < losses[0]
    # with learn_rate=0 the weights stay where they started, so each epoch's loss is exactly the mean
    # squared reconstruction error of every training row under those weights
    con.query(STATEMENT.replace("ds.ae ", "ds.still ").replace("learn_rate=0.01", "learn_rate=0"))
    model, arrays = _stored(con, "ds.still")
    X = np.asarray(model.features(TRAIN), dtype=np.float32)
    rebuilt = np.asarray(_keras_networks(arrays, 3)[1](X))
    still = con.query("SELECT loss FROM ML.TRAINING_INFO(MODEL ds.still) ORDER BY iteration").fetchall()
    assert [row[0] for row in still] == pytest.approx([float(((X - rebuilt) ** 2).mean())] * 6, rel=1e-5)


def test_the_same_statement_trains_the_same_weights_stored_as_float_arrays(con):
    con.query(STATEMENT.replace("ds.ae ", "ds.ae_again "))
    (_, first), (_, second) = _stored(con), _stored(con, "ds.ae_again")
    assert sorted(first) == sorted(second) and all(np.array_equal(first[k], second[k]) for k in first)
    assert {array.dtype.kind for array in first.values()} == {"f"}


# -- TRANSFORM, NULLs and categories; the stored files ----------------------------------------

MIXED_STATEMENT = (
    "CREATE MODEL ds.mixed TRANSFORM(x * 2 AS x2, y, kind) OPTIONS(model_type='autoencoder', hidden_units=[3], "
    "max_iterations=2) AS SELECT x, y, kind FROM ds.mixed_rows"
)


def _mixed(n: int = 60) -> pa.Table:
    """A number with NULLs, another without, and a category with NULLs."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=n)
    x[:5] = np.nan
    kind = rng.choice(["x", "y", "z"], n).astype(object)
    kind[5:8] = None
    return pa.table({"id": np.arange(n), "x": pa.array(x, from_pandas=True), "y": rng.normal(size=n), "kind": kind})


@pytest.fixture(scope="module")
def mixed(con):
    """ds.mixed: an autoencoder with a TRANSFORM clause, trained on rows with NULLs and a category."""
    con.register("mixed_frame", _mixed())
    con.query("CREATE TABLE ds.mixed_rows AS SELECT * FROM mixed_frame")
    con.query(MIXED_STATEMENT)
    return _mixed()


def test_transformed_rows_are_standardized_and_one_hot_encoded_before_the_network(con, mixed):
    model, arrays = _stored(con, "ds.mixed")
    x2 = 2.0 * mixed.column("x").to_numpy(zero_copy_only=False)
    y = mixed.column("y").to_numpy()
    kind = np.array(mixed.column("kind").to_pylist(), dtype=object)
    present = x2[~np.isnan(x2)]
    expected = np.column_stack([
        np.nan_to_num((x2 - present.mean()) / present.std(ddof=1)),  # a NULL is the mean: 0 once standardized
        (y - y.mean()) / y.std(ddof=1),
        *[(kind == value).astype(float) if value else np.array([v is None for v in kind], float) for value in (None, "x", "y", "z")],
    ])  # fmt: skip
    X = np.asarray(model.features(mixed), dtype=np.float64)
    np.testing.assert_allclose(X, expected, rtol=1e-10, atol=1e-12)
    encoder, _ = _keras_networks(arrays, X.shape[1], layers=[3], activation="relu")
    result = con.query("SELECT * FROM ML.PREDICT(MODEL ds.mixed, TABLE ds.mixed_rows) ORDER BY id").arrow()
    assert result.column_names == ["latent_col_1", "latent_col_2", "latent_col_3", "id", "x", "y", "kind"]
    latent = np.column_stack([result.column(i).to_numpy() for i in range(3)])
    np.testing.assert_allclose(latent, np.asarray(encoder(X.astype(np.float32))), rtol=1e-5, atol=1e-6)


def test_a_model_is_stored_as_json_and_arrays_and_reloads_with_the_same_outputs(con, mixed, tmp_path):
    sql = "SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.mixed, TABLE ds.mixed_rows) ORDER BY id"
    before = con.query(sql).arrow()
    files = con.models.verified_files(con.models.resolve(ModelRef.parse("ds.mixed")))
    assert sorted(files) == ["arrays.npz", "model.json"]
    with sqlml.connect(con.warehouse_path, con.models_path, idle_release=0) as again:
        assert again.query(sql).arrow().equals(before)
    con.query(f"EXPORT MODEL ds.mixed OPTIONS(uri='{tmp_path / 'export'}')")
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["arrays.npz", "manifest.json", "model.json"]


def test_batch_norm_dropout_and_another_optimizer_train_the_network_they_describe(con):
    con.query(
        "CREATE MODEL ds.normed OPTIONS(model_type='autoencoder', hidden_units=[4, 2, 4], activation_fn='ELU', batch_norm=TRUE, "
        "dropout=0.2, optimizer='RMSPROP', learn_rate=0.01, l2_reg=0.01, batch_size=16, max_iterations=3) AS SELECT a, b, c FROM ds.train"
    )
    model, arrays = _stored(con, "ds.normed")
    assert model.spec["estimator_params"]["network"] == {
        "inputs": 3, "hidden_units": [4, 2, 4], "outputs": 3, "activation": "ELU", "dropout": 0.2,
        "batch_norm": True, "wide": False, "seed": model.spec["estimator_params"]["network"]["seed"],
    }  # fmt: skip
    assert not np.allclose(arrays["batch_norm_1/moving_mean"], 0.0)  # training updated the statistics
    X = np.asarray(model.features(FRESH), dtype=np.float32)
    encoder, network = _keras_networks(arrays, 3, activation="elu", batch_norm=True)
    latent = con.query("SELECT latent_col_1, latent_col_2 FROM ML.PREDICT(MODEL ds.normed, TABLE ds.fresh)").arrow()
    np.testing.assert_allclose(np.column_stack([c.to_numpy() for c in latent.columns]), np.asarray(encoder(X)), rtol=1e-5, atol=1e-5)
    losses = con.query("SELECT mean_squared_error FROM ML.RECONSTRUCTION_LOSS(MODEL ds.normed, TABLE ds.fresh)").arrow()
    np.testing.assert_allclose(losses.column(0).to_numpy(), ((X - np.asarray(network(X))) ** 2).mean(axis=1), rtol=1e-4)


def test_sqlml_serve_answers_the_latent_columns_ml_predict_returns(con):
    from fastapi.testclient import TestClient

    from sqlml.serve.app import create_app
    from sqlml.serve.models import ModelSet

    instances = [{name: float(FRESH.column(name)[i].as_py()) for name in FEATURES} for i in range(3)]
    models = ModelSet(con.models, ["ds.ae"], None, refresh_seconds=0.2)
    try:
        response = TestClient(create_app(models, con.models)).post("/v1/models/ds.ae:predict", json={"instances": instances})
        assert response.status_code == 200, response.text
        expected = con.query("SELECT latent_col_1, latent_col_2 FROM ML.PREDICT(MODEL ds.ae, TABLE ds.fresh) LIMIT 3").arrow().to_pylist()
        got = response.json()["predictions"]
        assert [sorted(row) for row in got] == [["latent_col_1", "latent_col_2"]] * 3
        for row, want in zip(got, expected):
            assert [row["latent_col_1"], row["latent_col_2"]] == pytest.approx([want["latent_col_1"], want["latent_col_2"]], abs=1e-6)
    finally:
        models.close()


def test_exported_onnx_encodes_rows_as_ml_predict_does(con, tmp_path):
    folder = tmp_path / "onnx"
    con.query(f"EXPORT MODEL ds.ae OPTIONS(uri='{folder}')")
    con.query(f"CREATE OR REPLACE MODEL ds.ae_onnx OPTIONS(model_type='ONNX', model_path='{folder / 'model.onnx'}')")
    imported = con.query("SELECT latent_columns FROM ML.PREDICT(MODEL ds.ae_onnx, TABLE ds.fresh)").arrow()
    original = con.query("SELECT latent_col_1, latent_col_2 FROM ML.PREDICT(MODEL ds.ae, TABLE ds.fresh)").arrow()
    expected = np.column_stack([column.to_numpy() for column in original.columns])
    np.testing.assert_allclose(np.array(imported.column(0).to_pylist()), expected, rtol=1e-5, atol=1e-6)


def test_l1_reg_activation_penalizes_the_latent_activations(con):
    statement = STATEMENT.replace("ds.ae ", "ds.sparse_latent ").replace("early_stop=FALSE", "early_stop=FALSE, l1_reg_activation=1")
    con.query(statement)
    model, _ = _stored(con, "ds.sparse_latent")
    network = model.spec["estimator_params"]["network"]
    assert (network["activity_l1"], network["activity_layer"]) == (1.0, 1)  # the middle of [4, 2, 4]
    sql = "SELECT AVG(ABS(latent_col_1) + ABS(latent_col_2)) FROM ML.PREDICT(MODEL {}, TABLE ds.train)"
    [(penalized,)] = con.query(sql.format("ds.sparse_latent")).fetchall()
    [(free,)] = con.query(sql.format("ds.ae")).fetchall()
    assert penalized < free  # same seed, same rows: only the penalty differs
