{{ config(gate='roc_auc >= ' ~ var('min_credit_auc'), tags=['daily']) }}
-- Approve or decline a credit application: predicts `status` (good/bad) from the application.
CREATE OR REPLACE MODEL {{ this }}
  OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['status'], max_iterations=30,
          data_split_method='RANDOM', data_split_eval_fraction=0.2)
AS SELECT * EXCEPT(application_id, application_month) FROM {{ ref('stg_applications') }}
