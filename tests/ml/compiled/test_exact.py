"""The compiled forest predicts what LightGBM's Booster.predict does, within 1e-12."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest

from sqlml.ml.compiled import codegen, forest, predictor
from sqlml.ml.compiled.forest import read_forest
from tests.ml.compiled.forests import rows, target, train

X = rows()
Y = target(X)
CASES = {
    "regression": ({"objective": "regression"}, Y),
    "binary": ({"objective": "binary"}, (Y > 1).astype(int)),
    "multiclass": ({"objective": "multiclass", "num_class": 3}, np.digitize(Y, [0.0, 2.0])),
    "random forest": ({"objective": "regression", "boosting": "rf", "bagging_fraction": 0.7, "bagging_freq": 1}, Y),
    "binary random forest": ({"objective": "binary", "boosting": "rf", "bagging_fraction": 0.7, "bagging_freq": 1}, (Y > 1).astype(int)),
    "missing as zero": ({"objective": "regression", "zero_as_missing": True}, Y),
    "no missing values": ({"objective": "regression", "use_missing": False}, Y),
    "multiclass one-vs-all": ({"objective": "multiclassova", "num_class": 3}, np.digitize(Y, [0.0, 2.0])),
    "poisson": ({"objective": "poisson"}, np.exp(Y / 4)),
}


def compiled_and_lightgbm(booster, data: np.ndarray, threads: int = 2) -> tuple[np.ndarray, np.ndarray]:
    scorer = predictor.BoosterScorer(booster, booster.model_to_string())
    assert scorer.compiled(len(data)) is not None, "the model was not compiled"
    return scorer.predict(data, threads), booster.predict(data)


@pytest.mark.parametrize("case", CASES)
def test_compiled_predictions_equal_lightgbm(case):
    params, label = CASES[case]
    booster = train(params, label, X)
    fresh = rows(2500, seed=5)
    fresh[:7, 2] = [-0.5, -1.0, 39.7, 2.0**31, -(2.0**40), 1e300, np.nan]  # truncation and out-of-range categories
    fresh[:4, 0] = [1e-36, -1e-36, -0.0, np.inf]
    got, expected = compiled_and_lightgbm(booster, fresh)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_the_decision_types_of_every_case_are_covered():
    """The cases reach categorical splits (missing type None and NaN) and numerical splits of the
    three missing types, Zero and NaN with either default direction."""
    seen = set()
    for params, label in CASES.values():
        for tree in read_forest(train(params, label, X).model_to_string()).trees:
            seen.update((d & 1, (d >> 2) & 3, bool(d & 2)) for d in tree.decision_type)
    both = {(0, missing, default_left) for missing in (1, 2) for default_left in (False, True)}
    assert {(1, 0, False), (1, 2, False), (0, 0, True)} | both <= seen


def test_an_input_of_minus_k_zero_threshold_and_a_nan_category_decide_as_in_lightgbm_4():
    """A split between negatives and zeros has the threshold -kZeroThreshold, and an input of
    exactly that is zeroed by LightGBM's predictor (it goes right, as 0 does); a NaN category
    goes right even where category 0 goes left (LightGBM 4 tests NaN before casting to int)."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3000, 3))
    data[:, 0], data[:, 2] = rng.choice([-1.0, 0.0, 1.0], 3000), rng.integers(0, 6, 3000)
    data[rng.random(3000) < 0.15, 2] = np.nan
    label = (data[:, 0] < 0) * 2.0 + (data[:, 2] == 0) * 3.0 + rng.normal(0, 0.1, 3000)
    booster = train({"objective": "regression", "num_leaves": 4, "use_missing": False}, label, data, rounds=5)
    edges = np.array([[-1.0, 0, 5], [-codegen.ZERO, 0, 5], [0.0, 0, 5], [-1e-36, 0, 5], [-1.0, 0, np.nan], [-1.0, 0, 0], [-1.0, 0, -0.5]])
    expected = booster.predict(edges)
    assert expected[1] == expected[2] == expected[3] != expected[0]  # -kZeroThreshold scores as 0.0
    assert expected[4] == expected[0] != expected[5] == expected[6]  # NaN goes right, category 0 (and -0.5) left
    got, expected = compiled_and_lightgbm(booster, np.vstack([edges, rows(997, features=3, seed=8)]))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_the_generated_code_is_the_same_for_every_target():
    """Nothing in the code depends on the machine (a NaN category goes right everywhere): the
    modules for x86-64 and AArch64 differ in their target triple only."""
    model = read_forest(train(*CASES["no missing values"], X).model_to_string())
    x86, arm = (codegen.forest_ir(model, triple).split("\n", 1) for triple in ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"))
    assert x86[0] != arm[0] and x86[1] == arm[1]


def test_rows_of_another_width_get_lightgbm_s_error_and_are_not_read_past():
    booster = train(*CASES["binary"], X)
    scorer = predictor.BoosterScorer(booster, booster.model_to_string())
    assert scorer.compiled(len(X)) is not None
    for narrow in (X[:, :5], np.ascontiguousarray(X[:, :5])):  # a view of wider rows, and rows of 5
        with pytest.raises(lightgbm.basic.LightGBMError, match=r"The number of features in data \(5\) is not the same as it was in training data \(6\)"):
            scorer.predict(narrow, 2)


def test_a_one_row_call_and_a_single_leaf_model_equal_lightgbm():
    constant = train({"objective": "regression", "min_data_in_leaf": 10_000}, Y, X, rounds=3)
    assert {len(tree.leaf_value) for tree in read_forest(constant.model_to_string()).trees} == {1}
    got, expected = compiled_and_lightgbm(constant, X[:5])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    booster = train({"objective": "binary"}, (Y > 1).astype(int), X)
    got, expected = compiled_and_lightgbm(booster, X[3:4], threads=1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_a_model_wider_than_the_compiled_limit_is_scored_by_lightgbm(monkeypatch):
    """The generated code copies blocks of rows onto the stack: wider rows are LightGBM's."""
    monkeypatch.setattr(forest, "MAX_FEATURES", 5)
    booster = train(*CASES["regression"], X)
    scorer = predictor.BoosterScorer(booster, booster.model_to_string())
    assert read_forest(scorer.text) is None
    assert scorer.compiled(len(X)) is None
    np.testing.assert_array_equal(scorer.predict(X, 2), booster.predict(X))


def test_a_linear_tree_model_is_not_compiled_and_lightgbm_scores_it():
    booster = train({"objective": "regression", "linear_tree": True}, Y, np.nan_to_num(X), categorical=[])
    scorer = predictor.BoosterScorer(booster, booster.model_to_string())
    assert read_forest(scorer.text) is None
    assert scorer.compiled(len(X)) is None
    np.testing.assert_array_equal(scorer.predict(X, 2), booster.predict(X))


@pytest.mark.parametrize(("case", "per_level", "shapes"), [("binary", 1.6, {True, False}), ("missing as zero", 0, {False})])
def test_branching_and_branchless_trees_equal_lightgbm(monkeypatch, case, per_level, shapes):
    """At 1.6 splits per level the binary case's 7-split trees of depth 4 branch and those of
    depth 5 do not (both code shapes in one forest, with categorical and NaN splits; a bitset of
    two words is looked up row by row); at 0 every tree branches (the zero-as-missing decision on
    one row at a time)."""
    monkeypatch.setattr(codegen, "BRANCHLESS_SPLITS_PER_LEVEL", per_level)
    monkeypatch.setattr(codegen, "VECTOR_BITSET_WORDS", 1)
    params, label = CASES[case]
    booster = train(params, label, X)
    assert {codegen.is_branchless(tree) for tree in read_forest(booster.model_to_string()).trees} == shapes
    got, expected = compiled_and_lightgbm(booster, rows(1001, seed=6))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_rows_in_either_layout_or_strided_or_float32_equal_lightgbm():
    """The kernel reads rows through their strides: the preprocessor's column-major matrix,
    a row-major one, every other row of one, and float32 (converted) score alike."""
    booster = train(*CASES["binary"], X)
    data = rows(1203, seed=7)
    compiled_and_lightgbm(booster, data[:5])
    scorer = predictor.BoosterScorer(booster, booster.model_to_string())
    for layout in (np.asfortranarray(data), np.ascontiguousarray(data), data[::2], np.asfortranarray(data)[1::3], data.astype(np.float32)):
        np.testing.assert_allclose(scorer.predict(layout, 2), booster.predict(layout), rtol=0, atol=1e-12)
