"""The ``bigquery`` parent of the sqlml plugin: dbt-bigquery's SQL macros without dbt-bigquery.

dbt searches ``adapter.dispatch`` macros and materializations by the adapter's type, then its
plugin's ``dependencies``, then ``default``; a dependency is loaded as ``dbt.adapters.<name>``.
When dbt-bigquery is not installed, :func:`install` puts this stand-in there: a plugin of type
``bigquery`` whose include project (``dbt/include/sqlml_bigquery``) holds dbt-bigquery's
cross-database macros written for BigQuery SQL, which sqlml reads.
"""

from __future__ import annotations

import importlib.util
import sys
import types

from dbt.adapters.base import AdapterPlugin

from dbt.adapters.sqlml.credentials import SqlmlCredentials
from dbt.adapters.sqlml.impl import SqlmlAdapter


class BigQueryMacros(SqlmlAdapter):
    """Only its type name is used: ``bigquery``, the second prefix of the macro search."""

    @classmethod
    def type(cls) -> str:
        return "bigquery"


def install() -> None:
    """Make ``dbt.adapters.bigquery`` this stand-in unless the real dbt-bigquery is installed."""
    name = "dbt.adapters.bigquery"
    if name in sys.modules or importlib.util.find_spec(name) is not None:
        return
    from dbt.include import sqlml_bigquery

    module = types.ModuleType(name, __doc__)
    module.Plugin = AdapterPlugin(
        adapter=BigQueryMacros,  # type: ignore[arg-type]
        credentials=SqlmlCredentials,
        include_path=sqlml_bigquery.PACKAGE_PATH,
        project_name="dbt_sqlml_bigquery",
    )
    sys.modules[name] = module
