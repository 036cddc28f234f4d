"""dbt-bigquery's ``partition_by={'field', 'data_type', 'granularity', 'range'}`` config.

https://docs.getdbt.com/reference/resource-configs/bigquery-configs#partition-clause
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbt_common.exceptions import CompilationError

_TIME_TYPES = ("date", "datetime", "timestamp")
_GRANULARITIES = ("hour", "day", "month", "year")


@dataclass
class PartitionConfig:
    """One model's partitioning, as dbt-bigquery reads it (names lower-cased)."""

    field: str
    data_type: str = "date"
    granularity: str = "day"
    range: dict[str, Any] | None = None
    time_ingestion_partitioning: bool = False
    copy_partitions: bool = False

    def data_type_for_partition(self) -> str:
        """The type of the partition values insert_overwrite compares."""
        return self.data_type

    def data_type_should_be_truncated(self) -> bool:
        """Whether the column is truncated to its granularity (all but int64 and daily dates)."""
        return not (self.data_type == "int64" or (self.data_type == "date" and self.granularity == "day"))

    def render(self, alias: str | None = None) -> str:
        """The PARTITION BY expression: ``d``, or ``timestamp_trunc(ts, month)``."""
        column = f"{alias}.{self.field}" if alias else self.field
        if self.data_type_should_be_truncated() and self.data_type != "int64":
            return f"{self.data_type}_trunc({column}, {self.granularity})"
        return column

    def render_wrapped(self, alias: str | None = None) -> str:
        """The value insert_overwrite compares to pick the rows it replaces: as dbt-bigquery's, a
        time partition, or an int64 column's own value (not its range bucket: dbt-bigquery's
        MERGE deletes the rows whose value a new row has, and keeps the bucket's others)."""
        if self.data_type in _TIME_TYPES and not self.data_type_should_be_truncated():
            return f"{self.data_type}({self.render(alias)})"
        return self.render(alias)

    def render_clause(self) -> str:
        """The expression of CREATE TABLE's PARTITION BY, as dbt-bigquery's partition_by macro writes
        it: RANGE_BUCKET(column, GENERATE_ARRAY(start, end, interval)) for an int64 range."""
        if self.data_type == "int64":
            return f"range_bucket({self.field}, generate_array({self.range['start']}, {self.range['end']}, {self.range['interval']}))"
        return self.render()

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> PartitionConfig | None:
        """Read a model's ``partition_by``; None when it has none."""
        if raw is None:
            return None
        if not isinstance(raw, dict) or "field" not in raw:
            raise CompilationError(f"partition_by {raw!r} is not a dict with a 'field': write partition_by={{'field': 'd', 'data_type': 'date'}}.")
        values = {key: value.lower() if isinstance(value, str) and key != "field" else value for key, value in raw.items()}
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise CompilationError(f"partition_by has unknown keys {sorted(unknown)}: dbt-bigquery's are field, data_type, granularity, range.")
        config = cls(**values)
        if config.data_type == "int64" and not (isinstance(config.range, dict) and {"start", "end", "interval"} <= set(config.range)):
            raise CompilationError(
                f"partition_by {raw!r}: an int64 partition needs a range: write 'range': {{'start': 0, 'end': 100, 'interval': 10}}."
            )
        if config.data_type not in (*_TIME_TYPES, "int64") or config.granularity not in _GRANULARITIES:
            raise CompilationError(
                f"partition_by data_type {config.data_type!r} / granularity {config.granularity!r}: "
                "data_type is date, datetime, timestamp or int64; granularity hour, day, month or year."
            )
        return config
