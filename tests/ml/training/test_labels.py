"""Labels: found by name or input_label_cols, NULLs refused, types kept, the higher class positive."""

from __future__ import annotations

import pyarrow as pa
import pytest

import sqlml


def test_null_label_fails_with_count_and_the_fix(ml_con):
    with pytest.raises(sqlml.InvalidModelInputError, match=r"(?s)The label column y has 2 NULL value\(s\) in 5 rows.*Filter them out: add WHERE y IS NOT NULL to the training query\."):
        ml_con.query("CREATE OR REPLACE MODEL ds.nl OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS "
                     "SELECT * FROM UNNEST([1.0, 2.0, NULL, 4.0, NULL]) AS y, UNNEST([1]) AS x")
    assert not ml_con.models.exists("ds", "nl")


def test_column_named_label_is_the_default_label(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.lbl OPTIONS(model_type='linear_reg') AS SELECT x1, target AS label FROM ds.train")
    assert ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.lbl, TABLE ds.fresh) LIMIT 1").columns[0] == "predicted_label"
    with pytest.raises(sqlml.InvalidModelInputError, match=r"(?s)The training query has no label column 'label'\..*input_label_cols"):
        ml_con.query("CREATE OR REPLACE MODEL ds.nolabel OPTIONS(model_type='linear_reg') AS SELECT x1, x2 FROM ds.train")


def test_regressor_needs_a_numeric_label(ml_con):
    with pytest.raises(sqlml.InvalidModelInputError, match=r"LINEAR_REG needs a numeric label, but plan is string"):
        ml_con.query("CREATE OR REPLACE MODEL ds.sl OPTIONS(model_type='linear_reg', input_label_cols=['plan']) AS SELECT x1, plan FROM ds.train")


def test_one_class_is_a_clear_error(ml_con):
    with pytest.raises(sqlml.InvalidModelInputError, match=r"The label column plan has only one class \('basic'\); a classifier needs at least two\."):
        ml_con.query("CREATE OR REPLACE MODEL ds.oc OPTIONS(model_type='logistic_reg', input_label_cols=['plan']) AS SELECT x1, plan FROM ds.train WHERE plan = 'basic'")


@pytest.mark.parametrize(
    ("label_sql", "arrow_type", "positive"),
    [
        ("churned", pa.bool_(), True),
        ("CAST(churned AS INT64) * 7", pa.int64(), 7),
        ("IF(churned, 'yes', 'no')", pa.string(), "yes"),
    ],
)
def test_classifier_keeps_the_label_type_and_the_higher_value_is_positive(ml_con, label_sql, arrow_type, positive):
    ml_con.query(f"CREATE OR REPLACE MODEL ds.typed OPTIONS(model_type='logistic_reg', input_label_cols=['y']) AS SELECT x1, x2, {label_sql} AS y FROM ds.train")
    result = ml_con.query("SELECT predicted_y, predicted_y_probs FROM ML.PREDICT(MODEL ds.typed, TABLE ds.fresh)").arrow()
    assert result.schema.field("predicted_y").type == arrow_type
    first = result.column("predicted_y_probs")[0].as_py()
    assert first[0]["label"] == positive  # the positive (higher) class is listed first
    # with threshold 1.0 nothing is positive, with threshold 0.0 everything is
    never = ml_con.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.typed, TABLE ds.fresh, STRUCT(1.0 AS threshold)) WHERE predicted_y = @p", params={"p": positive})
    always = ml_con.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.typed, TABLE ds.fresh, STRUCT(0.0 AS threshold)) WHERE predicted_y = @p", params={"p": positive})
    assert never.fetchall() == [(0,)] and always.fetchall() == [(300,)]


def test_class_weights_change_the_decision(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.cw0 OPTIONS(model_type='logistic_reg', input_label_cols=['churned']) AS SELECT x1, x2, churned FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.cw1 OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], class_weights=[('true', 9.0), ('false', 1.0)]) AS SELECT x1, x2, churned FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.cw2 OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], auto_class_weights=TRUE) AS SELECT x1, x2, churned FROM ds.train")
    positives = [ml_con.query(f"SELECT COUNTIF(predicted_churned) FROM ML.PREDICT(MODEL ds.{m}, TABLE ds.fresh)").fetchall()[0][0] for m in ("cw0", "cw1", "cw2")]
    assert positives[1] > positives[0]
    with pytest.raises(sqlml.InvalidOptionError, match=r"class_weights must give a weight for every class .* missing: false"):
        ml_con.query("CREATE OR REPLACE MODEL ds.cw3 OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], class_weights=[('true', 9.0)]) AS SELECT x1, churned FROM ds.train")


def test_evaluation_needs_the_label_column(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.ev OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, target FROM ds.train")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"(?s)The evaluation data has no label column target\..*Include target in the query"):
        ml_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.ev, (SELECT x1 FROM ds.fresh))")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"(?s)The input has no column x1, which the model was trained on\."):
        ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.ev, (SELECT x2 FROM ds.fresh))")
