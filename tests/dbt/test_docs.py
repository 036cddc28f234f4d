"""dbt-tests-adapter's docs generate suites: the catalog (INFORMATION_SCHEMA) with BigQuery's types."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.basic import expected_catalog
from dbt.tests.adapter.basic.test_docs_generate import BaseDocsGenerate, BaseDocsGenReferences


@pytest.fixture(scope="class")
def profile_user():
    """A sqlml warehouse has no users: relations have no owner."""
    return None


def sqlml_catalog(project, maker, **types):
    """The expected catalog with the names dbt-bigquery uses: INT64, STRING, DATETIME, table/view."""
    return maker(
        project,
        role=None,
        id_type="INT64",
        text_type="STRING",
        time_type="DATETIME",
        view_type="view",
        table_type="table",
        model_stats=expected_catalog.no_stats(),
        **types,
    )


@pytest.mark.slow  # runs dbt run and docs generate twice: ~20 s
class TestDocsGenerate(BaseDocsGenerate):
    @pytest.fixture(scope="class")
    def expected_catalog(self, project):
        return sqlml_catalog(project, expected_catalog.base_expected_catalog)


@pytest.mark.slow
class TestDocsGenReferences(BaseDocsGenReferences):
    @pytest.fixture(scope="class")
    def expected_catalog(self, project):
        return sqlml_catalog(project, expected_catalog.expected_references_catalog, bigint_type="INT64")
