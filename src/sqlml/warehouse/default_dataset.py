"""``SET @@dataset_id = 'ds'``: unqualified table and model names then mean ``ds.name``.

https://cloud.google.com/bigquery/docs/reference/system-variables — "@@dataset_id: ID of the
default dataset in the current project. This ID is used when a dataset is not specified for a
project in the query." The variable lives in the connection's session, so the default holds for
the rest of the script and for later ``query()`` calls, as in a BigQuery session; setting it to
NULL turns it off. A name that is a CTE of the statement, a TEMP table or a registered DataFrame
keeps meaning that, and ``CREATE TEMP TABLE x`` stays in the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from sqlml.execution.survey import Survey, survey_of

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor


# What names a CREATE/DROP of these kinds targets: tables, views and models live in datasets.
_DATASET_KINDS = {"TABLE", "VIEW", "MODEL", "MATERIALIZED VIEW", "SNAPSHOT TABLE", "EXTERNAL TABLE"}


def default_dataset(executor: Executor) -> str | None:
    """The session's ``@@dataset_id``, or None."""
    system = executor.session.get("system_variables")
    return getattr(system, "dataset_id", None) or None


def qualify(tree: exp.Expression, executor: Executor, survey: Survey | None = None) -> exp.Expression:
    """``tree`` with its unqualified table and model names put in the default dataset."""
    dataset = default_dataset(executor)
    if dataset is None:
        return tree
    survey = survey_of(tree, survey)
    targets = [table for table in survey.tables if _in_a_dataset(table, tree)]
    if not targets:
        return tree
    ctes = {cte.alias_or_name.lower() for cte in survey.ctes}
    session = _session_names(executor)
    for table in targets:
        if table.name.lower() not in ctes and table.name.lower() not in session:
            table.set("db", exp.to_identifier(dataset))
    return tree


def _in_a_dataset(table: exp.Table, tree: exp.Expression) -> bool:
    """Whether ``table`` is an unqualified name that would live in a dataset."""
    if table.args.get("db") is not None or not isinstance(table.this, exp.Identifier) or isinstance(table.parent, exp.UserDefinedFunction):
        return False
    statement = table.find_ancestor(exp.Create, exp.Drop)
    if statement is None or not _names_the_target(statement, table):
        return True
    kind = (statement.args.get("kind") or "").upper()
    temporary = statement.find(exp.TemporaryProperty) is not None
    return kind in _DATASET_KINDS and not temporary


def _names_the_target(statement: exp.Expression, table: exp.Table) -> bool:
    target = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
    return target is table or table in (statement.args.get("tables") or [])


def _session_names(executor) -> set[str]:
    """Lower-case names of the session's TEMP tables and registered DataFrames."""
    with executor.engine.lease() as cursor:
        return {name.lower() for name in cursor.session_relations()}
