"""The ``sqlml`` dbt adapter plugin (``profiles.yml``: ``type: sqlml``).

Its macro search order is ``sqlml__`` → ``bigquery__`` → ``default__``: the plugin depends on a
``bigquery`` plugin that is only dbt-bigquery's SQL macros (:mod:`dbt.adapters.sqlml.bigquery`),
so packages such as dbt_utils and dbt_date pick their BigQuery implementations, and dbt-bigquery
itself (with Google's client libraries) is not needed.
"""

from dbt.adapters.base import AdapterPlugin

from dbt.adapters.sqlml.bigquery import install as _install_bigquery_macros
from dbt.adapters.sqlml.connections import SqlmlConnectionManager  # noqa: F401
from dbt.adapters.sqlml.credentials import SqlmlCredentials
from dbt.adapters.sqlml.impl import SqlmlAdapter
from dbt.include import sqlml

_install_bigquery_macros()

Plugin = AdapterPlugin(
    adapter=SqlmlAdapter,  # type: ignore[arg-type]
    credentials=SqlmlCredentials,
    include_path=sqlml.PACKAGE_PATH,
    dependencies=["bigquery"],
)
