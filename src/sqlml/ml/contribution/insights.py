"""The insights of a contribution analysis: each segment's metrics, pruned, chosen and ordered in
DuckDB, kept as arrays, and read back as ML.GET_INSIGHTS's rows.

The columns and formulas are those of
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output,
one set per metric kind, after ``contributors`` and the dimension columns. A division by zero gives
NULL (BigQuery's SAFE_DIVIDE). The population's complement is empty, so its complement change ratio
is taken as 1: its expected test value is its control value, and its unexpected difference is its
difference (the tutorial's ``all`` row,
https://cloud.google.com/bigquery/docs/get-contribution-analysis-insights). A complement sum within
1e-9 of the population's magnitude is that empty complement seen through rounding.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.ml.contribution.metric import Columns, MetricKind
from sqlml.ml.contribution.segments import Population, literal, quote

if TYPE_CHECKING:
    from sqlml.engine.base import Cursor

#: ML.GET_INSIGHTS's metric columns (after contributors and the dimensions), per metric kind.
OUTPUT_COLUMNS = {
    MetricKind.SUMMABLE: ("metric_test", "metric_control", "difference", "relative_difference", "unexpected_difference",
                          "relative_unexpected_difference", "apriori_support", "contribution"),
    MetricKind.SUMMABLE_RATIO: ("metric_test", "metric_control", "metric_test_over_metric_control", "metric_test_over_complement",
                                "metric_control_over_complement", "aumann_shapley_attribution", "apriori_support", "contribution"),
    MetricKind.SUMMABLE_BY_CATEGORY: ("metric_test", "metric_control", "difference", "relative_difference", "metric_test_over_population",
                                      "metric_control_over_population", "apriori_support", "contribution"),
}  # fmt: skip
#: Relative difference under which two metric values are equal (PRUNE_REDUNDANT_INSIGHTS), and a
#: complement sum is empty: sums of the same rows taken in another order differ by rounding only.
TOLERANCE = 1e-9
#: The dimension types as Arrow types (the model keeps their values).
DIMENSION_TYPES = {"STRING": pa.string(), "INT64": pa.int64(), "BOOL": pa.bool_()}


def compute_insights(con: Cursor, columns: Columns, population: Population, prune: bool) -> int:
    """Create ``insights`` from ``segments``: the metrics of each segment, ``__k`` its number of
    dimensions; without the redundant ones when ``prune``. Returns the number of insights."""
    select = _SELECTS[columns.metric.kind](population)
    fixed = " + ".join(f"({quote(d)} IS NOT NULL)::INTEGER" for d in columns.dimensions)
    con.execute(f"CREATE OR REPLACE TEMP TABLE insights AS SELECT {', '.join(map(quote, columns.dimensions))}, "
                f"{fixed} AS __k, {select} FROM segments")  # fmt: skip
    if prune:
        _prune(con, columns.dimensions)
    return con.sql("SELECT count(*) FROM insights").fetchall()[0][0]


def _complement(total: str, segment: str, magnitude: float) -> str:
    """The complement's sum, zero when it is rounding away from zero (see the module docstring)."""
    return f"(CASE WHEN abs({literal(total)} - {segment}) <= {literal(TOLERANCE * magnitude)} THEN 0.0 ELSE {literal(total)} - {segment} END)"


def _summable(p: Population) -> str:
    """https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output_for_summable_metric_contribution_analysis_models"""
    return (
        "coalesce(__x1, 0.0) AS metric_test, coalesce(__x0, 0.0) AS metric_control, "
        f"{_complement(p['x1'], 'metric_test', p['ax1'])} AS __ct, {_complement(p['x0'], 'metric_control', p['ax0'])} AS __cc, "
        "metric_control * (CASE WHEN __ct = 0 AND __cc = 0 THEN 1.0 ELSE __ct / nullif(__cc, 0) END) AS __expected, "
        "metric_test - metric_control AS difference, difference / nullif(metric_control, 0) AS relative_difference, "
        "metric_test - __expected AS unexpected_difference, unexpected_difference / nullif(__expected, 0) AS relative_unexpected_difference, "
        f"{_support(p)} AS apriori_support, abs(difference) AS contribution"
    )


def _ratio(p: Population) -> str:
    """https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output_for_summable_ratio_metric_contribution_analysis_models"""
    steps, level = _aumann_shapley_steps(p)
    return (
        "coalesce(__x1, 0.0) AS __a1, coalesce(__x0, 0.0) AS __a0, coalesce(__y1, 0.0) AS __b1, coalesce(__y0, 0.0) AS __b0, "
        "__a1 / nullif(__b1, 0) AS metric_test, __a0 / nullif(__b0, 0) AS metric_control, "
        "metric_test / nullif(metric_control, 0) AS metric_test_over_metric_control, "
        f"metric_test / nullif({_complement(p['x1'], '__a1', p['ax1'])} / nullif({_complement(p['y1'], '__b1', p['ay1'])}, 0), 0) "
        "AS metric_test_over_complement, "
        f"metric_control / nullif({_complement(p['x0'], '__a0', p['ax0'])} / nullif({_complement(p['y0'], '__b0', p['ay0'])}, 0), 0) "
        "AS metric_control_over_complement, "
        f"(__a1 - __a0) * {literal(steps)} - (__b1 - __b0) * {literal(level)} AS aumann_shapley_attribution, "
        f"{_support(p)} AS apriori_support, abs(aumann_shapley_attribution) AS contribution"
    )


def _category(p: Population) -> str:
    """https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output_for_summable_by_category_metric_contribution_analysis_models"""
    test = p["x1"] / p["n1"] if p["n1"] else None
    control = p["x0"] / p["n0"] if p["n0"] else None
    return (
        "coalesce(__x1, 0.0) / nullif(__n1, 0) AS metric_test, coalesce(__x0, 0.0) / nullif(__n0, 0) AS metric_control, "
        "metric_test - metric_control AS difference, difference / nullif(metric_control, 0) AS relative_difference, "
        f"metric_test / nullif({literal(test)}, 0) AS metric_test_over_population, "
        f"metric_control / nullif({literal(control)}, 0) AS metric_control_over_population, "
        f"{_support(p)} AS apriori_support, abs(difference) AS contribution"
    )


_SELECTS = {MetricKind.SUMMABLE: _summable, MetricKind.SUMMABLE_RATIO: _ratio, MetricKind.SUMMABLE_BY_CATEGORY: _category}


def _support(p: Population) -> str:
    """https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output:
    GREATEST of the segment's shares of the test and control sums of the summed column."""
    return p.support("coalesce(__x1, 0.0)", "coalesce(__x0, 0.0)")


def _aumann_shapley_steps(p: Population) -> tuple[float | None, float | None]:
    """The two path integrals of the population ratio A/B's gradient along the straight line from
    control to test: I1 = ∫ dt / B(t) and I2 = ∫ A(t) / B(t)² dt, so that a segment's Aumann-Shapley
    attribution is Δa·I1 − Δb·I2 (its numerator's and denominator's changes), and the attributions
    of segments that partition the population add up to its ratio's change. None when B is not
    positive at both ends (the ratio is undefined on the way)."""
    a0, a1, b0, b1 = p["x0"], p["x1"], p["y0"], p["y1"]
    if b0 <= 0 or b1 <= 0:
        return None, None
    db, da = b1 - b0, a1 - a0
    if db == 0:
        return 1.0 / b0, (a0 + da / 2) / b0**2
    inverse = math.log1p(db / b0) / db
    slope = da / db
    return inverse, slope * inverse + (a0 - slope * b0) / (b0 * b1)


def _prune(con: Cursor, dimensions: list[str]) -> None:
    """PRUNE_REDUNDANT_INSIGHTS: drop an insight when one with more dimensions that include its own
    (the same values) has equal metric_test and metric_control; ``all`` stays. Equal values are
    grouped by sorting and breaking where neighbours differ by more than :data:`TOLERANCE`."""
    dims = [quote(d) for d in dimensions]
    by_test, by_control = "ORDER BY metric_test NULLS LAST, __id", "ORDER BY __test_group, metric_control NULLS LAST, __id"
    con.execute(f"CREATE OR REPLACE TEMP TABLE insights AS WITH numbered AS (SELECT *, row_number() OVER () AS __id FROM insights), "
                f"test_breaks AS (SELECT *, {_break('metric_test')} AS __test_break FROM numbered WINDOW w AS ({by_test})), "
                f"test_groups AS (SELECT *, sum(__test_break) OVER ({by_test} ROWS UNBOUNDED PRECEDING) AS __test_group FROM test_breaks), "
                f"breaks AS (SELECT *, CASE WHEN __test_group IS DISTINCT FROM lag(__test_group) OVER w THEN 1 ELSE {_break('metric_control')} END AS __control_break "
                f"FROM test_groups WINDOW w AS ({by_control})), "
                f"grouped AS MATERIALIZED (SELECT *, sum(__control_break) OVER ({by_control} ROWS UNBOUNDED PRECEDING) AS __group FROM breaks) "
                "SELECT * EXCLUDE (__id, __test_break, __test_group, __control_break, __group) FROM grouped AS s WHERE __k = 0 OR NOT EXISTS (SELECT 1 FROM grouped AS t "
                f"WHERE t.__group = s.__group AND t.__k > s.__k AND {' AND '.join(f'(s.{d} IS NULL OR s.{d} = t.{d})' for d in dims)})")  # fmt: skip


def _break(column: str) -> str:
    """1 where ``column`` differs from the previous row's in window ``w``, else 0; NULL equals NULL."""
    previous = f"lag({column}) OVER w"
    return (f"(CASE WHEN row_number() OVER w = 1 THEN 1 WHEN {column} IS NULL AND {previous} IS NULL THEN 0 "
            f"WHEN {column} IS NULL OR {previous} IS NULL THEN 1 "
            f"WHEN abs({column} - {previous}) <= {literal(TOLERANCE)} * greatest(abs({column}), abs({previous})) THEN 0 ELSE 1 END)")  # fmt: skip


def ordered(con: Cursor, columns: Columns, top_k: int | None) -> pa.Table:
    """The insights as BigQuery orders them: by contribution, descending (then fewer dimensions and
    the values, for a stable order); with ``top_k``, only the k of highest apriori support."""
    dims = [quote(d) for d in columns.dimensions]
    chosen = "insights"
    if top_k is not None:
        chosen = f"(SELECT * FROM insights ORDER BY __k = 0 DESC, apriori_support DESC NULLS LAST, __k, contribution DESC NULLS LAST, {', '.join(f'{d} NULLS FIRST' for d in dims)} LIMIT {int(top_k)})"
    names = ", ".join([*dims, *OUTPUT_COLUMNS[columns.metric.kind]])
    return con.sql(f"SELECT {names} FROM {chosen} ORDER BY contribution DESC NULLS LAST, __k, "
                   f"{', '.join(f'{d} NULLS FIRST' for d in dims)}").to_arrow_table()  # fmt: skip


def to_arrays(table: pa.Table, columns: Columns) -> dict[str, np.ndarray]:
    """The insights as arrays the model keeps: each metric column (NaN for NULL), and per dimension
    its values (``dim<i>.values``) and each insight's index into them (``dim<i>.codes``, -1 where
    the insight does not fix that dimension)."""
    import pyarrow.compute as pc

    arrays = {f"insights.{name}": table.column(name).to_numpy().astype(np.float64) for name in OUTPUT_COLUMNS[columns.metric.kind]}
    for index, (name, kind) in enumerate(zip(columns.dimensions, columns.dimension_types)):
        encoded = pc.dictionary_encode(table.column(name).cast(DIMENSION_TYPES[kind])).combine_chunks()
        values = encoded.dictionary.to_pylist()
        arrays[f"insights.dim{index}.values"] = np.array(values, dtype=str if kind == "STRING" else None).astype(_NUMPY[kind])
        arrays[f"insights.dim{index}.codes"] = encoded.indices.fill_null(-1).to_numpy().astype(np.int32)
    return arrays


_NUMPY = {"STRING": np.str_, "INT64": np.int64, "BOOL": np.bool_}


def insights_table(described: dict, arrays: dict[str, np.ndarray]) -> pa.Table:
    """ML.GET_INSIGHTS's rows from what the model keeps (:func:`to_arrays` and the description's
    ``contribution`` entry): ``contributors``, the dimension columns, the metric columns."""
    kind, dimensions = MetricKind(described["metric"]["kind"]), described["dimensions"]
    codes = [arrays[f"insights.dim{i}.codes"] for i in range(len(dimensions))]
    values = [pa.array(arrays[f"insights.dim{i}.values"].tolist(), DIMENSION_TYPES[d["type"]]) for i, d in enumerate(dimensions)]
    columns = {"contributors": _contributors(dimensions, codes, values)}
    for dimension, code, value in zip(dimensions, codes, values):
        columns[dimension["name"]] = value.take(pa.array(code, mask=code < 0))
    for name in OUTPUT_COLUMNS[kind]:
        data = arrays[f"insights.{name}"]
        columns[name] = pa.array(data, pa.float64(), mask=np.isnan(data))
    return pa.table(columns)


def _contributors(dimensions: list[dict], codes: list[np.ndarray], values: list[pa.Array]) -> pa.Array:
    """Each insight's ``name=value`` items in dimension order; ``['all']`` for the population."""
    import pyarrow.compute as pc

    rows = len(codes[0]) if codes else 0
    fixed = np.column_stack(codes) if codes else np.empty((rows, 0), np.int32)
    everything = ~(fixed >= 0).any(axis=1)
    labels = [pa.array(["all"])] + [pc.binary_join_element_wise(d["name"], v.cast(pa.string()), "=") for d, v in zip(dimensions, values)]
    offsets = np.cumsum([0] + [len(label) for label in labels[:-1]])
    matrix = np.column_stack([np.where(everything, 0, -1), fixed])
    row, column = np.nonzero(matrix >= 0)
    flat = pa.concat_arrays([label.cast(pa.string()) for label in labels]).take(pa.array(offsets[column] + matrix[row, column]))
    counts = np.bincount(row, minlength=rows)
    return pa.ListArray.from_arrays(pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32()), flat, type=pa.list_(pa.string()))
