"""ML.RECONSTRUCTION_LOSS: how far a model's reconstruction of each row is from the row."""
