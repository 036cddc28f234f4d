{{ config(materialized='table') }}
SELECT `default` AS defaulted, student, balance, income
FROM {{ ref('credit_default') }}
