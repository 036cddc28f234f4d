"""LightGBM's output transforms in compiled code (ml/compiled/transforms.py) equal the same formulas
computed one value at a time with Python's math.exp — the C library's exp, which LightGBM's
std::exp is — bit for bit, whatever NumPy's vectorised exp does on this CPU."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sqlml.ml.compiled.transforms import transform

RNG = np.random.default_rng(19)
SCORES = RNG.normal(0.0, 3.0, (2_000, 3))


def test_sigmoid_and_exp_are_lightgbms_formulas_with_the_c_librarys_exp():
    got = transform(SCORES.copy(), "sigmoid", 0.7)
    want = np.array([[1.0 / (1.0 + math.exp(-0.7 * v)) for v in row] for row in SCORES])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(transform(SCORES.copy(), "exp"), np.vectorize(math.exp)(SCORES))


def test_softmax_is_lightgbms_common_softmax():
    def softmax(row):  # Common::Softmax: running max, exps and their sum in order, then divisions
        top = row[0]
        for v in row[1:]:
            top = top if v < top else v
        exps = [math.exp(v - top) for v in row]
        total = 0.0
        for e in exps:
            total += e
        return [e / total for e in exps]

    got = transform(SCORES.copy(), "softmax")
    np.testing.assert_array_equal(got, np.array([softmax(list(row)) for row in SCORES]))
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-15)


def test_scores_not_c_ordered_float64_are_refused():
    with pytest.raises(ValueError):
        transform(np.asfortranarray(SCORES), "softmax")
