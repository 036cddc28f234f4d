"""The adapter's version, as dbt reads it (dbt.adapters.<type>.__version__): sqlml's."""

version = "0.1.0"
