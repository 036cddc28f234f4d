"""Matrix factorization: BigQuery ML's MATRIX_FACTORIZATION models, fitted, stored and queried."""
