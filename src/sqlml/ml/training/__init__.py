"""Training: the CREATE MODEL pipeline, the data split, labels, tuning, the TRANSFORM clause and model DDL."""
