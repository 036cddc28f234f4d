"""The training options BigQuery exposes really change training."""

from __future__ import annotations

import numpy as np
import pytest

from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

TREE = "CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='{kind}', input_label_cols=['target']{options}) AS SELECT x1, x2, plan, target FROM {rows}"


def _predictions(con, name):
    return np.array([r[0] for r in con.query(f"SELECT predicted_target FROM ML.PREDICT(MODEL ds.{name}, TABLE ds.fresh) ORDER BY x1").fetchall()])


def _train(con, name, kind, options="", rows="ds.train"):
    con.query(TREE.format(name=name, kind=kind, options=options, rows=rows))
    return _predictions(con, name)


def _info(con, name):
    return con.query(f"SELECT iteration, loss, eval_loss, learning_rate FROM ML.TRAINING_INFO(MODEL ds.{name}) ORDER BY iteration").fetchall()


def test_iteration_options_of_linear_models(ml_con):
    _train(ml_con, "gd", "linear_reg", ", optimize_strategy='BATCH_GRADIENT_DESCENT', max_iterations=7, early_stop=FALSE")
    assert len(_info(ml_con, "gd")) == 7
    _train(ml_con, "gd_stop", "linear_reg", ", optimize_strategy='BATCH_GRADIENT_DESCENT', max_iterations=50, min_rel_progress=0.2")
    stopped = _info(ml_con, "gd_stop")
    assert 1 < len(stopped) < 50
    last, before = stopped[-1], stopped[-2]
    assert (before[2] - last[2]) / before[2] < 0.2  # stopped at the first small relative improvement
    _train(ml_con, "gd_const", "linear_reg", ", optimize_strategy='BATCH_GRADIENT_DESCENT', learn_rate_strategy='CONSTANT', learn_rate=0.05, max_iterations=3, early_stop=FALSE")
    assert [row[3] for row in _info(ml_con, "gd_const")] == [0.05, 0.05, 0.05]
    line_search = [row[3] for row in _info(ml_con, "gd")]
    assert line_search[0] in (0.2, 0.1, 0.05, 0.025)  # 2×, 1×, ½×, ¼× of ls_init_learn_rate
    normal = _train(ml_con, "ne", "linear_reg")
    assert [row[3] for row in _info(ml_con, "ne")] == [None]  # normal equation: one iteration, no rate


def test_regularisation_of_linear_models(ml_con):
    def weights(name):
        return {r[0]: r[1] for r in ml_con.query(f"SELECT processed_input, weight FROM ML.WEIGHTS(MODEL ds.{name}, STRUCT(TRUE AS standardize)) WHERE weight IS NOT NULL AND processed_input != '__INTERCEPT__'").fetchall()}

    _train(ml_con, "plain", "linear_reg", ", data_split_method='NO_SPLIT'")
    _train(ml_con, "ridge", "linear_reg", ", data_split_method='NO_SPLIT', l2_reg=1.0")
    _train(ml_con, "lasso", "linear_reg", ", data_split_method='NO_SPLIT', l1_reg=5.0, max_iterations=50")
    plain, ridge, lasso = weights("plain"), weights("ridge"), weights("lasso")
    assert sum(v * v for v in ridge.values()) < 0.5 * sum(v * v for v in plain.values())
    assert sum(abs(v) for v in lasso.values()) < sum(abs(v) for v in plain.values())


# Each boosted tree case trains on ds.fresh's 300 rows for 8 rounds (the fewest at which DART drops
# a tree) against one shared baseline: every option still changes the predictions, for a tenth of
# 1,200 rows × 20 rounds' work per case.
def _boosted(options=""):
    """The baseline's options (8 rounds unless ``options`` sets max_iterations) then ``options``."""
    rounds = "" if "max_iterations" in options else ", max_iterations=8"
    return ", early_stop=FALSE" + rounds + options


@pytest.fixture(scope="module")
def bt_default(ml_con):
    """Predictions of the baseline boosted tree the option cases compare with."""
    return _train(ml_con, "bt_default", "boosted_tree_regressor", _boosted(), rows="ds.fresh")


@pytest.mark.parametrize(
    "options",
    [
        ", max_iterations=3",
        ", learn_rate=0.05",
        ", l2_reg=50.0",
        ", l1_reg=20.0",
        ", subsample=0.5",
        ", num_parallel_tree=4",
        ", min_tree_child_weight=60",
        ", colsample_bytree=0.3",
        ", colsample_bynode=0.3",
        ", min_split_loss=10.0",
        ", booster_type='DART', dropout=0.5",
        ", tree_method='APPROX'",
        ", category_encoding_method='ONE_HOT_ENCODING'",
    ],
)
def test_each_boosted_tree_option_changes_the_model(ml_con, bt_default, options):
    changed = _train(ml_con, "bt_changed", "boosted_tree_regressor", _boosted(options), rows="ds.fresh")
    assert not np.allclose(bt_default, changed)


def test_max_tree_depth_bounds_the_trees(ml_con):
    _train(ml_con, "shallow", "boosted_tree_regressor", ", max_tree_depth=2")
    booster = CACHE.get(ml_con.models, ml_con.models.resolve(ModelRef("ds", "shallow"))).estimator.booster_

    def depth(node):
        return 0 if "leaf_value" in node else 1 + max(depth(node["left_child"]), depth(node["right_child"]))

    assert max(depth(tree["tree_structure"]) for tree in booster.dump_model()["tree_info"]) <= 2


def test_random_forest_options_change_the_model(ml_con):
    # ds.fresh's 300 rows and a 10-tree baseline show each option as ds.train's 1,200 rows and the
    # default 100 trees do, for a fortieth of the deep trees' work
    def forest(options=""):
        trees = "" if "num_parallel_tree" in options else ", num_parallel_tree=10"
        return _train(ml_con, "rf_changed", "random_forest_regressor", trees + options, rows="ds.fresh")

    default = forest()
    for options in (", num_parallel_tree=5", ", max_tree_depth=3", ", subsample=0.3", ", colsample_bynode=0.2"):
        assert not np.allclose(default, forest(options)), options


def _centroids(con, name):
    rows = con.query(f"SELECT centroid_id, feature, numerical_value FROM ML.CENTROIDS(MODEL ds.{name}) ORDER BY centroid_id, feature").fetchall()
    return np.array([r[2] for r in rows])


def test_kmeans_options(ml_con):
    kmeans = "CREATE OR REPLACE MODEL ds.{} OPTIONS(model_type='kmeans'{}) AS SELECT x1, x2{} FROM ds.train"
    ml_con.query(kmeans.format("k_default", "", ""))
    default_k = ml_con.query("SELECT COUNT(DISTINCT centroid_id) FROM ML.CENTROIDS(MODEL ds.k_default)").fetchall()[0][0]
    assert default_k == 3  # log10(1200 rows) rounded
    ml_con.query(kmeans.format("k5", ", num_clusters=5", ""))
    assert ml_con.query("SELECT COUNT(DISTINCT centroid_id) FROM ML.CENTROIDS(MODEL ds.k5)").fetchall()[0][0] == 5
    ml_con.query(kmeans.format("kpp", ", num_clusters=3, kmeans_init_method='KMEANS++', max_iterations=1", ""))
    ml_con.query(kmeans.format("krand", ", num_clusters=3, max_iterations=1", ""))
    assert not np.allclose(_centroids(ml_con, "kpp"), _centroids(ml_con, "krand"))
    ml_con.query(kmeans.format("kcos", ", num_clusters=3, distance_type='COSINE'", ""))
    assert not np.allclose(_centroids(ml_con, "kcos"), _centroids(ml_con, "k_default"))
    ml_con.query(kmeans.format("kraw", ", num_clusters=3, standardize_features=FALSE", ""))
    assert not np.allclose(_centroids(ml_con, "kraw"), _centroids(ml_con, "k_default"))
    # CUSTOM: the marked rows are the initial centroids
    ml_con.query(kmeans.format("kcustom", ", num_clusters=2, kmeans_init_method='CUSTOM', kmeans_init_col='seed', max_iterations=1, standardize_features=FALSE", ", x1 IN (SELECT MIN(x1) FROM ds.train UNION ALL SELECT MAX(x1) FROM ds.train) AS seed"))
    low = ml_con.query("SELECT numerical_value FROM ML.CENTROIDS(MODEL ds.kcustom) WHERE feature = 'x1' ORDER BY centroid_id").fetchall()
    assert low[0][0] < 0 < low[1][0]


def test_pca_component_options(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.p1 OPTIONS(model_type='pca', num_principal_components=1) AS SELECT x1, x2, target FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.pv OPTIONS(model_type='pca', pca_explained_variance_ratio=0.9) AS SELECT x1, x2, target FROM ds.train")
    assert ml_con.query("SELECT COUNT(*) FROM ML.PRINCIPAL_COMPONENT_INFO(MODEL ds.p1)").fetchall() == [(1,)]
    ratios = ml_con.query("SELECT cumulative_explained_variance_ratio FROM ML.PRINCIPAL_COMPONENT_INFO(MODEL ds.pv) ORDER BY 1").fetchall()
    assert ratios[-1][0] >= 0.9 and (len(ratios) == 1 or ratios[-2][0] < 0.9)
    ml_con.query("CREATE OR REPLACE MODEL ds.praw OPTIONS(model_type='pca', num_principal_components=1, scale_features=FALSE) AS SELECT x1, x2, target FROM ds.train")
    scaled = ml_con.query("SELECT eigenvalue FROM ML.PRINCIPAL_COMPONENT_INFO(MODEL ds.p1)").fetchall()[0][0]
    raw = ml_con.query("SELECT eigenvalue FROM ML.PRINCIPAL_COMPONENT_INFO(MODEL ds.praw)").fetchall()[0][0]
    assert raw > 10 * scaled  # unscaled target dominates the variance
