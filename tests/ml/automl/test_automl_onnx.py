"""EXPORT MODEL's ONNX form of a bagged AUTOML model (ml/automl/onnx_form.py): one trial's five
fold models and its refit averaged — linear members as one linear model of averaged coefficients, tree members
as one tree ensemble of every member's trees with scaled leaves — predicts what ML.PREDICT does,
computed by onnxruntime on the model's raw input columns; members of different kinds are a clear error."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import numpy as np
import onnxruntime
import pytest

import sqlml
from sqlml.ml.automl import search as automl_search
from sqlml.ml.automl.candidates import candidates
from sqlml.ml.automl.crossval import FOLDS
from sqlml.ml.automl.family import AutoMLFamily
from sqlml.ml.models.onnx_graph import to_onnx
from tests.ml.automl.members import trained

FEATURES = "x1, x2, plan, active"


@pytest.fixture(scope="module")
def bagged(automl_con):
    """``bagged(automl_type, searched, label)`` → the name of an AUTOML model (trained once per
    module) of ``searched``'s default trial alone, served as its five fold models."""
    made: dict[tuple, str] = {}

    def make(automl_type: str, searched: str, label: str) -> str:
        if (automl_type, searched, label) not in made:
            made[automl_type, searched, label] = f"bag{len(made)}"
            _bagged(automl_con, made[automl_type, searched, label], automl_type, searched, label)
        return made[automl_type, searched, label]

    return make


def _bagged(con, name: str, automl_type: str, searched: str, label: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AutoMLFamily, "searched", lambda self, model_type: [(searched, self.lookup(searched))])
        patch.setattr(automl_search, "candidates", lambda *args: [replace(c, spaces={}) for c in candidates(*args)])
        patch.setattr(automl_search, "PATIENCE", 0)  # the default trial only (cross-validated whatever the budget)
        con.query(
            f"CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='{automl_type}', input_label_cols=['{label}'], "
            f"budget_hours=0.0003, data_split_col='part') AS SELECT {FEATURES}, {label}, part FROM ds.train"
        )  # fmt: skip


def _onnx_outputs(con, name: str, folder) -> dict[str, np.ndarray]:
    """onnxruntime's outputs of the exported model.onnx on ds.fresh's rows (NULL numbers as NaN,
    booleans as 'true'/'false', as the graph's inputs take them)."""
    con.query(f"EXPORT MODEL ds.{name} OPTIONS(uri='{folder}')")
    assert json.loads((folder / "manifest.json").read_text())["onnx"] == "model.onnx"
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    frame = con.query(f"SELECT {FEATURES} FROM ds.fresh").df()
    feeds = {}
    for given in session.get_inputs():
        column = frame[given.name]
        if given.type == "tensor(string)":
            feeds[given.name] = np.array([str(v).lower() if isinstance(v, bool | np.bool_) else str(v) for v in column], dtype=object).reshape(-1, 1)
        else:
            feeds[given.name] = column.to_numpy(np.float64).reshape(-1, 1)
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))


@pytest.mark.parametrize(
    ("automl_type", "searched", "label"),
    [("AUTOML_REGRESSOR", "LINEAR_REG", "target"), ("AUTOML_CLASSIFIER", "LOGISTIC_REG", "churned"), ("AUTOML_CLASSIFIER", "LOGISTIC_REG", "tier")],
)  # fmt: skip
def test_bagged_linear_members_export_as_one_model_of_averaged_coefficients(automl_con, bagged, tmp_path, automl_type, searched, label):
    name = bagged(automl_type, searched, label)
    members = trained(automl_con, f"ds.{name}").estimator.members
    # five fold models and the refit on all their rows
    assert [m[0] for m in members] == [searched] * (FOLDS + 1) and len({id(m[3]) for m in members}) == FOLDS + 1
    coefficients = [np.asarray(m[3].coef_) for m in members]
    assert not all(np.array_equal(c, coefficients[0]) for c in coefficients)  # six different fits, averaged
    got = _onnx_outputs(automl_con, name, tmp_path / "export")
    predicted = automl_con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.{name}, (SELECT {FEATURES} FROM ds.fresh))").arrow().to_pylist()
    if automl_type == "AUTOML_REGRESSOR":
        np.testing.assert_allclose(got["predicted_target"][:, 0], [r["predicted_target"] for r in predicted], rtol=0, atol=1e-6)
        return
    classes = trained(automl_con, f"ds.{name}").label["classes"]
    want = np.array([[next(p["prob"] for p in r[f"predicted_{label}_probs"] if p["label"] == c) for c in classes] for r in predicted])
    np.testing.assert_allclose(got[f"predicted_{label}_probs"], want, rtol=0, atol=1e-6)
    assert list(got[f"predicted_{label}"][:, 0]) == [r[f"predicted_{label}"] for r in predicted]


def test_bagged_boosted_tree_members_export_as_one_tree_ensemble(automl_con, bagged, tmp_path):
    name = bagged("AUTOML_REGRESSOR", "BOOSTED_TREE_REGRESSOR", "target")
    assert [m[0] for m in trained(automl_con, f"ds.{name}").estimator.members] == ["BOOSTED_TREE_REGRESSOR"] * (FOLDS + 1)
    got = _onnx_outputs(automl_con, name, tmp_path / "export")["predicted_target"][:, 0]
    want = automl_con.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL ds.{name}, (SELECT {FEATURES} FROM ds.fresh))").df().predicted_target
    # ONNX tree ensembles compare and sum in FLOAT (onnxmltools' form of LightGBM trees): 1e-5 of the targets' scale
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * float(np.abs(want).max()))


def test_bagged_boosted_tree_classifier_members_sum_their_logits_before_the_sigmoid(automl_con, bagged, tmp_path):
    name = bagged("AUTOML_CLASSIFIER", "BOOSTED_TREE_CLASSIFIER", "churned")
    got = _onnx_outputs(automl_con, name, tmp_path / "export")
    predicted = automl_con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.{name}, (SELECT {FEATURES} FROM ds.fresh))").arrow().to_pylist()
    classes = trained(automl_con, f"ds.{name}").label["classes"]
    want = np.array([[next(p["prob"] for p in r["predicted_churned_probs"] if p["label"] == c) for c in classes] for r in predicted])
    np.testing.assert_allclose(got["predicted_churned_probs"], want, rtol=0, atol=1e-6)  # FLOAT leaves, probabilities in [0, 1]
    assert list(got["predicted_churned"][:, 0]) == [r["predicted_churned"] for r in predicted]


def test_members_of_different_kinds_are_a_clear_error(automl_con, bagged):
    linear, trees = bagged("AUTOML_REGRESSOR", "LINEAR_REG", "target"), bagged("AUTOML_REGRESSOR", "BOOSTED_TREE_REGRESSOR", "target")
    mixed = copy.copy(trained(automl_con, f"ds.{linear}"))
    mixed.estimator = copy.copy(mixed.estimator)
    mixed.estimator.members = mixed.estimator.members[:2] + trained(automl_con, f"ds.{trees}").estimator.members[:1]
    with pytest.raises(sqlml.ModelError) as raised:
        to_onnx(mixed)
    assert raised.value.message == (
        "EXPORT MODEL's ONNX format has no exact form for this AUTOML_REGRESSOR model's average of 3 members "
        f"(2 LINEAR_REG, 1 BOOSTED_TREE_REGRESSOR), each chosen trial's {FOLDS} fold models and its refit on all their rows: "
        "only linear members, or only tree members, average into one ONNX model."
    )
