{{ config(materialized='table') }}
SELECT student, balance, income, predicted_defaulted,
       (SELECT p.prob FROM UNNEST(predicted_defaulted_probs) AS p WHERE p.label) AS default_probability
FROM ML.PREDICT(MODEL {{ ref('default_model') }}, TABLE {{ ref('stg_defaults') }})
