"""The anomaly scores' building blocks: the kept training scores and their cut-off (exact up to
100,001 rows, within one quantile step beyond), cluster radii and normalized distances."""

from __future__ import annotations

import numpy as np
import pytest

from sqlml.ml.models import anomaly
from sqlml.ml.models.anomaly import SUMMARY_LIMIT, cluster_radii, cutoff, normalized_distances, score_summary
from sqlml.ml.models.estimator import Dataset


@pytest.mark.parametrize("contamination", [0.0, 0.001, 0.1, 0.37, 0.5])
def test_a_small_training_set_keeps_every_score_and_its_exact_quantile(contamination):
    scores = np.random.default_rng(1).exponential(1.0, 5_000)
    summary = score_summary(scores)
    assert summary.tolist() == sorted(scores.tolist())
    assert cutoff(summary, contamination) == np.quantile(scores, 1 - contamination)


@pytest.mark.parametrize("contamination", [0.0, 0.001, 0.1, 0.5])
def test_a_large_training_set_keeps_a_bounded_summary_within_one_quantile_step(contamination):
    scores = np.random.default_rng(2).exponential(1.0, 400_000)
    summary = score_summary(scores)
    assert summary.shape == (SUMMARY_LIMIT,)
    step = 1.0 / (SUMMARY_LIMIT - 1)
    level = 1 - contamination
    low, high = np.quantile(scores, [max(level - step, 0.0), min(level + step, 1.0)])
    assert low <= cutoff(summary, contamination) <= high
    assert cutoff(summary, 0.0) == scores.max()


def test_cluster_radii_are_the_rms_distance_of_each_clusters_nearest_rows():
    distances = np.array([[1.0, 5.0, 9.0], [3.0, 4.0, 9.0], [6.0, 2.0, 9.0], [7.0, 4.0, 9.0]])
    # rows 0, 1 nearest centroid 0 (1, 3); rows 2, 3 nearest centroid 1 (2, 4); none nearest 2
    np.testing.assert_allclose(cluster_radii(distances), [np.sqrt((1 + 9) / 2), np.sqrt((4 + 16) / 2), 0.0])


def test_normalized_distance_is_the_smallest_ratio_and_a_zero_radius_is_zero_or_infinitely_far():
    radii = np.array([2.0, 0.5, 0.0])
    normalized, nearest = normalized_distances(np.array([[4.0, 1.5, 3.0], [1.0, 0.1, 0.0], [3.0, 3.0, 1.0]]), radii)
    assert normalized.tolist() == [2.0, 0.0, 1.5] and nearest.tolist() == [0, 2, 0]


def test_training_reconstruction_errors_are_the_same_chunk_by_chunk(monkeypatch):
    class Halving:
        def reconstruct(self, model_type, estimator, X):
            return X * 0.5

    X = np.random.default_rng(3).normal(size=(50, 4))
    whole = anomaly.reconstruction_arrays(Halving(), "T", None, Dataset(X), None)[anomaly.SCORES]
    monkeypatch.setattr(anomaly, "CHUNK_ROWS", 7)
    chunked = anomaly.reconstruction_arrays(Halving(), "T", None, Dataset(X), None)[anomaly.SCORES]
    assert chunked.tolist() == whole.tolist() == np.sort(((X * 0.5) ** 2).mean(axis=1)).tolist()
