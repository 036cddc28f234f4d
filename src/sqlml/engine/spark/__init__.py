"""The Spark implementation of the engine seam (:mod:`sqlml.engine.base`): the same SQL, scripts,
models and projects on Apache Spark when the data outgrows one machine
(``sqlml.connect(engine="spark", spark=<SparkSession or master URL>)``). The only package that
uses pyspark; importing it imports pyspark only where a session starts.

* :mod:`~sqlml.engine.spark.engine` — :class:`~sqlml.engine.spark.engine.SparkEngine`, Spark for the
  datasets beside a DuckDB file for sqlml's bookkeeping;
* :mod:`~sqlml.engine.spark.translate` — which side runs a statement, and its Spark SQL (sqlglot);
* :mod:`~sqlml.engine.spark.statements` — running it on Spark (Parquet tables, replaced tables);
* :mod:`~sqlml.engine.spark.writes` — table writes staged and swapped in, so a failed one leaves none;
* :mod:`~sqlml.engine.spark.cursor` — the seam's cursor and relation (Arrow in DuckDB's types);
* :mod:`~sqlml.engine.spark.catalog` — catalog lookups from Spark's catalog;
* :mod:`~sqlml.engine.spark.types`, :mod:`~sqlml.engine.spark.errors` — types and exceptions;
* :mod:`~sqlml.engine.spark.session` — the Spark session handed in or started.
"""
