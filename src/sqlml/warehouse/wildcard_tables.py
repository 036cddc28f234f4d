"""Wildcard tables: ``FROM `proj.ds.events_*``` reads every table of ``ds`` whose name starts with
``events_``, each row carrying the rest of its table's name in the pseudo-column ``_TABLE_SUFFIX``.

https://cloud.google.com/bigquery/docs/querying-wildcard-tables — the wildcard table is the union
of the matching tables. Its schema is that of the most recently created one; a column another
table lacks reads as NULL there, and a column of the same name with another type is BigQuery's
error "Cannot read field of type X as Y Field: column". DuckDB keeps no creation times, so sqlml
takes the table whose name sorts last — the newest shard for the date-suffixed tables wildcards
are made for. A match on a view is an error, as on BigQuery, and so is no match at all.
``SELECT *`` leaves ``_TABLE_SUFFIX`` out. Conditions of the WHERE clause on ``_TABLE_SUFFIX``
alone (``BETWEEN '20210101' AND '20210131'``, ``LIKE``, ``IN``…, with constants) are evaluated
first, so only the tables they keep are read; the WHERE clause still filters the rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from sqlglot import exp

from sqlml.engine.base import CATALOG, EngineError
from sqlml.errors import Error, NotFoundError, SqlTypeError, UnsupportedStatementError
from sqlml.execution.survey import Survey, survey_of
from sqlml.sql.expressions import written_location
from sqlml.sql.query_fixes import is_inside
from sqlml.sql.transpile import to_duckdb
from sqlml.warehouse.column_types import BIGQUERY_TYPE_SQL

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor

SUFFIX = "_TABLE_SUFFIX"


@dataclass
class _Match:
    """The tables a wildcard matches: name → [(column, DuckDB type, BigQuery type)], in order."""

    dataset: str
    prefix: str
    pattern: str
    tables: dict[str, list[tuple[str, str, str]]]

    @property
    def schema(self) -> list[tuple[str, str, str]]:
        return self.tables[max(self.tables)]


def wildcard_tables(tree: exp.Expression, survey: Survey | None = None) -> list[exp.Table]:
    """The wildcard tables (``ds.prefix*``) ``tree`` reads."""
    return [t for t in survey_of(tree, survey).tables if isinstance(t.this, exp.Identifier) and t.name.endswith("*")]


def expand(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """Replace each wildcard table of ``tree`` by the union of the tables it matches.

    A view's query is left as written: sqlml keeps such a view's query and expands it whenever
    the view is read (:mod:`sqlml.warehouse.ml_views`, which runs first), so that it reads the
    tables that match then, as a BigQuery view does.
    """
    if isinstance(tree, exp.Create) and (tree.kind or "").upper() == "VIEW":
        return tree
    survey = survey_of(tree, survey)
    for table in wildcard_tables(tree, survey):
        try:
            match = _match(table, executor)
            kept = _pruned(table, match, executor)
            union_query = _union(match, kept)
        except Error as error:  # about the tables it matches: point at the wildcard, not the statement's start
            error.location = error.location or written_location(table)
            raise
        _exclude_suffix_from_stars(table)
        alias = table.alias or table.name.rstrip("*") or "wildcard"
        union = union_query.subquery(exp.to_identifier(alias, quoted=True))
        union.set("sample", table.args.get("sample"))  # FROM ds.events_* TABLESAMPLE SYSTEM (10 PERCENT)
        table.replace(union)
        survey.changed()
    return tree


def _match(table: exp.Table, executor) -> _Match:
    dataset, prefix = table.db, table.name[:-1]
    pattern = f"{dataset}.{table.name}"
    project = table.catalog or "sqlml"
    if not dataset:
        raise NotFoundError(
            f'Table name "{table.name}" missing dataset while no default dataset is set in the request.',
            hint=f"Name the dataset (FROM ds.{table.name}) or SET @@dataset_id = 'ds' first.",
        )
    sql = (
        f"SELECT table_name, column_name, data_type, {BIGQUERY_TYPE_SQL}, is_view FROM ("
        f"  SELECT c.table_name, c.column_name, c.data_type, c.numeric_precision, c.numeric_scale, c.column_index,"
        f"         v.view_name IS NOT NULL AS is_view"
        f"  FROM duckdb_columns() c LEFT JOIN duckdb_views() v"
        f"    ON v.database_name = c.database_name AND v.schema_name = c.schema_name AND v.view_name = c.table_name"
        f"  WHERE c.database_name = ? AND lower(c.schema_name) = lower(?) AND starts_with(lower(c.table_name), lower(?))"
        f") ORDER BY table_name, column_index"
    )
    with executor.engine.lease() as cursor:
        rows = cursor.execute(sql, [CATALOG, dataset, prefix]).fetchall()
    views = sorted({row[0] for row in rows if row[4]})
    if views:
        raise UnsupportedStatementError(
            f"Views cannot be queried through prefix. First view {project}:{dataset}.{views[0]}.",
            hint="Rename the view so that the wildcard does not match it, or query the tables by name.",
        )
    if not rows:
        raise NotFoundError(
            f"Not found: Table {project}:{pattern} was not found",
            hint=f"No table of dataset {dataset} has a name starting with '{prefix}'.",
        )
    tables: dict[str, list[tuple[str, str, str]]] = {}
    for name, column, duck_type, bigquery_type, _ in rows:
        tables.setdefault(name, []).append((column, duck_type, bigquery_type))
    return _Match(dataset, prefix, pattern, tables)


def _pruned(table: exp.Table, match: _Match, executor) -> list[str]:
    """The matching tables the WHERE conditions on ``_TABLE_SUFFIX`` keep."""
    suffixes = {name[len(match.prefix) :]: name for name in match.tables}
    select = table.find_ancestor(exp.Select)
    sources = [select.args.get("from_"), *(select.args.get("joins") or [])] if select is not None else []
    where = select.args.get("where") if any(is_inside(table, source) for source in sources if source is not None) else None
    conjuncts = list(where.this.flatten()) if where is not None and isinstance(where.this, exp.And) else [where.this] if where is not None else []
    conditions = [c for c in (_on_suffix_only(c, table.alias_or_name) for c in conjuncts) if c is not None]
    if not conditions:
        return sorted(match.tables)
    names = exp.Parameter(this=exp.var("__sqlml_suffixes"))
    query = exp.select(exp.column(SUFFIX)).from_(exp.Unnest(expressions=[names], alias=exp.TableAlias(columns=[exp.to_identifier(SUFFIX)])))
    query = query.where(*conditions)
    # On a side cursor: it reads no table, and a condition that fails there (PARSE_DATE of an
    # 'intraday_…' suffix) must not abort the statement's transaction — it just prunes nothing,
    # and the WHERE clause still applies to the rows.
    with executor.engine.lease():
        cursor = executor.engine.new_cursor()
        try:
            rows = cursor.execute(to_duckdb(query), {"__sqlml_suffixes": sorted(suffixes)}).fetchall()
        except EngineError:
            return sorted(match.tables)
        finally:
            cursor.close()
    return sorted(suffixes[row[0]] for row in rows)


def _on_suffix_only(condition: exp.Expression, alias: str) -> exp.Expression | None:
    """``condition`` with ``_TABLE_SUFFIX`` unqualified, if it reads nothing else that varies."""
    if condition.find(exp.Query, exp.Parameter, exp.Placeholder, exp.AggFunc, exp.Window, exp.Rand) is not None:
        return None
    columns = list(condition.find_all(exp.Column))
    if not columns or any(c.name.upper() != SUFFIX or (c.table and c.table != alias) for c in columns):
        return None
    condition = condition.copy()
    for column in condition.find_all(exp.Column):
        column.set("table", None)
    return condition


def _exclude_suffix_from_stars(table: exp.Table) -> None:
    """``SELECT *`` (or ``alias.*``) over the wildcard table lists its columns, not ``_TABLE_SUFFIX``."""
    select = table.find_ancestor(exp.Select)
    if select is None:
        return
    for projection in select.expressions:
        star = projection if isinstance(projection, exp.Star) else projection.this if isinstance(projection, exp.Column) else None
        if not isinstance(star, exp.Star) or (isinstance(projection, exp.Column) and projection.table != table.alias_or_name):
            continue
        star.set("except_", [*(star.args.get("except_") or []), exp.column(SUFFIX)])


def _union(match: _Match, names: list[str]) -> exp.Query:
    """One SELECT per kept table in the wildcard's schema, UNION ALL; an empty result if none is kept."""
    schema = match.schema
    parts = [_part(match, name, schema) for name in names]
    if not parts:
        empty = [exp.alias_(exp.cast(exp.null(), _type(duck_type)), column, quoted=True) for column, duck_type, _ in schema]
        return exp.select(*empty, exp.alias_(exp.cast(exp.null(), "VARCHAR"), SUFFIX)).where(exp.false())
    union = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return union


def _part(match: _Match, name: str, schema: list[tuple[str, str, str]]) -> exp.Select:
    own = {column.lower(): (duck_type, bigquery_type) for column, duck_type, bigquery_type in match.tables[name]}
    projections = []
    for column, duck_type, bigquery_type in schema:
        found = own.get(column.lower())
        if found is None:
            projections.append(exp.alias_(exp.cast(exp.null(), _type(duck_type)), column, quoted=True))
            continue
        if found[0] != duck_type:
            raise SqlTypeError(
                f"Cannot read field of type {found[1]} as {bigquery_type} Field: {column}",
                hint=f"{match.dataset}.{name} has {column} as {found[1]}; the wildcard {match.pattern} reads it as {bigquery_type}.",
            )
        projections.append(exp.column(exp.to_identifier(column, quoted=True)))
    projections.append(exp.alias_(exp.Literal.string(name[len(match.prefix) :]), SUFFIX))
    return exp.select(*projections).from_(exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(match.dataset, quoted=True)))


def _type(duck_type: str) -> exp.DataType:
    return exp.DataType.build(duck_type, dialect="duckdb")
