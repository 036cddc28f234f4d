{{ config(materialized='table') }}
SELECT species, island, sex, body_mass_g, ROUND(predicted_body_mass_g, 1) AS predicted_body_mass_g
FROM ML.PREDICT(MODEL {{ ref('penguin_weight') }}, TABLE {{ ref('stg_penguins') }})
