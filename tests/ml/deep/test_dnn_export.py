"""EXPORT MODEL writes a DNN's or wide & deep model's ONNX form (preprocessing and network), which
imported back as model_type='ONNX' predicts what ML.PREDICT does (to float32 precision)."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.mark.parametrize(
    ("model_type", "label", "options"),
    [
        ("dnn_classifier", "churned", "hidden_units=[4, 3], activation_fn='CRELU', batch_norm=TRUE"),
        ("dnn_linear_combined_regressor", "target", "hidden_units=[3], activation_fn='ELU'"),
        pytest.param("dnn_regressor", "target", "hidden_units=[4], activation_fn='RELU6'", marks=pytest.mark.slow),
        pytest.param("dnn_linear_combined_classifier", "tier", "hidden_units=[3], activation_fn='SELU'", marks=pytest.mark.slow),
    ],
)
def test_exported_onnx_predicts_what_ml_predict_does(ml_con, tmp_path, model_type, label, options):
    ml_con.query(
        f"CREATE OR REPLACE MODEL ds.e OPTIONS(model_type='{model_type}', input_label_cols=['{label}'], max_iterations=2, {options}) "
        f"AS SELECT x1, x2, plan, {label} FROM ds.train"
    )
    folder = tmp_path / "export"
    ml_con.query(f"EXPORT MODEL ds.e OPTIONS(uri='{folder}')")
    assert json.loads((folder / "manifest.json").read_text())["onnx"] == "model.onnx"
    ml_con.query(f"CREATE OR REPLACE MODEL ds.imported OPTIONS(model_type='ONNX', model_path='{folder / 'model.onnx'}')")
    query = "SELECT {} FROM ML.PREDICT(MODEL {}, (SELECT x1, x2, plan FROM ds.fresh)) ORDER BY x1"
    columns = f"predicted_{label}" + ("" if model_type.endswith("regressor") else f", predicted_{label}_probs")
    original = ml_con.query(query.format(columns, "ds.e")).fetchall()
    imported = ml_con.query(query.format(columns, "ds.imported")).fetchall()
    if model_type.endswith("regressor"):
        np.testing.assert_allclose([r[0] for r in imported], [r[0] for r in original], atol=1e-5)
        return
    assert [r[0] for r in imported] == [r[0] for r in original]
    in_class_order = [[p["prob"] for p in sorted(r[1], key=lambda p: p["label"])] for r in original]  # ONNX: a list in class order
    np.testing.assert_allclose([r[1] for r in imported], in_class_order, atol=1e-5)
