"""Bad AUTOML options are sqlml errors naming the option and its valid values, raised before any
training where the statement alone shows them; a failed CREATE OR REPLACE keeps the previous model."""

from __future__ import annotations

import pytest

import sqlml

QUERY = "AS SELECT x1, x2, plan, active, churned, tier, target FROM ds.train"
CLASSIFIER_OBJECTIVES = (
    "MAXIMIZE_AU_ROC, MINIMIZE_LOG_LOSS, MAXIMIZE_AU_PRC, STRUCT('MAXIMIZE_PRECISION_AT_RECALL', <recall>), "
    "STRUCT('MAXIMIZE_RECALL_AT_PRECISION', <precision>)"
)


def create(con, model_type: str, options: str, name: str = "bad") -> None:
    con.query(f"CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='{model_type}', {options}) {QUERY}")


@pytest.mark.parametrize(
    ("budget", "shown"),
    [("0.00005", "5e-05"), ("0", "0.0"), ("72.5", "72.5"), ("-1", "-1.0")],
)
def test_a_budget_outside_the_range_names_the_option_and_bigquerys_range(automl_con, budget, shown):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, "AUTOML_REGRESSOR", f"input_label_cols=['target'], budget_hours={budget}")
    assert caught.value.message == f"budget_hours must be between 0.0001 and 72.0; got {shown}."
    assert caught.value.hint == (
        "BigQuery accepts 1.0 to 72.0 hours (default 1.0); sqlml also accepts fractions of an hour down to 0.0001."
    )


def test_an_unknown_objective_lists_the_model_types_objectives(automl_con):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, "AUTOML_CLASSIFIER", "input_label_cols=['churned'], optimization_objective='MAXIMIZE_ACCURACY'")
    assert caught.value.message == "Unknown optimization_objective 'MAXIMIZE_ACCURACY' for AUTOML_CLASSIFIER."
    assert caught.value.hint == f"Valid values: {CLASSIFIER_OBJECTIVES}."


@pytest.mark.parametrize(
    ("model_type", "objective", "other", "valid"),
    [
        ("AUTOML_CLASSIFIER", "minimize_rmse", "AUTOML_REGRESSOR", CLASSIFIER_OBJECTIVES),
        ("AUTOML_REGRESSOR", "MAXIMIZE_AU_ROC", "AUTOML_CLASSIFIER", "MINIMIZE_RMSE, MINIMIZE_MAE, MINIMIZE_RMSLE"),
    ],
)
def test_an_objective_of_the_other_task_says_whose_it_is(automl_con, model_type, objective, other, valid):
    label = "churned" if model_type == "AUTOML_CLASSIFIER" else "target"
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, model_type, f"input_label_cols=['{label}'], optimization_objective='{objective}'")
    assert caught.value.message == f"optimization_objective '{objective}' is an objective of {other} models, not {model_type}."
    assert caught.value.hint == f"Valid values: {valid}."


@pytest.mark.parametrize(
    ("objective", "message", "hint"),
    [
        (
            "'MAXIMIZE_PRECISION_AT_RECALL'",
            "optimization_objective 'MAXIMIZE_PRECISION_AT_RECALL' needs a recall value: write STRUCT('MAXIMIZE_PRECISION_AT_RECALL', <recall>).",
            "The recall is a FLOAT64 between 0 and 1, e.g. STRUCT('MAXIMIZE_PRECISION_AT_RECALL', 0.8).",
        ),
        (
            "STRUCT('minimize_log_loss', 0.5)",
            "optimization_objective 'minimize_log_loss' takes no value; only MAXIMIZE_PRECISION_AT_RECALL and "
            "MAXIMIZE_RECALL_AT_PRECISION are written as a STRUCT.",
            "Write optimization_objective='MINIMIZE_LOG_LOSS'.",
        ),
        (
            "STRUCT('MAXIMIZE_RECALL_AT_PRECISION', 1.5)",
            "optimization_objective MAXIMIZE_RECALL_AT_PRECISION's precision must be between 0 and 1; got 1.5.",
            "e.g. STRUCT('MAXIMIZE_RECALL_AT_PRECISION', 0.8).",
        ),
        ("STRUCT('MAXIMIZE_AT_RECALL', 0.5)", "Unknown optimization_objective 'MAXIMIZE_AT_RECALL' for AUTOML_CLASSIFIER.", f"Valid values: {CLASSIFIER_OBJECTIVES}."),
    ],
)
def test_the_struct_objectives_need_their_target_between_0_and_1(automl_con, objective, message, hint):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, "AUTOML_CLASSIFIER", f"input_label_cols=['churned'], optimization_objective={objective}")
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_a_struct_objective_of_another_shape_names_the_options_type(automl_con):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, "AUTOML_CLASSIFIER", "input_label_cols=['churned'], optimization_objective=STRUCT('MAXIMIZE_PRECISION_AT_RECALL', 'high')")
    assert caught.value.message == (
        "The 'optimization_objective' option of CREATE MODEL (model_type='automl_classifier') must be a string or a "
        "STRUCT(string, float). Got ('MAXIMIZE_PRECISION_AT_RECALL', 'high') instead."
    )


def test_a_binary_objective_for_a_three_class_label_is_refused_once_the_label_is_read(automl_con):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, "AUTOML_CLASSIFIER", "input_label_cols=['tier'], optimization_objective='MAXIMIZE_AU_PRC', budget_hours=0.0002")
    assert caught.value.message == "optimization_objective 'MAXIMIZE_AU_PRC' needs a label of two classes; this label has 3."
    assert caught.value.hint == "Valid values for a label of more than two classes: MINIMIZE_LOG_LOSS."


def test_options_of_other_model_types_and_a_transform_are_refused(automl_con):
    with pytest.raises(sqlml.InvalidOptionError) as caught:
        create(automl_con, "AUTOML_CLASSIFIER", "input_label_cols=['churned'], num_trials=5")
    assert caught.value.message.startswith("The option 'num_trials' does not apply to model_type='automl_classifier'")
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        automl_con.query(f"CREATE MODEL ds.bad TRANSFORM(x1, churned) OPTIONS(model_type='AUTOML_CLASSIFIER', input_label_cols=['churned']) {QUERY}")
    assert caught.value.message == "model_type='AUTOML_CLASSIFIER' takes no TRANSFORM clause."


def test_a_failed_create_or_replace_keeps_the_previous_model(automl_con, only_families):
    only_families("LOGISTIC_REG")
    create(automl_con, "AUTOML_CLASSIFIER", "input_label_cols=['tier'], budget_hours=0.0002", name="kept")
    before = automl_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.kept)").arrow()
    predicted = automl_con.query("SELECT * FROM ML.PREDICT(MODEL ds.kept, (SELECT * FROM ds.fresh))").arrow()
    for options in (
        "input_label_cols=['tier'], budget_hours=100",  # refused before reading rows
        "input_label_cols=['tier'], optimization_objective='MAXIMIZE_AU_ROC', budget_hours=0.0002",  # after
        "input_label_cols=['no_such_column'], budget_hours=0.0002",
    ):
        with pytest.raises(sqlml.Error):
            create(automl_con, "AUTOML_CLASSIFIER", options, name="kept")
    assert automl_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.kept)").arrow() == before
    assert automl_con.query("SELECT * FROM ML.PREDICT(MODEL ds.kept, (SELECT * FROM ds.fresh))").arrow() == predicted
    versions = automl_con.query("SELECT COUNT(*) AS n FROM ML.VERSIONS(MODEL ds.kept)").arrow().column("n")[0].as_py()
    assert versions == 1
