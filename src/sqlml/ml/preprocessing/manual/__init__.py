"""BigQuery ML's manual preprocessing functions (ML.STANDARD_SCALER, ML.BUCKETIZE, …) on DuckDB."""
