"""dbt-tests-adapter's incremental suites (unique keys, schema changes, predicates, excluded columns)."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.incremental.test_incremental_merge_exclude_columns import BaseMergeExcludeColumns
from dbt.tests.adapter.incremental.test_incremental_on_schema_change import BaseIncrementalOnSchemaChange
from dbt.tests.adapter.incremental.test_incremental_predicates import BaseIncrementalPredicates
from dbt.tests.adapter.incremental.test_incremental_unique_id import BaseIncrementalUniqueKey


@pytest.mark.slow
class TestIncrementalUniqueKey(BaseIncrementalUniqueKey):
    pass


@pytest.mark.slow
class TestIncrementalOnSchemaChange(BaseIncrementalOnSchemaChange):
    pass


@pytest.mark.slow
class TestIncrementalPredicates(BaseIncrementalPredicates):
    pass


@pytest.mark.slow
class TestMergeExcludeColumns(BaseMergeExcludeColumns):
    pass
