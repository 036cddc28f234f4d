"""The TRANSFORM clause: fitted on the training rows and frozen into the model (replayed on new rows
by :mod:`sqlml.ml.preprocessing.frozen_transform`).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create#transform

Training input is ``SELECT <transform list> FROM (<query>)``. Analytic ML.* functions in the list
compute their statistics on the training split only, and those values are written into the
stored list as literals; prediction, evaluation and ML.TRANSFORM run that frozen list (a DuckDB
``SELECT … FROM __input``) over each batch of new rows, so a single row gets exactly the value it
would get in a batch. The label and the special columns (data_split_col, kmeans_init_col,
instance_weight_col) must pass through untransformed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sqlglot import exp

from sqlml.engine.duckdb import scratch
from sqlml.errors import InvalidModelInputError, SqlSyntaxError
from sqlml.ml.preprocessing.frozen_transform import INPUT, run_frozen
from sqlml.ml.preprocessing.manual.rewrite import freeze
from sqlml.sql.transpile import to_duckdb


def _expand_star(item: exp.Star, columns: list[str]) -> list[exp.Expression]:
    excluded = {c.name.lower() for c in item.args.get("except_") or []}
    replaced = {r.alias.lower(): r for r in item.args.get("replace") or []}
    expanded = []
    for name in columns:
        if name.lower() in excluded:
            continue
        expanded.append(replaced[name.lower()].copy() if name.lower() in replaced else exp.column(name, quoted=True))
    return expanded


def _output_name(item: exp.Expression) -> str:
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column):
        return item.name
    raise SqlSyntaxError(
        f"Every TRANSFORM expression needs a name: write {item.sql('bigquery')} AS <name>.",
    )


def _check_item(item: exp.Expression, columns: set[str]) -> None:
    if item.find(exp.Subquery, exp.Select) is not None:
        raise SqlSyntaxError("TRANSFORM cannot contain subqueries.")
    for aggregate in item.find_all(exp.AggFunc):
        if not aggregate.find_ancestor(exp.Window):
            raise SqlSyntaxError(f"TRANSFORM cannot contain the aggregate {aggregate.sql('bigquery')}.")
    for column in item.find_all(exp.Column):
        if column.name.lower() not in columns and not column.table:
            raise InvalidModelInputError(
                f"TRANSFORM references the column {column.name}, which the training query does not have.",
                hint=f"Columns of the training query: {', '.join(sorted(columns))}.",
            )


def transform_items(transform: exp.Expression, columns: list[str]) -> list[exp.Expression]:
    """The TRANSFORM list with ``*`` expanded against the training query's columns, validated."""
    items = []
    for item in transform.expressions:
        items.extend(_expand_star(item, columns) if isinstance(item, exp.Star) else [item])
    known = {c.lower() for c in columns}
    names = set()
    for item in items:
        _check_item(item, known)
        name = _output_name(item).lower()
        if name in names:
            raise SqlSyntaxError(f"The TRANSFORM clause names the column {name} twice.")
        names.add(name)
    return items


def fit_transform(transform: exp.Expression, table: pa.Table, train_rows: np.ndarray, passthrough: set[str]) -> tuple[pa.Table, dict]:
    """Fit the TRANSFORM list on the training rows; return all rows transformed and the frozen spec.

    Args:
        transform: the TRANSFORM clause node.
        table: every row of the training query.
        train_rows: indices of the training split (statistics are fitted on those only).
        passthrough: lower-case names of the label and special columns.
    """
    items = transform_items(transform, table.column_names)
    outputs = {_output_name(item).lower(): item for item in items}
    for name in passthrough:
        item = outputs.get(name)
        if item is None:
            raise InvalidModelInputError(
                f"The TRANSFORM clause drops the column {name}, which the model needs (the label or a special column).",
                hint=f"Add {name} to the TRANSFORM list, unchanged.",
            )
        if not isinstance(item, exp.Column):
            raise SqlSyntaxError(f"The column {name} (the label or a special column) must pass through TRANSFORM unchanged.")
    connection = scratch.cursor()
    connection.register(INPUT, table.take(pa.array(train_rows)))
    try:
        frozen = freeze(items, connection, INPUT)
    finally:
        connection.unregister(INPUT)
    features = [item for item in frozen if _output_name(item).lower() not in passthrough]
    spec = {
        "sql": _select_sql(frozen),
        "feature_sql": _select_sql(features),
        "inputs": sorted({c.name for item in features for c in item.find_all(exp.Column)}, key=str.lower),
        "outputs": [_output_name(item) for item in frozen],
        "clause": ", ".join(item.sql("bigquery") for item in transform.expressions),
    }
    return run_frozen(spec["sql"], table), spec


def _select_sql(items: list[exp.Expression]) -> str:
    return to_duckdb(exp.select(*items).from_(INPUT))
