"""BigQuery-flavoured relations: ``project.dataset.table`` quoted with backticks.

With ``dialect: duckdb`` the same names are quoted with DuckDB's double quotes
(:func:`use_dialect`, set once when the adapter starts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, FrozenSet

from dbt.adapters.base.relation import BaseRelation
from dbt.adapters.contracts.relation import RelationType

QUOTES = {"bigquery": "`", "duckdb": '"'}


@dataclass(frozen=True, eq=False, repr=False)
class SqlmlRelation(BaseRelation):
    """A table, view or materialized view of the sqlml warehouse (dbt-bigquery's naming rules)."""

    quote_character: str = "`"
    require_alias: bool = False
    renameable_relations: FrozenSet[RelationType] = field(default_factory=lambda: frozenset({RelationType.Table}))
    replaceable_relations: FrozenSet[RelationType] = field(
        default_factory=lambda: frozenset({RelationType.View, RelationType.Table})
    )
    #: The quote of the target's dialect (a relation made by dbt-core carries the default).
    dialect_quote: ClassVar[str] = "`"

    def quoted(self, identifier: str) -> str:
        quote = self.dialect_quote
        return f"{quote}{identifier}{quote}"

    @property
    def project(self) -> str | None:
        """dbt-bigquery's name of the database: models write ``{{ this.project }}``."""
        return self.database

    @property
    def dataset(self) -> str | None:
        """dbt-bigquery's name of the schema: ``{{ this.dataset }}``."""
        return self.schema


def use_dialect(dialect: str) -> None:
    """Quote every relation for ``dialect`` from now on (one target per dbt invocation)."""
    SqlmlRelation.dialect_quote = QUOTES[dialect]
