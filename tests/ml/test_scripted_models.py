"""Scripts that train and check models: variables in ML statements, procedures analysts schedule."""

from __future__ import annotations

import pytest

import sqlml


def rows(con, sql: str) -> list[tuple]:
    return con.query(sql).fetchall()


def test_variables_in_ml_statements(ml_con):
    script = """
    DECLARE cutoff FLOAT64 DEFAULT 0.0;
    DECLARE auc FLOAT64;
    CREATE OR REPLACE MODEL ds.scripted OPTIONS(model_type='logistic_reg', input_label_cols=['churned'])
      AS SELECT x1, x2, plan, churned FROM ds.train WHERE x1 > cutoff;
    SET auc = (SELECT roc_auc FROM ML.EVALUATE(MODEL ds.scripted));
    IF auc < 0.5 THEN RAISE USING MESSAGE = 'model is worse than chance'; END IF;
    SELECT auc, (SELECT COUNT(*) FROM ds.train WHERE x1 > cutoff) AS trained_rows;
    """
    auc, trained = rows(ml_con, script)[0]
    expected = ml_con.query("SELECT roc_auc FROM ML.EVALUATE(MODEL ds.scripted)").scalar()
    assert auc == pytest.approx(expected)
    assert 0 < trained < ml_con.query("SELECT COUNT(*) FROM ds.train").scalar()


RETRAIN_PROCEDURE = """
CREATE OR REPLACE PROCEDURE ds.retrain_latest(IN min_auc FLOAT64, OUT auc FLOAT64)
BEGIN
  DECLARE latest DATE DEFAULT (SELECT MAX(month) FROM ds.monthly);
  CREATE OR REPLACE MODEL ds.monthly_churn
    OPTIONS(model_type='logistic_reg', input_label_cols=['churned'], data_split_method='NO_SPLIT')
  AS SELECT x1, x2, plan, churned FROM ds.monthly WHERE month = latest;
  SET auc = (SELECT roc_auc FROM ML.EVALUATE(MODEL ds.monthly_churn, (SELECT x1, x2, plan, churned FROM ds.fresh)));
  IF auc < min_auc THEN
    RAISE USING MESSAGE = FORMAT('AUC %.3f on fresh data is below %.2f: keeping the previous model', auc, min_auc);
  END IF;
END;
"""


def test_scheduled_procedure_retrains_on_latest_month_and_raises_on_a_drop(ml_con):
    """The script analysts schedule: retrain on the newest month, evaluate, refuse a worse model."""
    ml_con.query(
        "CREATE OR REPLACE TABLE ds.monthly AS SELECT *, DATE '2026-10-01' + INTERVAL (MOD(CAST(x1 * 1000 AS INT64), 3)) MONTH AS month FROM ds.train"
    )
    ml_con.query(RETRAIN_PROCEDURE)
    auc = rows(ml_con, "DECLARE auc FLOAT64; CALL ds.retrain_latest(0.6, auc); SELECT auc")[0][0]
    # The procedure trained on the latest month only and its AUC is ML.EVALUATE's on the fresh rows.
    latest_rows = ml_con.query("SELECT COUNT(*) FROM ds.monthly WHERE month = (SELECT MAX(month) FROM ds.monthly)").scalar()
    info = ml_con.query("SELECT * FROM ML.FEATURE_INFO(MODEL ds.monthly_churn) WHERE input = 'x1'").df().iloc[0]
    assert info["null_count"] + ml_con.query(
        "SELECT COUNT(x1) FROM ds.monthly WHERE month = (SELECT MAX(month) FROM ds.monthly)"
    ).scalar() == latest_rows
    expected = ml_con.query("SELECT roc_auc FROM ML.EVALUATE(MODEL ds.monthly_churn, (SELECT x1, x2, plan, churned FROM ds.fresh))").scalar()
    assert auc == pytest.approx(expected) and auc > 0.6
    with pytest.raises(sqlml.ScriptError, match=r"AUC 0\.\d{3} on fresh data is below 0\.99") as failure:
        ml_con.query("DECLARE auc FLOAT64; CALL ds.retrain_latest(0.99, auc)")
    assert failure.value.location.path == "procedure ds.retrain_latest"
