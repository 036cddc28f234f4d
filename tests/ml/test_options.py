"""CREATE MODEL's OPTIONS: every option typed and ranged, errors that name the fix."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.catalog import OPTIONS_BY_TYPE
from sqlml.ml.models.statement_options import resolve_options

BASE = "CREATE OR REPLACE MODEL ds.opt OPTIONS({}) AS SELECT x1, x2, target FROM ds.train"


def _create(con, options: str):
    con.query(BASE.format(options))


def test_unknown_option_names_the_nearest(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"(?s)Unknown option 'max_iteratons' for CREATE MODEL \(model_type='linear_reg'\)\..*\nDid you mean 'max_iterations'\? Valid options: ") as info:
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], max_iteratons=5")
    assert info.value.option == "max_iteratons"
    assert "l2_reg" in str(info.value)


def test_option_of_another_model_type_says_where_it_applies(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"The option 'num_clusters' does not apply to model_type='linear_reg'; it applies to KMEANS\."):
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], num_clusters=3")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("l2_reg=-1", r"The 'l2_reg' option of CREATE MODEL \(model_type='linear_reg'\) must be a float in the range \[0, inf\)\. Got -1 instead\."),
        ("max_iterations=2.5", r"The 'max_iterations' option .* must be an integer in the range \[1, inf\)\. Got 2\.5 instead\."),
        ("early_stop='yes'", r"The 'early_stop' option .* must be a boolean\. Got 'yes' instead\."),
        ("data_split_method='HALVES'", r"The 'data_split_method' option .* must be one of 'AUTO_SPLIT', 'RANDOM', 'CUSTOM', 'SEQ', 'NO_SPLIT'\. Got 'HALVES' instead\."),
        ("data_split_eval_fraction=1.5", r"'data_split_eval_fraction' .* in the range \(0, 1\)\. Got 1\.5 instead\."),
        ("fit_intercept='target'", r"'fit_intercept' .* must be a boolean\. Got 'target' instead\."),
    ],
)
def test_wrong_type_or_range_is_an_error_naming_the_option(ml_con, options, message):
    with pytest.raises(sqlml.InvalidOptionError, match=message):
        _create(ml_con, f"model_type='linear_reg', input_label_cols=['target'], {options}")


def test_model_type_is_required_checked_and_case_insensitive(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"CREATE MODEL needs OPTIONS\(model_type='…'\)"):
        _create(ml_con, "input_label_cols=['target']")
    with pytest.raises(sqlml.InvalidOptionError, match=r"(?s)Unknown model_type 'linear_regression'\..*\nDid you mean 'linear_reg'\?"):
        _create(ml_con, "model_type='linear_regression', input_label_cols=['target']")
    with pytest.raises(sqlml.InvalidOptionError, match=r"model_type='TENSORFLOW_LITE' is not supported by sqlml: TensorFlow Lite models need TensorFlow"):
        _create(ml_con, "model_type='TENSORFLOW_LITE', input_label_cols=['target']")
    _create(ml_con, "MODEL_TYPE='LINEAR_REG', INPUT_LABEL_COLS=['target']")  # names and values are case-insensitive


def test_rules_between_options(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"learn_rate applies only with learn_rate_strategy='CONSTANT'"):
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], learn_rate=0.5")
    with pytest.raises(sqlml.InvalidOptionError, match=r"optimize_strategy='NORMAL_EQUATION' cannot be used with l1_reg > 0"):
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], optimize_strategy='NORMAL_EQUATION', l1_reg=1")
    with pytest.raises(sqlml.InvalidOptionError, match=r"max_parallel_trials requires num_trials"):
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], max_parallel_trials=2")
    with pytest.raises(sqlml.InvalidOptionError, match=r"data_split_method='CUSTOM' needs data_split_col"):
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], data_split_method='CUSTOM'")


def test_every_declared_option_resolves_with_bigquery_defaults():
    linear = resolve_options(ModelType.LINEAR_REG, {})
    assert linear["max_iterations"] == 20 and linear["l2_reg"] == 0.0 and linear["early_stop"] is True
    assert linear["min_rel_progress"] == 0.01 and linear["data_split_method"] == "AUTO_SPLIT"
    assert linear["learn_rate_strategy"] == "LINE_SEARCH" and linear["ls_init_learn_rate"] == 0.1
    tree = resolve_options(ModelType.BOOSTED_TREE_CLASSIFIER, {})
    assert (tree["learn_rate"], tree["l2_reg"], tree["max_tree_depth"], tree["subsample"]) == (0.3, 1.0, 6, 1.0)
    assert tree["category_encoding_method"] == "LABEL_ENCODING" and tree["booster_type"] == "GBTREE"
    forest = resolve_options(ModelType.RANDOM_FOREST_REGRESSOR, {})
    assert (forest["num_parallel_tree"], forest["max_tree_depth"], forest["subsample"], forest["colsample_bynode"]) == (100, 15, 0.8, 0.8)
    assert "learn_rate" not in forest and "max_iterations" not in forest
    kmeans = resolve_options(ModelType.KMEANS, {})
    assert kmeans["kmeans_init_method"] == "RANDOM" and kmeans["distance_type"] == "EUCLIDEAN" and kmeans["standardize_features"] is True
    assert resolve_options(ModelType.PCA, {})["pca_solver"] == "AUTO"
    for table in OPTIONS_BY_TYPE.values():
        for option in table.values():
            if option.default is not None and option.kind.name in ("INT", "FLOAT"):
                assert option.contains(option.default), option.name


def test_option_given_twice_is_an_error(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"The option 'input_label_cols' is given twice\."):
        _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], input_label_cols=['x1']")


def test_label_list_must_hold_strings(ml_con):
    with pytest.raises(sqlml.InvalidOptionError, match=r"'input_label_cols' .* must be an array of strings\. Got \[1\] instead\."):
        _create(ml_con, "model_type='linear_reg', input_label_cols=[1]")


def test_bigquery_sample_spelling_max_iteration_is_accepted(ml_con):
    # python-docs-samples' NCAA tutorial writes max_iteration=50 (singular).
    _create(ml_con, "model_type='linear_reg', input_label_cols=['target'], max_iteration=3, optimize_strategy='BATCH_GRADIENT_DESCENT', early_stop=FALSE")
    assert ml_con.query("SELECT COUNT(*) FROM ML.TRAINING_INFO(MODEL ds.opt)").fetchall() == [(3,)]
