"""dbt-tests-adapter's snapshot configuration suites on the sqlml adapter (slow: dbt runs several times).

hard_deletes='new_record' in timestamp and check mode, dbt_valid_to_current with new records,
snapshots of ephemeral models, new columns under both strategies and with deletes, and invalid
snapshot column names. Not here: BaseSnapshotColumnNames, BaseSnapshotColumnNamesFromDbtProject,
BaseSnapshotMultiUniqueKey and BaseSnapshotDbtValidToCurrent — their expected tables are written
by Postgres SQL (``md5(id || '-' || first_name || '|' || updated_at::text)`` as the scd id, naive
timestamps), which no BigQuery-flavoured adapter reproduces: dbt's BigQuery snapshot hashes
``to_hex(md5(concat(...)))`` and BigQuery TIMESTAMPs are UTC-aware.
"""

from __future__ import annotations

import pytest
from dbt.tests.adapter.simple_snapshot.new_record_check_mode import BaseSnapshotNewRecordCheckMode
from dbt.tests.adapter.simple_snapshot.new_record_dbt_valid_to_current import BaseSnapshotNewRecordDbtValidToCurrent
from dbt.tests.adapter.simple_snapshot.new_record_timestamp_mode import BaseSnapshotNewRecordTimestampMode
from dbt.tests.adapter.simple_snapshot.test_ephemeral_snapshot_hard_deletes import (
    BaseSnapshotEphemeralHardDeletes,
    BaseSnapshotNewColumnSpecificCheckCols,
    BaseSnapshotNewColumnTimestampStrategy,
    BaseSnapshotNewColumnWithDeletes,
)
from dbt.tests.adapter.simple_snapshot.test_various_configs import BaseSnapshotInvalidColumnNames

pytestmark = pytest.mark.slow


class TestSnapshotInvalidColumnNames(BaseSnapshotInvalidColumnNames):
    pass


class TestSnapshotNewRecordTimestampMode(BaseSnapshotNewRecordTimestampMode):
    pass


class TestSnapshotNewRecordCheckMode(BaseSnapshotNewRecordCheckMode):
    pass


class TestSnapshotNewRecordDbtValidToCurrent(BaseSnapshotNewRecordDbtValidToCurrent):
    pass


class TestSnapshotEphemeralHardDeletes(BaseSnapshotEphemeralHardDeletes):
    pass


class TestSnapshotNewColumnTimestampStrategy(BaseSnapshotNewColumnTimestampStrategy):
    pass


class TestSnapshotNewColumnSpecificCheckCols(BaseSnapshotNewColumnSpecificCheckCols):
    pass


class TestSnapshotNewColumnWithDeletes(BaseSnapshotNewColumnWithDeletes):
    pass
