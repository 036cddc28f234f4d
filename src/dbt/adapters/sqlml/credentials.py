"""The ``profiles.yml`` target of ``type: sqlml``: where the warehouse and the model store are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from dbt.adapters.contracts.connection import Credentials
from dbt_common.exceptions import DbtRuntimeError

#: How model SQL may be written (sqlml.connect's ``dialect``).
DIALECTS = ("bigquery", "duckdb")


@dataclass
class SqlmlCredentials(Credentials):
    """A sqlml target: ``warehouse`` and ``models`` default as :func:`sqlml.connect` does.

    ``dataset`` and ``project`` are accepted for ``schema`` and ``database`` as dbt-bigquery
    spells them, so a BigQuery target needs only ``type: sqlml`` to run locally.
    """

    database: str = "sqlml"
    schema: str = "main"
    warehouse: str = "warehouse"
    models: str = "models"
    dialect: str = "bigquery"

    _ALIASES: ClassVar[dict[str, str]] = {"project": "database", "dataset": "schema"}

    @classmethod
    def __pre_deserialize__(cls, data: dict[Any, Any]) -> dict[Any, Any]:
        data = super().__pre_deserialize__(data)
        dialect = data.get("dialect", "bigquery")
        if dialect not in DIALECTS:
            raise DbtRuntimeError(
                f"profiles.yml: dialect {dialect!r} is not one sqlml reads: write dialect: bigquery or dialect: duckdb."
            )
        return data

    @property
    def type(self) -> str:
        return "sqlml"

    @property
    def unique_field(self) -> str:
        return self.warehouse

    def _connection_keys(self) -> tuple[str, ...]:
        return ("warehouse", "models", "dialect", "database", "schema")
