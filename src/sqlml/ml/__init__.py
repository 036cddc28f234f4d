"""BigQuery ML on sqlml, one package per job:

* :mod:`sqlml.ml.models` — the model families (estimators, options, output columns, metrics) and
  the table from ``model_type`` to family;
* :mod:`sqlml.ml.preprocessing` — automatic preprocessing (a model's encoders and feature
  matrix), BigQuery's ML.* preprocessing functions and the frozen TRANSFORM clause replayed;
* :mod:`sqlml.ml.monitoring` — distributions of input columns, skew and drift, TFDV statistics;
* :mod:`sqlml.ml.runtime` — a stored model loaded once per version, and its input batches turned
  into ML.PREDICT's and ML.EXPLAIN_PREDICT's rows, for the SQL functions and the server alike;
* :mod:`sqlml.ml.training` — CREATE/ALTER/DROP MODEL and EXPORT MODEL, the data split, labels,
  the TRANSFORM fit, training and tuning;
* :mod:`sqlml.ml.functions` — the SQL-facing ML.* table functions.

No other package here imports :mod:`sqlml.ml.functions`, and the server reaches models only through
:mod:`sqlml.ml.runtime` (and the families).
"""
