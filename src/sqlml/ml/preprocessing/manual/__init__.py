"""BigQuery ML's manual preprocessing functions (ML.STANDARD_SCALER, ML.BUCKETIZE, …) on DuckDB."""

from sqlml.execution.executor import register_rewrite
from sqlml.ml.preprocessing.manual.rewrite import rewrite_standalone

register_rewrite(rewrite_standalone)
