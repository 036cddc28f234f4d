"""The compiled rank counts against NumPy's comparisons (the pair loss is tested in test_pairs.py)."""

import numpy as np
import pytest

from sqlml.ml.recommendation import kernels


@pytest.mark.parametrize("width", [1, 7, 8, 9, 1_001])
def test_rank_counts_are_the_scores_strictly_above_each_threshold(width):
    """Widths below, at and past the loop's 8 scores a step; ties (scores rounded to 0.1, each
    threshold one of its row's scores), rows with no threshold and one past every score."""
    rng = np.random.default_rng(width)
    scores = np.round(rng.normal(size=(30, width)), 1)
    per_row = rng.integers(0, 4, 30)
    per_row[[0, 29]] = 0, 2
    edges = np.r_[0, np.cumsum(per_row)]
    rows = np.repeat(np.arange(30), per_row)
    thresholds = scores[rows, rng.integers(0, width, len(rows))]
    thresholds[-1] = scores[29].max()
    expected = [np.count_nonzero(scores[row] > threshold) for row, threshold in zip(rows, thresholds)]
    assert kernels.rank_counts()(scores, thresholds, edges).tolist() == expected
    assert expected[-1] == 0 and (width == 1 or len(set(expected)) > 1)
