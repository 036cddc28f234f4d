"""A contribution analysis from its training rows to the description and arrays the model keeps.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-contribution-analysis:
the rows are summed in a private in-memory DuckDB (the warehouse is not held meanwhile), the
segments above the apriori support threshold found (:mod:`.segments`), their insights computed,
pruned and chosen (:mod:`.insights`). With TOP_K_INSIGHTS_BY_APRIORI_SUPPORT the threshold starts at
the k-th largest support of one dimension's segments (no k insights can have less) and is lowered
until k insights remain.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.ml.contribution.insights import compute_insights, ordered, to_arrays
from sqlml.ml.contribution.metric import Columns, parse_metric, resolve_columns
from sqlml.ml.contribution.segments import Population, check_non_negative, find_segments, load_rows, quote

if TYPE_CHECKING:
    from sqlml.engine.base import Cursor

#: The smallest threshold the top-k search tries before it takes every segment.
SMALLEST_THRESHOLD = 1e-9


def analyse(options: dict, table: pa.Table) -> tuple[dict, dict[str, np.ndarray]]:
    """The model's description (``contribution``) and its insights as arrays.

    Raises:
        InvalidModelInputError: the rows do not fit the options (columns, types, signs, sides).
        InvalidOptionError: too many dimensions.
    """
    from sqlml.engine.duckdb.private import private_cursor

    started = time.monotonic()
    columns = resolve_columns(table.schema, options, parse_metric(options["contribution_metric"]))
    top_k = options.get("top_k_insights_by_apriori_support")
    with private_cursor() as con:
        population = load_rows(con, table, columns)
        if top_k is not None or options["min_apriori_support"] > 0:
            check_non_negative(population, columns)
        prune = options["pruning_method"] == "PRUNE_REDUNDANT_INSIGHTS"
        threshold = _first_threshold(con, columns, population, top_k) if top_k is not None else options["min_apriori_support"]
        while True:
            find_segments(con, columns, population, threshold)
            count = compute_insights(con, columns, population, prune)
            if top_k is None or count >= top_k or threshold == 0:
                break
            threshold = threshold / 8 if threshold > SMALLEST_THRESHOLD else 0.0
        insights = ordered(con, columns, top_k)
    return _description(options, columns, population, insights, threshold, time.monotonic() - started), to_arrays(insights, columns)


def _first_threshold(con: Cursor, columns: Columns, population: Population, top_k: int) -> float:
    """The (k-1)-th largest support of the one-dimension segments (``all`` is the k-th insight):
    every insight of the top k has at least that much support."""
    if top_k == 1:
        return 1.0
    fixed = " OR ".join(f"{quote(name)} IS NOT NULL" for name in columns.dimensions)
    rows = con.sql(f"SELECT {population.support('__x1', '__x0')} AS s FROM singles WHERE {fixed} "
                   f"ORDER BY s DESC NULLS LAST LIMIT 1 OFFSET {top_k - 2}").fetchall()  # fmt: skip
    return float(rows[0][0]) if rows and rows[0][0] is not None else 0.0


def _description(options: dict, columns: Columns, population: Population, insights: pa.Table, threshold: float, seconds: float) -> dict:
    metric = columns.metric
    return {
        "model_type": options["model_type"],
        "options": options,
        "contribution": {
            "metric": {"kind": metric.kind.value, "column": metric.column, "other": metric.other},
            "is_test_col": columns.is_test,
            "dimensions": [{"name": name, "type": kind} for name, kind in zip(columns.dimensions, columns.dimension_types)],
            "apriori_support_threshold": threshold,
            "test_rows": int(population["r1"]),
            "control_rows": int(population["r0"]),
            "insights": insights.num_rows,
        },
        "training_seconds": round(seconds, 3),
    }
