"""ML.DETECT_ANOMALIES: points of a series that its model finds improbable."""
