"""dbt-tests-adapter's snapshot configuration suites on the sqlml adapter (slow: dbt runs several times).

hard_deletes='new_record' in timestamp and check mode, dbt_valid_to_current with new records,
snapshots of ephemeral models, new columns under both strategies and with deletes, and invalid
snapshot column names, and the suites whose expected tables Postgres SQL writes (custom snapshot
column names from the config or dbt_project.yml, a two-column unique key): their expected scd id,
``md5(a || '|' || b::text)``, is rewritten to the hash dbt's BigQuery snapshots compute,
``to_hex(md5(concat(coalesce(cast(a as string), ''), '|', …)))``. Not here:
BaseSnapshotDbtValidToCurrent, which compares dbt_valid_to with a naive datetime where a BigQuery
TIMESTAMP is UTC-aware.
"""

from __future__ import annotations

import re

import pytest
from dbt.tests.adapter.simple_snapshot import test_various_configs
from dbt.tests.adapter.simple_snapshot.new_record_check_mode import BaseSnapshotNewRecordCheckMode
from dbt.tests.adapter.simple_snapshot.new_record_dbt_valid_to_current import BaseSnapshotNewRecordDbtValidToCurrent
from dbt.tests.adapter.simple_snapshot.new_record_timestamp_mode import BaseSnapshotNewRecordTimestampMode
from dbt.tests.adapter.simple_snapshot.test_ephemeral_snapshot_hard_deletes import (
    BaseSnapshotEphemeralHardDeletes,
    BaseSnapshotNewColumnSpecificCheckCols,
    BaseSnapshotNewColumnTimestampStrategy,
    BaseSnapshotNewColumnWithDeletes,
)
from dbt.tests.adapter.simple_snapshot.test_various_configs import (
    BaseSnapshotColumnNames,
    BaseSnapshotColumnNamesFromDbtProject,
    BaseSnapshotInvalidColumnNames,
    BaseSnapshotMultiUniqueKey,
)

pytestmark = pytest.mark.slow


def bigquery_scd_id(sql: str) -> str:
    """``sql`` with each Postgres ``md5(a || '|' || b::text)`` as dbt's BigQuery snapshot hash of a, b."""

    def hashed(match: re.Match) -> str:
        parts = [part.removesuffix("::text") for part in match[1].split(" || '|' || ")]
        return "to_hex(md5(concat(" + ", '|', ".join(f"coalesce(cast({part} as string), '')" for part in parts) + ")))"

    return re.sub(r"md5\(([^()]*)\)", hashed, sql)


class BigQueryScdIds:
    """The suite module's SQL constants with BigQuery's scd ids, for each test of the class."""

    @pytest.fixture(autouse=True)
    def _bigquery_scd_ids(self, monkeypatch):
        for name, value in vars(test_various_configs).items():
            if isinstance(value, str) and "md5(" in value:
                monkeypatch.setattr(test_various_configs, name, bigquery_scd_id(value))


class TestSnapshotColumnNames(BigQueryScdIds, BaseSnapshotColumnNames):
    pass


class TestSnapshotColumnNamesFromDbtProject(BigQueryScdIds, BaseSnapshotColumnNamesFromDbtProject):
    pass


class TestSnapshotMultiUniqueKey(BigQueryScdIds, BaseSnapshotMultiUniqueKey):
    pass


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
