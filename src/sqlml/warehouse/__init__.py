"""The warehouse's objects above the SQL engine: tables (:mod:`.tables`, partitioned ones with
:mod:`.partitions`), views (:mod:`.views`, those over ML functions with :mod:`.ml_views`),
materialized views, DML and its write log, INFORMATION_SCHEMA, the routines catalog, wildcard
tables, column types, the default dataset, the GEOGRAPHY and FARM_FINGERPRINT functions the engine
lacks, and the ``sqlml_meta`` tables that record what the engine does not (:mod:`.meta`)."""
