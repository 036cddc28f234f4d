"""The stored description of a model trained on Spark names the trainer its exact model type maps
to (sqlml.ml.spark_training.trainers.trainer_description), not one guessed from its name."""

from __future__ import annotations

from sqlml.ml.models.kmeans_estimator import KMeans
from sqlml.ml.models.linear_estimator import LinearModel
from sqlml.ml.models.pca_estimator import PCA
from sqlml.ml.models.tree_estimators import BoostedTree, RandomForest
from sqlml.ml.spark_training import trainers

LIGHTGBM = "LightGBM, distributed (tree_learner='data', a Spark barrier stage)"


def test_each_model_type_is_described_by_its_own_trainer():
    described = {
        name: trainers.trainer_description(name, estimator)
        for name, estimator in [("LINEAR_REG", LinearModel.__new__(LinearModel)), ("KMEANS", KMeans.__new__(KMeans)),
                                ("PCA", PCA.__new__(PCA)), ("BOOSTED_TREE_CLASSIFIER", BoostedTree.__new__(BoostedTree)),
                                ("RANDOM_FOREST_REGRESSOR", RandomForest.__new__(RandomForest))]
    }  # fmt: skip
    assert described == {
        "LINEAR_REG": "Spark MLlib (LinearModel)", "KMEANS": "Spark MLlib (KMeans)", "PCA": "Spark MLlib (PCA)",
        "BOOSTED_TREE_CLASSIFIER": LIGHTGBM, "RANDOM_FOREST_REGRESSOR": LIGHTGBM,
    }  # fmt: skip


def test_a_model_type_whose_name_contains_tree_or_forest_is_not_taken_for_a_tree_ensemble(monkeypatch):
    # a type named like the tree ensembles but trained by MLlib's PCA keeps MLlib's description
    monkeypatch.setitem(trainers.TRAINERS, "BOOSTED_TREE_PCA", trainers.fit_pca)
    monkeypatch.setitem(trainers.TRAINERS, "FOREST_KMEANS", trainers.fit_kmeans)
    assert trainers.trainer_description("BOOSTED_TREE_PCA", PCA.__new__(PCA)) == "Spark MLlib (PCA)"
    assert trainers.trainer_description("FOREST_KMEANS", KMeans.__new__(KMeans)) == "Spark MLlib (KMeans)"
