SELECT species, island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex
FROM {{ ref('penguins') }}
WHERE body_mass_g IS NOT NULL
