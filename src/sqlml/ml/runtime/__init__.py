"""The prediction runtime: a stored model's input batches to ML.PREDICT's and ML.EXPLAIN_PREDICT's output batches, used by the ML.* functions and the server."""
