-- Fails for every scored application whose probability is outside [0, 1].
SELECT * FROM {{ ref('credit_decisions') }} WHERE probability_good < 0 OR probability_good > 1
