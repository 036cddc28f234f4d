"""ML.EXPLAIN_FORECAST: a forecasting model's history and forecast split into its components."""
