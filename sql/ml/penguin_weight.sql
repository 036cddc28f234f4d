{{ config(gate='r2_score >= 0.7') }}
-- BigQuery ML's first tutorial: predict a penguin's weight.
CREATE OR REPLACE MODEL {{ this }}
  OPTIONS(model_type='linear_reg', input_label_cols=['body_mass_g'])
AS SELECT * FROM {{ ref('stg_penguins') }}
