{{ config(materialized='table') }}
SELECT application_id, application_month, predicted_status,
       (SELECT p.prob FROM UNNEST(predicted_status_probs) AS p WHERE p.label = 'good') AS probability_good
FROM ML.PREDICT(MODEL {{ ref('credit_decision') }}, TABLE {{ ref('stg_applications') }})
