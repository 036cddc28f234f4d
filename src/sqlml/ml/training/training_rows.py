"""The rows a CREATE MODEL trains on, read from its query, and their lineage: the query's text,
the tables it reads and a fingerprint of the rows (:mod:`sqlml.ml.training.row_hash`), which the
model version records (``ML.VERSIONS``' lineage) so that it can be re-trained exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from sqlml.execution.context import StatementContext
from sqlml.execution.sources import SourceSet
from sqlml.ml.training.row_hash import row_hashes

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor


def training_rows(context: StatementContext, query: exp.Expression) -> tuple[pa.Table, np.ndarray, dict]:
    """The training rows as Arrow, a per-row hash (values and column names) and the lineage.

    The warehouse is held only while the rows are read; training runs without it.
    """
    executor = context.executor
    sources = SourceSet()
    with executor.engine.lease():
        try:
            data = executor.renderer(context.params).data_input(exp.Subquery(this=query.copy()), None, sources)
            table = data.relation("SELECT * FROM __data").to_arrow_table()
        finally:
            sources.close()
    hashes = row_hashes(table)  # over the Arrow rows, as Spark's executors compute it (sqlml.ml.training.row_hash)
    lineage = {
        "query": statement_text(query, executor),
        "tables": sorted(tables_read(query)),
        "fingerprint": f"{int(np.bitwise_xor.reduce(hashes)) if len(hashes) else 0:016x}-{len(hashes)}",
        "rows_read": table.num_rows,
    }
    return table, hashes, lineage


def statement_text(node: exp.Expression, executor: Executor) -> str:
    """A statement's text for the lineage, in the dialect it was written in.

    Rendering it in another dialect could lose what that one cannot say, and sqlglot would log
    a warning about it on stderr; a record of the statement must be written silently.
    """
    return node.sql(dialect=executor.dialect_class, unsupported_level=ErrorLevel.IGNORE)


def tables_read(query: exp.Expression) -> set[str]:
    """The ``dataset.table`` names ``query`` reads (its CTEs' names aside), for the lineage."""
    ctes = {cte.alias_or_name.lower() for cte in query.find_all(exp.CTE)}
    names = set()
    for table in query.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and not (not table.db and table.name.lower() in ctes):
            names.add(".".join(part.name for part in table.parts[-2:]))
    return names
