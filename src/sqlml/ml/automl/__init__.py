"""AUTOML_CLASSIFIER and AUTOML_REGRESSOR: a search across sqlml's own supervised families.

BigQuery hands these model types to Vertex AI AutoML
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-automl);
sqlml searches its own families (linear, boosted trees, random forests and, when registered, DNNs)
and their hyperparameters with Optuna within ``budget_hours``, chooses by cross-validation,
ensembles the best candidates (linear and tree ones too) when that clearly scores better, refits
the choice on the training and validation rows, and keeps each chosen model as its family stores it.
"""
