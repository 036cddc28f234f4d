"""``sqlml serve``: an HTTP prediction endpoint for the models of a store.

* :mod:`.models` resolves ``dataset.model[@version|alias]`` to a loaded model, keeps models warm,
  follows alias moves, and splits traffic between versions;
* :mod:`.scoring` turns JSON instances into an Arrow batch of the model's input types and runs
  ML.PREDICT's or ML.EXPLAIN_PREDICT's own code on it — no SQL, no DuckDB;
* :mod:`.prediction_log` appends served predictions to a warehouse table, spooled durably first
  (:mod:`.spool`) so that none is lost to a busy warehouse or a killed server;
* :mod:`.app` is the FastAPI application (validation, errors, OpenAPI) and :mod:`.middleware`
  its request ids, access logs, bearer token and body limit;
* :mod:`.server` runs it on uvicorn with a shutdown that answers rather than resets;
  :mod:`.factory` builds it from the command's options.
"""
