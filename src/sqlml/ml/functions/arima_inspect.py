"""ML.ARIMA_EVALUATE, ML.ARIMA_COEFFICIENTS and ML.HOLIDAY_INFO: what a forecasting model fitted."""
