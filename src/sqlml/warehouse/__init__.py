"""The warehouse's objects above the SQL engine: tables (and their partitions), views,
materialized views, DML and its write log, INFORMATION_SCHEMA, routines, wildcard tables, column
types, the default dataset, and the ``sqlml_meta`` tables that record what the engine does not
(:mod:`sqlml.warehouse.meta`)."""
