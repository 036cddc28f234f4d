"""BigQuery ML's automatic preprocessing: input columns (Arrow) to a model's feature matrix (NumPy), and input statistics."""
