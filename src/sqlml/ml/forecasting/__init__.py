"""Time-series forecasting (ARIMA_PLUS): preparing series, fitting ARIMA, the fitted state as data.

``preparation*`` turns raw points into a regular series BigQuery's way (frequency, duplicates,
gaps, spikes and dips, step changes, holidays, seasonality); ``fit`` chooses and fits the trend's
ARIMA model with statsforecast; ``state`` keeps what forecasting needs as NumPy arrays and JSON.
"""
