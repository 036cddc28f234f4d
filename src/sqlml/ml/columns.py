"""Finding an input column by the name an option, a stored model or a TRANSFORM gives it.

BigQuery's column names are case-insensitive: "a column named Column1 is considered identical to a
column named column1" (https://cloud.google.com/bigquery/docs/schemas#column_names). Arrow tables
and DuckDB results keep the spelling of the query that made them, so a name from OPTIONS or from a
model's spec is matched against them ignoring case, here, in one way.
"""

from collections.abc import Iterable


def column_named(names: Iterable[str], wanted: str) -> str | None:
    """The first of ``names`` that ``wanted`` names ignoring case, or None when none does."""
    wanted = wanted.lower()
    return next((name for name in names if name.lower() == wanted), None)
