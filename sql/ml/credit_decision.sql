{{ config(
    gate='roc_auc >= ' ~ var('min_credit_auc'),
    fairness={'sensitive_feature': 'marital', 'privileged_group': 'married', 'data': ref('stg_applications'),
              'gate': 'disparate_impact >= ' ~ var('min_disparate_impact'), 'min_group_rows': 50},
    skew={'data': ref('latest_applications')},
    tags=['daily']) }}
-- Approve or decline a credit application: predicts `status` (good/bad) from the application.
-- It replaces the current version only if it ranks well (ROC AUC), approves every marital group at
-- no less than four fifths of the married applicants' rate, and the newest month looks like the data
-- it learned from (no skewed column).
CREATE OR REPLACE MODEL {{ this }}
  OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['status'], max_iterations=30,
          data_split_method='RANDOM', data_split_eval_fraction=0.2)
AS SELECT * EXCEPT(application_id, application_month) FROM {{ ref('stg_applications') }}
