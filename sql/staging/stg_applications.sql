{{ config(materialized='incremental', partition_by='application_month', cluster_by=['status'],
          lookback=var('lookback_months'), tags=['daily']) }}
-- Credit applications, cleaned: sentinel values become NULL, each application gets an id and a month.
SELECT
  ROW_NUMBER() OVER () AS application_id,
  DATE_ADD(DATE '2025-01-01', INTERVAL MOD(ROW_NUMBER() OVER (), 12) MONTH) AS application_month,
  LOWER(Status) AS status,
  Seniority AS seniority, Home AS home, Time AS term_months, Age AS age, Marital AS marital,
  Records = 'yes' AS has_records, Job AS job, Expenses AS expenses,
  {{ null_if_sentinel('Income') }} AS income,
  {{ null_if_sentinel('Assets') }} AS assets,
  {{ null_if_sentinel('Debt') }} AS debt,
  Amount AS amount, Price AS price
FROM {{ ref('credit_scoring') }}
