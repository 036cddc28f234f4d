"""The DuckDB implementation of the engine seam (:mod:`sqlml.engine.base`), the only package that
uses DuckDB's Python API.

* :mod:`~sqlml.engine.duckdb.engine` — :class:`~sqlml.engine.duckdb.engine.DuckDBEngine`, a session (the seam's ``SqlEngine``);
* :mod:`~sqlml.engine.duckdb.cursor` — its cursors and relations, DuckDB's exceptions translated;
* :mod:`~sqlml.engine.duckdb.catalog` — catalog lookups over DuckDB's ``duckdb_*()`` functions;
* :mod:`~sqlml.engine.duckdb.instance`, :mod:`~sqlml.engine.duckdb.lease_queue`,
  :mod:`~sqlml.engine.duckdb.turns`, :mod:`~sqlml.engine.duckdb.table_writes` — the private
  instance, its hold on the warehouse file, the queue of processes, the turns of threads and
  sessions;
* :mod:`~sqlml.engine.duckdb.builtins` — installing the BigQuery functions DuckDB lacks;
* :mod:`~sqlml.engine.duckdb.scratch` — the process's in-memory DuckDB for SQL over values
  outside the warehouse (frozen TRANSFORMs, constant arguments), DuckDB whichever engine holds the
  warehouse.
"""
