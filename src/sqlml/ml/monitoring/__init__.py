"""Model monitoring: distributions of input columns, skew and drift distances, TensorFlow Data Validation statistics."""
