"""DNN and wide & deep models through SQL: ML.PREDICT's and ML.EVALUATE's exact columns, values
equal to the Keras network called directly and to scikit-learn's metrics, explanations,
ML.TRAINING_INFO, ML.FEATURE_INFO, reloading and serving.

Columns: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict
(``predicted_<label>``, ``predicted_<label>_probs`` ARRAY<STRUCT<label, prob>>) and
…-syntax-evaluate, …-syntax-explain-predict, …-syntax-train.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sklearn import metrics as skm

import sqlml

from sqlml.ml.models.model import Model
from sqlml.serve.app import create_app
from sqlml.serve.models import ModelSet
from sqlml.store.records import ModelRef

FEATURES = "x1, x2, plan, active"
PROBS = lambda t: pa.list_(pa.struct([("label", t), ("prob", pa.float64())]))  # noqa: E731
TIERS = ["bronze", "gold", "silver"]  # the model's classes, in their (sorted) order
INPUTS = [("x1", pa.float64()), ("x2", pa.float64()), ("plan", pa.string()), ("active", pa.bool_())]


@pytest.fixture(scope="module")
def dnn(ml_con):
    """ml_con with a binary DNN classifier, a DNN regressor and a multiclass wide & deep classifier."""
    ml_con.query(
        "CREATE MODEL ds.binary OPTIONS(model_type='dnn_classifier', input_label_cols=['churned'], hidden_units=[8, 4], "
        f"max_iterations=4, learn_rate=0.01, enable_global_explain=TRUE) AS SELECT {FEATURES}, churned FROM ds.train"
    )
    ml_con.query(
        "CREATE MODEL ds.reg OPTIONS(model_type='dnn_regressor', input_label_cols=['target'], hidden_units=[8], "
        f"max_iterations=4, learn_rate=0.01, batch_size=64, early_stop=FALSE) AS SELECT {FEATURES}, target FROM ds.train"
    )
    ml_con.query(
        "CREATE MODEL ds.wide OPTIONS(model_type='dnn_linear_combined_classifier', input_label_cols=['tier'], "
        "hidden_units=[8], max_iterations=3, activation_fn='TANH', auto_class_weights=TRUE, "
        "learn_rate=[STRUCT('dnn', 0.01), STRUCT('linear', 0.05)], optimizer=[STRUCT('dnn', 'RMSPROP'), STRUCT('linear', 'SGD')]) "
        f"AS SELECT {FEATURES}, tier FROM ds.train"
    )
    return ml_con


def _load(con, name: str) -> Model:
    store = con.models
    return Model.load(store.verified_files(store.resolve(ModelRef.parse(name))))


def _by_class(probs: list) -> np.ndarray:
    """predicted_tier_probs rows as (rows, classes) in class order."""
    return np.array([[{p["label"]: p["prob"] for p in row}[tier] for tier in TIERS] for row in probs])


def _keras_outputs(con, name: str) -> np.ndarray:
    """The stored network, called as a Keras model on ds.fresh's preprocessed rows."""
    model = _load(con, name)
    X = np.asarray(model.features(con.query(f"SELECT {FEATURES} FROM ds.fresh").arrow(), sparse=False), dtype=np.float32)
    return np.asarray(model.estimator.network_.model(X, training=False), dtype=np.float64)


def test_ml_predict_columns_are_bigquerys(dnn):
    binary = dnn.query(f"SELECT * FROM ML.PREDICT(MODEL ds.binary, (SELECT {FEATURES} FROM ds.fresh LIMIT 3))").arrow()
    assert binary.schema == pa.schema([("predicted_churned", pa.bool_()), ("predicted_churned_probs", PROBS(pa.bool_())), *INPUTS])
    reg = dnn.query(f"SELECT * FROM ML.PREDICT(MODEL ds.reg, (SELECT {FEATURES} FROM ds.fresh LIMIT 3))").arrow()
    assert reg.schema == pa.schema([("predicted_target", pa.float64()), *INPUTS])
    wide = dnn.query(f"SELECT * FROM ML.PREDICT(MODEL ds.wide, (SELECT {FEATURES} FROM ds.fresh LIMIT 3))").arrow()
    assert wide.schema == pa.schema([("predicted_tier", pa.string()), ("predicted_tier_probs", PROBS(pa.string())), *INPUTS])
    assert sorted(p["label"] for p in wide.column("predicted_tier_probs")[0].as_py()) == TIERS


def test_predictions_equal_the_keras_network_called_directly(dnn):
    logit = _keras_outputs(dnn, "ds.binary")[:, 0]
    rows = dnn.query("SELECT predicted_churned, predicted_churned_probs FROM ML.PREDICT(MODEL ds.binary, TABLE ds.fresh)").arrow().to_pylist()
    positive = np.array([next(p["prob"] for p in r["predicted_churned_probs"] if p["label"]) for r in rows])
    np.testing.assert_allclose(positive, 1 / (1 + np.exp(-logit)), rtol=1e-6, atol=1e-9)
    assert [r["predicted_churned"] for r in rows] == list(positive > 0.5)

    model = _load(dnn, "ds.reg")
    z = _keras_outputs(dnn, "ds.reg")[:, 0]
    predicted = dnn.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.reg, TABLE ds.fresh)").arrow().column(0).to_numpy()
    # float32 networks: XLA's kernels for another batch shape (the last, partial batch) may round an
    # output differently on some CPUs (AVX-512: 3.7e-8 relative on one of 300 rows), as for the probabilities
    np.testing.assert_allclose(predicted, z * model.estimator.label_scale_ + model.estimator.label_mean_, rtol=1e-6)

    logits = _keras_outputs(dnn, "ds.wide")
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    probs = dnn.query("SELECT predicted_tier_probs FROM ML.PREDICT(MODEL ds.wide, TABLE ds.fresh)").arrow().column(0).to_pylist()
    np.testing.assert_allclose(_by_class(probs), softmax, rtol=1e-6, atol=1e-9)


def test_evaluate_equals_scikit_learn_on_the_predictions(dnn):
    fresh = dnn.query("SELECT churned, target, tier FROM ds.fresh").arrow()
    rows = dnn.query("SELECT predicted_churned, predicted_churned_probs FROM ML.PREDICT(MODEL ds.binary, TABLE ds.fresh)").arrow().to_pylist()
    truth = np.array(fresh.column("churned").to_pylist())
    score = np.array([next(p["prob"] for p in r["predicted_churned_probs"] if p["label"]) for r in rows])
    chosen = score > 0.5
    evaluated = dnn.query("SELECT * FROM ML.EVALUATE(MODEL ds.binary, TABLE ds.fresh)").arrow()
    assert evaluated.column_names == ["precision", "recall", "accuracy", "f1_score", "log_loss", "roc_auc"]
    assert evaluated.to_pylist()[0] == pytest.approx({
        "precision": skm.precision_score(truth, chosen), "recall": skm.recall_score(truth, chosen),
        "accuracy": skm.accuracy_score(truth, chosen), "f1_score": skm.f1_score(truth, chosen),
        "log_loss": skm.log_loss(truth, score), "roc_auc": skm.roc_auc_score(truth, score),
    }, rel=1e-9)  # fmt: skip

    predicted = dnn.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.reg, TABLE ds.fresh)").arrow().column(0).to_numpy()
    y = fresh.column("target").to_numpy()
    evaluated = dnn.query("SELECT * FROM ML.EVALUATE(MODEL ds.reg, TABLE ds.fresh)").arrow().to_pylist()[0]
    assert list(evaluated) == ["mean_absolute_error", "mean_squared_error", "mean_squared_log_error", "median_absolute_error", "r2_score", "explained_variance"]
    assert {k: v for k, v in evaluated.items() if k != "mean_squared_log_error"} == pytest.approx({
        "mean_absolute_error": skm.mean_absolute_error(y, predicted), "mean_squared_error": skm.mean_squared_error(y, predicted),
        "median_absolute_error": skm.median_absolute_error(y, predicted), "r2_score": skm.r2_score(y, predicted),
        "explained_variance": skm.explained_variance_score(y, predicted),
    }, rel=1e-9)  # fmt: skip
    assert evaluated["r2_score"] > 0.5  # the network learned the (linear) target

    rows = dnn.query("SELECT predicted_tier, predicted_tier_probs FROM ML.PREDICT(MODEL ds.wide, TABLE ds.fresh)").arrow().to_pylist()
    tiers = fresh.column("tier").to_pylist()
    chosen = [r["predicted_tier"] for r in rows]
    probabilities = _by_class([r["predicted_tier_probs"] for r in rows])
    evaluated = dnn.query("SELECT * FROM ML.EVALUATE(MODEL ds.wide, TABLE ds.fresh)").arrow().to_pylist()[0]
    labels = TIERS
    assert evaluated == pytest.approx({
        "precision": skm.precision_score(tiers, chosen, average="macro", labels=labels, zero_division=0),
        "recall": skm.recall_score(tiers, chosen, average="macro", labels=labels, zero_division=0),
        "accuracy": skm.accuracy_score(tiers, chosen),
        "f1_score": skm.f1_score(tiers, chosen, average="macro", labels=labels, zero_division=0),
        "log_loss": skm.log_loss(tiers, probabilities, labels=labels),
        "roc_auc": skm.roc_auc_score(tiers, probabilities, multi_class="ovr", average="macro", labels=labels),
    }, rel=1e-9)  # fmt: skip


def test_training_info_has_one_row_per_epoch_and_its_last_eval_loss_is_the_stored_log_loss(dnn):
    info = dnn.query("SELECT * FROM ML.TRAINING_INFO(MODEL ds.binary)").arrow()
    assert info.schema == pa.schema([("training_run", pa.int64()), ("iteration", pa.int64()), ("loss", pa.float64()),
                                     ("eval_loss", pa.float64()), ("learning_rate", pa.float64()), ("duration_ms", pa.int64())])  # fmt: skip
    rows = info.to_pylist()
    assert 1 <= len(rows) <= 4 and [r["iteration"] for r in rows] == list(range(len(rows)))
    assert all(r["learning_rate"] == 0.01 for r in rows)
    stored = dnn.query("SELECT log_loss FROM ML.EVALUATE(MODEL ds.binary)").fetchall()[0][0]
    assert rows[-1]["eval_loss"] == pytest.approx(stored, rel=1e-5)  # both: the eval split's log loss
    reg = dnn.query("SELECT loss FROM ML.TRAINING_INFO(MODEL ds.reg) ORDER BY iteration").arrow().column(0).to_pylist()
    assert len(reg) == 4 and reg[-1] < reg[0]  # early_stop=FALSE runs every epoch; MSE falls


def test_explain_predict_adds_up_to_the_logit_of_the_predicted_class(dnn):
    explained = dnn.query(
        f"SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.binary, (SELECT {FEATURES} FROM ds.fresh LIMIT 20), STRUCT(10 AS top_k_features))"
    ).arrow()
    assert explained.column_names[:6] == ["predicted_churned", "probability", "top_feature_attributions",
                                          "baseline_prediction_value", "prediction_value", "approximation_error"]  # fmt: skip
    for row in explained.to_pylist():
        attributions = row["top_feature_attributions"]
        assert sorted(a["feature"] for a in attributions) == ["active", "plan", "x1", "x2"]
        assert row["baseline_prediction_value"] + sum(a["attribution"] for a in attributions) == pytest.approx(row["prediction_value"], abs=1e-9)
        p = row["probability"]
        assert row["prediction_value"] == pytest.approx(np.log(p / (1 - p)), abs=1e-5)
    reg = dnn.query(f"SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.reg, (SELECT {FEATURES} FROM ds.fresh LIMIT 5))").arrow().to_pylist()
    predicted = dnn.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL ds.reg, (SELECT {FEATURES} FROM ds.fresh LIMIT 5))").arrow()
    assert [r["prediction_value"] for r in reg] == pytest.approx(predicted.column(0).to_pylist(), rel=1e-6)  # float32 network


def test_global_explain_ranks_every_input_column(dnn):
    ranked = dnn.query("SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL ds.binary)").arrow()
    assert ranked.schema == pa.schema([("feature", pa.string()), ("attribution", pa.float64())])
    assert sorted(ranked.column("feature").to_pylist()) == ["active", "plan", "x1", "x2"]
    values = ranked.column("attribution").to_pylist()
    assert values == sorted(values, reverse=True) and values[0] > 0
    assert ranked.column("feature")[0].as_py() == "x1"  # churn's strongest driver (1.5·x1 in make_frame)


def test_feature_info_describes_the_inputs(dnn):
    info = dnn.query("SELECT input, category_count, null_count FROM ML.FEATURE_INFO(MODEL ds.reg) ORDER BY input").fetchall()
    assert [r[0] for r in info] == ["active", "plan", "x1", "x2"]
    assert info[1][1] == 3 and info[3][2] > 0  # three plans; x2 has NULLs


def test_a_reloaded_model_rebuilds_its_network_from_json_and_arrays(dnn):
    model = _load(dnn, "ds.wide")
    network = model.estimator.network_
    assert network.spec.wide and network.spec.hidden_units == [8] and network.spec.activation == "TANH"
    assert {"linear/kernel", "logits/kernel", "hidden_0/kernel"} <= set(network.arrays())
    again = _load(dnn, "ds.wide").estimator.network_
    X = np.random.default_rng(0).normal(size=(5, network.spec.inputs))
    np.testing.assert_array_equal(again.predict(X), network.predict(X))


def test_serving_answers_as_ml_predict(dnn):
    before = dnn.query("SELECT predicted_target FROM ML.PREDICT(MODEL ds.reg, (SELECT 1.0 AS x1, 2.0 AS x2, 'pro' AS plan, TRUE AS active))").fetchall()
    models = ModelSet(dnn.models, ["ds.reg"], None, refresh_seconds=0.2)
    try:
        client = TestClient(create_app(models, dnn.models))
        response = client.post("/v1/models/ds.reg:predict", json={"instances": [{"x1": 1.0, "x2": 2.0, "plan": "pro", "active": True}]})
        assert response.status_code == 200, response.text
        assert response.json()["predictions"][0]["predicted_target"] == pytest.approx(before[0][0], abs=1e-9)
        explained = client.post("/v1/models/ds.reg:explain", json={"instances": [{"x1": 1.0, "x2": 2.0, "plan": "pro", "active": True}]})
        assert explained.status_code == 200 and explained.json()["predictions"][0]["prediction_value"] == pytest.approx(before[0][0], rel=1e-6)
    finally:
        models.close()


def test_attributions_are_integrated_gradients_of_the_keras_network(dnn):
    import jax

    model = _load(dnn, "ds.reg")
    estimator = model.estimator
    X = np.asarray(model.features(dnn.query(f"SELECT {FEATURES} FROM ds.fresh LIMIT 4").arrow(), sparse=False), dtype=np.float64)
    ours = estimator.contributions(X)  # (rows, 1, features + 1), 15 steps, completed to the prediction
    keras_model, baseline = estimator.network_.model, estimator.baseline_
    gradients = jax.jit(jax.vmap(jax.grad(lambda x: keras_model(x[None, :], training=False)[0, 0])))
    alphas = (np.arange(400) + 0.5) / 400  # a fine midpoint rule: the path integral itself
    for row, x in enumerate(X):
        mean = np.asarray(gradients((baseline + alphas[:, None] * (x - baseline)).astype(np.float32))).mean(axis=0)
        direct = (x - baseline) * mean * estimator.label_scale_
        # 15 midpoints miss the integral by under 1% of the total attribution (ReLU's kinks)
        np.testing.assert_allclose(ours[row, 0, :-1], direct, atol=1e-2 * np.abs(direct).sum())
    assert ours[0, 0, -1] == pytest.approx(float(keras_model(baseline[None, :].astype(np.float32))[0, 0]) * estimator.label_scale_ + estimator.label_mean_, rel=1e-6)


def test_integrated_gradients_num_steps_of_a_call_replaces_the_models(dnn):
    query = "SELECT top_feature_attributions, prediction_value FROM ML.EXPLAIN_PREDICT(MODEL ds.reg, (SELECT {} FROM ds.fresh LIMIT 3), STRUCT(10 AS top_k_features{}))"
    default = dnn.query(query.format(FEATURES, "")).arrow().to_pylist()
    fifteen = dnn.query(query.format(FEATURES, ", 15 AS integrated_gradients_num_steps")).arrow().to_pylist()
    one = dnn.query(query.format(FEATURES, ", 1 AS integrated_gradients_num_steps")).arrow().to_pylist()
    assert fifteen == default  # the model's integrated_gradients_num_steps is 15
    assert [r["top_feature_attributions"] for r in one] != [r["top_feature_attributions"] for r in default]
    assert [r["prediction_value"] for r in one] == pytest.approx([r["prediction_value"] for r in default], rel=1e-9)
    with pytest.raises(sqlml.InvalidOptionError, match=r"^integrated_gradients_num_steps must be in \(0, 30\]; got 31\."):
        dnn.query(query.format(FEATURES, ", 31 AS integrated_gradients_num_steps"))
