"""``sqlml serve``: an HTTP prediction endpoint for the models of a store.

* :mod:`.models` resolves ``dataset.model[@version|alias]`` to a loaded model, keeps models warm,
  follows alias moves, and splits traffic between versions;
* :mod:`.scoring` turns JSON instances into an Arrow batch of the model's input types and runs
  ML.PREDICT's or ML.EXPLAIN_PREDICT's own code on it — no SQL, no DuckDB;
* :mod:`.prediction_log` appends served predictions to a warehouse table in the background;
* :mod:`.app` is the FastAPI application (validation, errors, auth, access logs, OpenAPI).
"""
