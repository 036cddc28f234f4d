"""The rows a model's automatic preprocessing reads, as SQL: the input itself, or the input with
the model's frozen TRANSFORM list computed beside its columns.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create#transform

:mod:`sqlml.ml.preprocessing.frozen_transform` runs the frozen list (DuckDB SQL over ``__input``,
statistics as literals) batch by batch; here the same items are put in the query that reads the
input, under names of their own, so that the input columns stay as they are for ML.PREDICT to pass
through. Only a list that replays exactly is used: row by row (no window or aggregate, which a
batch would compute over the batch only) and read back by sqlglot as the tree it was written
from. Each item goes in as its DuckDB text (:class:`sqlglot.exp.Var`, generated verbatim): the
frozen list is DuckDB SQL already, which a BigQuery statement's rewrites must not read as BigQuery
(they would, e.g., add checks to its divisions). A STRUCT column, which preprocessing would
flatten into ``struct_field`` columns, has no form here either.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError

from sqlml.engine.base import EngineError
from sqlml.ml.models.model import Model
from sqlml.ml.preprocessing.frozen_transform import INPUT, run_frozen
from sqlml.sql.dialect import SqlmlDuckdb
from sqlml.sql.transpile import to_duckdb

#: The names the TRANSFORM outputs get beside the input columns.
_TRANSFORMED = "__sqlml_transformed_{}"


@dataclass(frozen=True)
class Rows:
    """The rows preprocessing reads.

    Attributes:
        query: a FROM item: the input with every column it has (and the TRANSFORM outputs).
        columns: lower-case name of each column preprocessing may read → (an expression reading
            it from ``query``, its Arrow type).
    """

    query: exp.Expression
    columns: dict[str, tuple[exp.Expression, pa.DataType]]


def transformed_rows(model: Model, schema: pa.Schema, source: exp.Table) -> Rows | None:
    """The rows of ``source`` (with columns ``schema``) that preprocessing reads, or None when
    they have no exact SQL form.

    Args:
        model: the model, with or without a TRANSFORM clause.
        schema: the input's columns.
        source: the input table.
    """
    source = source.copy()
    source.set("alias", exp.TableAlias(this=exp.to_identifier(INPUT)))
    transform = model.spec.get("transform")
    if not transform:
        columns = _columns(model, schema, {f.name: exp.column(f.name, quoted=True) for f in schema})
        return Rows(source, columns) if columns is not None else None
    items = replayable_items(transform["feature_sql"])
    if items is None:
        return None
    try:
        outputs = run_frozen(transform["feature_sql"], schema.empty_table()).schema
    except EngineError:  # the Python path reports it (InvalidModelInputError)
        return None
    named = {_TRANSFORMED.format(i): exp.Var(this=item.unalias().sql(dialect=SqlmlDuckdb)) for i, item in enumerate(items)}
    query = exp.select(exp.Star(), *(exp.alias_(e, n, quoted=True) for n, e in named.items())).from_(source)
    columns = _columns(model, outputs, {field.name: exp.column(name, quoted=True) for field, name in zip(outputs, named)})
    return Rows(query.subquery(INPUT), columns) if columns is not None else None


def replayable_items(feature_sql: str) -> list[exp.Expression] | None:
    """The frozen list's items if they replay exactly inside another query, else None."""
    try:
        select = parse_one(feature_sql, read="duckdb")
    except SqlglotError:
        return None
    if not isinstance(select, exp.Select) or any(value for key, value in select.args.items() if key not in ("expressions", "from_")):
        return None
    if any(item.find(exp.Window, exp.AggFunc, exp.Subquery, exp.Select) for item in select.expressions):
        return None
    if parse_one(to_duckdb(select, from_bigquery=False), read="duckdb") != select:
        return None
    return list(select.expressions)


def _columns(model: Model, schema: pa.Schema, reads: dict[str, exp.Expression]) -> dict[str, tuple[exp.Expression, pa.DataType]] | None:
    """Column name → (expression, type) of the plain columns; None when a feature would be read
    from a flattened STRUCT field."""
    needed = {column.name.lower() for column in model.preprocessor.columns}
    for field in schema:
        if pa.types.is_struct(field.type) and any(f"{field.name}_{sub.name}".lower() in needed for sub in field.type):
            return None
    return {field.name.lower(): (reads[field.name], field.type) for field in schema if not pa.types.is_struct(field.type)}
