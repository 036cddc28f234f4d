-- The newest month of applications: what the credit model is checked against for skew before it goes live.
SELECT * FROM {{ ref('stg_applications') }}
WHERE application_month = (SELECT MAX(application_month) FROM {{ ref('stg_applications') }})
