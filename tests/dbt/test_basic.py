"""dbt's own basic adapter suites (dbt-tests-adapter) on the sqlml adapter."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.basic.test_adapter_methods import BaseAdapterMethod
from dbt.tests.adapter.basic.test_base import BaseSimpleMaterializations
from dbt.tests.adapter.basic.test_empty import BaseEmpty
from dbt.tests.adapter.basic.test_ephemeral import BaseEphemeral
from dbt.tests.adapter.basic.test_generic_tests import BaseGenericTests
from dbt.tests.adapter.basic.test_incremental import BaseIncremental
from dbt.tests.adapter.basic.test_singular_tests import BaseSingularTests
from dbt.tests.adapter.basic.test_snapshot_check_cols import BaseSnapshotCheckCols
from dbt.tests.adapter.basic.test_snapshot_timestamp import BaseSnapshotTimestamp


@pytest.mark.slow  # runs dbt 3-6 times: ~15-35 s on 2 busy cores
class TestSimpleMaterializations(BaseSimpleMaterializations):
    pass


class TestSingularTests(BaseSingularTests):
    pass


class TestEmpty(BaseEmpty):
    pass


class TestEphemeral(BaseEphemeral):
    pass


@pytest.mark.slow  # runs dbt 3-6 times: ~15-35 s on 2 busy cores
class TestGenericTests(BaseGenericTests):
    pass


@pytest.mark.slow  # runs dbt 3-6 times: ~15-35 s on 2 busy cores
class TestIncremental(BaseIncremental):
    pass


@pytest.mark.slow  # runs dbt 3-6 times: ~15-35 s on 2 busy cores
class TestSnapshotCheckCols(BaseSnapshotCheckCols):
    pass


@pytest.mark.slow  # runs dbt 3-6 times: ~15-35 s on 2 busy cores
class TestSnapshotTimestamp(BaseSnapshotTimestamp):
    pass


class TestAdapterMethod(BaseAdapterMethod):
    pass
