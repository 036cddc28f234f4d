"""More of dbt-tests-adapter's suites on the sqlml adapter: table, aliases, dbt show, stored test failures."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.aliases.test_aliases import BaseAliases
from dbt.tests.adapter.basic.test_table_materialization import BaseTableMaterialization
from dbt.tests.adapter.dbt_show.test_dbt_show import BaseShowLimit
from dbt.tests.adapter.store_test_failures_tests.test_store_test_failures import BaseStoreTestFailures


@pytest.mark.slow
class TestTableMaterialization(BaseTableMaterialization):
    pass


@pytest.mark.slow
class TestAliases(BaseAliases):
    pass


@pytest.mark.slow
class TestShowLimit(BaseShowLimit):
    pass


@pytest.mark.slow
class TestStoreTestFailures(BaseStoreTestFailures):
    pass
