-- A script: record each model's evaluation after training (plain SQL, ordered by the tables it names).
CREATE SCHEMA IF NOT EXISTS credit;
CREATE OR REPLACE TABLE credit.model_report AS
SELECT 'credit_decision' AS model, roc_auc, accuracy, CURRENT_TIMESTAMP() AS evaluated_at
FROM ML.EVALUATE(MODEL credit.credit_decision)
UNION ALL
SELECT 'default_model', roc_auc, accuracy, CURRENT_TIMESTAMP() FROM ML.EVALUATE(MODEL credit.default_model);
