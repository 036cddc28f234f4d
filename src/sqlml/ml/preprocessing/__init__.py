"""Preprocessing: automatic (a model's encoders and feature matrix) and manual (BigQuery's ML.* preprocessing functions)."""
