"""ML.EVALUATE_FAIRNESS: per-group rates and comparisons, each figure checked against fairlearn."""

from __future__ import annotations

import pyarrow as pa
import pytest

import sqlml

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")

APPLICANTS = """
CREATE SCHEMA ds;
CREATE TABLE ds.applicants AS
SELECT i AS id,
       IF(MOD(i, 3) = 0, 'female', 'male') AS sex,
       ['a', 'b'][OFFSET(MOD(DIV(i, 3), 2))] AS region,
       MOD(i * 37, 100) AS income,
       MOD(i * 13, 60) AS debt,
       MOD(i * 37, 100) - MOD(i * 13, 60) + IF(MOD(i, 3) = 0, -12, 0) + MOD(i * 29, 31) - 15 > 20 AS approved
FROM UNNEST(GENERATE_ARRAY(1, 900)) AS i;
CREATE MODEL ds.credit OPTIONS(model_type='logistic_reg', input_label_cols=['approved'])
  AS SELECT income, debt, sex, approved FROM ds.applicants;
"""


@pytest.fixture
def credit(con):
    con.query(APPLICANTS)
    return con


def fairlearn_frame(con, features: list[str]):
    """fairlearn's MetricFrame of the same rows and the model's predictions."""
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    rows = con.query(
        f"SELECT {', '.join(features)}, approved, predicted_approved FROM ML.PREDICT(MODEL ds.credit, TABLE ds.applicants)"
    ).df()
    metrics = {
        "selection_rate": fairlearn_metrics.selection_rate,
        "accuracy": accuracy_score,
        "precision": lambda y, p: precision_score(y, p, zero_division=0),
        "recall": recall_score,
        "false_positive_rate": fairlearn_metrics.false_positive_rate,
        "false_negative_rate": fairlearn_metrics.false_negative_rate,
    }
    return MetricFrame(metrics=metrics, y_true=rows["approved"], y_pred=rows["predicted_approved"], sensitive_features=rows[features])


def test_each_group_figure_matches_fairlearn(credit):
    table = credit.query(
        "SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL ds.credit, TABLE ds.applicants, STRUCT('sex' AS sensitive_feature, 'male' AS privileged_group))"
    ).arrow()
    assert table.schema.names == [
        "sex", "group_rows", "selection_rate", "accuracy", "precision", "recall", "false_positive_rate",
        "false_negative_rate", "disparate_impact", "statistical_parity_difference", "equal_opportunity_difference",
        "false_positive_rate_difference", "equalized_odds_difference", "is_privileged",
    ]  # fmt: skip
    assert table.schema.field("group_rows").type == pa.int64() and table.schema.field("disparate_impact").type == pa.float64()
    rows = {r["sex"]: r for r in table.to_pylist()}
    assert rows["male"]["group_rows"] == 600 and rows["female"]["group_rows"] == 300
    expected = fairlearn_frame(credit, ["sex"]).by_group
    for group, row in rows.items():
        for metric in expected.columns:
            assert row[metric] == pytest.approx(expected.loc[group, metric], abs=1e-12), (group, metric)
    female, male = rows["female"], rows["male"]
    assert male["is_privileged"] and not female["is_privileged"]
    assert female["disparate_impact"] == pytest.approx(female["selection_rate"] / male["selection_rate"])
    assert female["disparate_impact"] < 0.8  # the data penalises women; the check shows it
    scored = credit.query("SELECT approved, predicted_approved, sex FROM ML.PREDICT(MODEL ds.credit, TABLE ds.applicants)").df()
    truth, prediction, sex = scored["approved"], scored["predicted_approved"], scored["sex"]
    # with two groups fairlearn's differences (max minus min over groups) are ours in absolute value
    assert abs(female["statistical_parity_difference"]) == pytest.approx(
        fairlearn_metrics.demographic_parity_difference(truth, prediction, sensitive_features=sex), abs=1e-12
    )
    assert female["disparate_impact"] == pytest.approx(
        fairlearn_metrics.demographic_parity_ratio(truth, prediction, sensitive_features=sex), abs=1e-12
    )
    assert female["equalized_odds_difference"] == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(truth, prediction, sensitive_features=sex), abs=1e-12
    )
    assert female["equal_opportunity_difference"] == pytest.approx(female["recall"] - male["recall"])
    assert female["false_positive_rate_difference"] == pytest.approx(female["false_positive_rate"] - male["false_positive_rate"])
    assert male["disparate_impact"] == 1.0 and male["equalized_odds_difference"] == 0.0


def test_intersections_of_several_sensitive_columns(credit):
    table = credit.query(
        "SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL ds.credit, (SELECT * FROM ds.applicants), "
        "STRUCT(['sex', 'region'] AS sensitive_feature, 'male|a' AS privileged_group))"
    ).arrow()
    rows = table.to_pylist()
    assert len(rows) == 4 and table.schema.names[:3] == ["sex", "region", "group_rows"]
    expected = fairlearn_frame(credit, ["sex", "region"]).by_group
    for row in rows:
        for metric in ("selection_rate", "recall", "false_positive_rate"):
            assert row[metric] == pytest.approx(expected.loc[(row["sex"], row["region"]), metric], abs=1e-12)
    assert [r["is_privileged"] for r in rows].count(True) == 1
    assert next(r for r in rows if r["is_privileged"])["sex"] == "male"


def test_default_privileged_group_is_the_largest_and_errors_are_clear(credit):
    rows = credit.query("SELECT sex, is_privileged FROM ML.EVALUATE_FAIRNESS(MODEL ds.credit, TABLE ds.applicants, STRUCT('sex' AS sensitive_feature))").fetchall()
    assert dict(rows) == {"male": True, "female": False}
    with pytest.raises(sqlml.Error, match="privileged_group 'other' is not a group"):
        credit.query("SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL ds.credit, TABLE ds.applicants, STRUCT('sex' AS sensitive_feature, 'other' AS privileged_group))")
    with pytest.raises(sqlml.Error, match="no column gender, the sensitive feature"):
        credit.query("SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL ds.credit, TABLE ds.applicants, STRUCT('gender' AS sensitive_feature))")
    with pytest.raises(sqlml.Error, match="needs the sensitive column"):
        credit.query("SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL ds.credit, TABLE ds.applicants)")
    credit.query("CREATE MODEL ds.reg OPTIONS(model_type='linear_reg', input_label_cols=['income']) AS SELECT debt, income FROM ds.applicants")
    with pytest.raises(sqlml.Error, match="needs a binary classifier"):
        credit.query("SELECT * FROM ML.EVALUATE_FAIRNESS(MODEL ds.reg, TABLE ds.applicants, STRUCT('sex' AS sensitive_feature))")
