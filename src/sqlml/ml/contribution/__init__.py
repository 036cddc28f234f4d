"""Contribution analysis: the segments of test and control rows and their insights, computed in DuckDB.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-contribution-analysis
(CREATE MODEL) and https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights
(ML.GET_INSIGHTS): :mod:`.metric` reads the metric and checks the rows, :mod:`.segments` finds the
segments with enough apriori support, :mod:`.insights` computes their metrics and keeps them as arrays.
"""
