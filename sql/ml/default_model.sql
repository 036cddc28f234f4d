{{ config(gate=['roc_auc >= 0.85', 'log_loss < 0.2']) }}
CREATE MODEL {{ this }}
  OPTIONS(model_type='logistic_reg', input_label_cols=['defaulted'])
AS SELECT defaulted, student, balance, income FROM {{ ref('stg_defaults') }}
