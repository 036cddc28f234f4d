"""The one seam to a SQL engine: :mod:`sqlml.engine.base` declares what sqlml asks of an engine
(typed Protocols and exception kinds), :mod:`sqlml.engine.errors` turns the engine's exceptions
into sqlml errors located in the user's SQL, and :mod:`sqlml.engine.duckdb` implements the seam
on DuckDB. Another engine is one more package beside it."""
