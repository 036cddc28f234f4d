"""The segments of a contribution analysis and their test and control sums, found in DuckDB.

A segment is a combination of values of some dimensions (``region='EU' AND device='mobile'``); the
segment of no dimension is the population (``all``). Its apriori support is the larger of its share
of the test and of the control sums of the support column (the metric's summed column):
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output.
With non-negative values (which the page requires under a threshold) a segment's support is at most
that of every segment it refines, so the segments are found level by level as apriori does: the rows
are first summed per combination of all dimension values (the cells); level 1 is one GROUP BY per
dimension; values below the threshold are then blanked out of the cells, and level k groups the cells
by only those k-dimension combinations whose every (k-1)-part had a segment above the threshold —
one ``GROUPING SETS`` query per level, ``HAVING`` support at or above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from sqlml.errors import InvalidModelInputError
from sqlml.ml.contribution.metric import Columns, MetricKind

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: float | None) -> str:
    """A DOUBLE constant (NULL for None), exact to the last bit."""
    return "NULL::DOUBLE" if value is None else f"{float(value)!r}::DOUBLE"


@dataclass(frozen=True)
class Population:
    """The population's sums: ``x1``/``x0`` the test/control sums of the summed column, ``y1``/``y0``
    of a ratio's denominator, ``n1``/``n0`` the distinct categories of a by-category metric, ``a<m>``
    the sums of the cells' magnitudes (the scale of rounding), ``r1``/``r0`` the row counts."""

    sums: dict[str, float]

    def __getitem__(self, name: str) -> float:
        return self.sums[name]

    def support(self, test: str, control: str) -> str:
        """SQL for the apriori support of a segment whose summed column adds up to ``test`` and
        ``control``: the larger of its two shares (a side whose population sum is zero has none)."""
        sides = ((test, self.sums["x1"]), (control, self.sums["x0"]))
        return "greatest(" + ", ".join(f"({sql}) / {literal(total)}" if total else "NULL::DOUBLE" for sql, total in sides) + ")"


def measures(kind: MetricKind) -> list[str]:
    """The sums every segment carries for a metric of ``kind`` (columns ``__<name>``)."""
    if kind is MetricKind.SUMMABLE_RATIO:
        return ["x1", "x0", "y1", "y0"]
    return ["x1", "x0", "n1", "n0"] if kind is MetricKind.SUMMABLE_BY_CATEGORY else ["x1", "x0"]


def load_cells(con: duckdb.DuckDBPyConnection, table: pa.Table, columns: Columns) -> Population:
    """Sum the training rows per combination of dimension values (and category) into ``cells``.

    Rows with a NULL dimension are left out, as the page says; so are rows whose test flag is NULL
    (they are neither test nor control). Columns sqlml adds are named ``__<name>``.
    """
    con.register("__rows", table)
    metric, flag = columns.metric, quote(columns.is_test)
    category = metric.kind is MetricKind.SUMMABLE_BY_CATEGORY
    values = {"x": metric.column, "y": metric.other} if metric.kind is MetricKind.SUMMABLE_RATIO else {"x": metric.column}
    keys = ", ".join(map(quote, columns.dimensions)) + (", __c" if category else "")
    inner = [f"{quote(name)}::DOUBLE AS __{v}" for v, name in values.items()] + ([f"{quote(metric.other)} AS __c"] if category else [])
    sums = [f"SUM(__{v}) FILTER (WHERE {flag}) AS __{v}1, SUM(__{v}) FILTER (WHERE NOT {flag}) AS __{v}0, MIN(__{v}) AS __min_{v}" for v in values]
    if category:
        sums.append(f"bool_or({flag}) AS __in1, bool_or(NOT {flag}) AS __in0")
    sums.append(f"COUNT(*) FILTER (WHERE {flag}) AS __r1, COUNT(*) FILTER (WHERE NOT {flag}) AS __r0")
    present = " AND ".join(f"{quote(name)} IS NOT NULL" for name in [*columns.dimensions, columns.is_test])
    con.execute(f"CREATE OR REPLACE TEMP TABLE cells AS SELECT {keys}, {', '.join(sums)} "
                f"FROM (SELECT *, {', '.join(inner)} FROM __rows WHERE {present}) GROUP BY {keys}")  # fmt: skip
    con.unregister("__rows")
    return _population(con, metric.kind)


def _population(con: duckdb.DuckDBPyConnection, kind: MetricKind) -> Population:
    summed = [m for m in measures(kind) if m[0] in "xy"]
    select = [_aggregate(kind), *(f"SUM(abs(__{m})) AS a{m}" for m in summed), "SUM(__r1) AS r1", "SUM(__r0) AS r0"]
    select += [f"MIN(__min_{v}) AS min_{v}" for v in sorted({m[0] for m in summed})]
    relation = con.sql(f"SELECT {', '.join(select)} FROM cells")
    row = relation.fetchall()[0]
    sums = {name.removeprefix("__"): (0.0 if value is None else float(value)) for name, value in zip(relation.columns, row)}
    if not sums["r1"] or not sums["r0"]:
        side = "test (TRUE)" if not sums["r1"] else "control (FALSE)"
        raise InvalidModelInputError(
            f"The training query has no {side} rows with every dimension set: contribution analysis compares test rows with control rows.",
            hint="Check is_test_col and the query's WHERE clause; rows with a NULL dimension are left out (fill them with IFNULL).",
        )
    return Population(sums)


def _aggregate(kind: MetricKind) -> str:
    """The segment sums, over ``cells`` (a by-category metric counts the categories seen on each side)."""
    sums = [f"SUM(__{m}) AS __{m}" for m in measures(kind) if m[0] in "xy"]
    if kind is MetricKind.SUMMABLE_BY_CATEGORY:
        sums += ["COUNT(DISTINCT __c) FILTER (WHERE __in1) AS __n1", "COUNT(DISTINCT __c) FILTER (WHERE __in0) AS __n0"]
    return ", ".join(sums)


def check_non_negative(population: Population, columns: Columns) -> None:
    """Under an apriori support threshold the metric's columns must be non-negative (the page's
    CONTRIBUTION_METRIC section), else support would not shrink as segments are refined.

    Raises:
        InvalidModelInputError: naming the column with a negative value.
    """
    for key, name in zip(("min_x", "min_y"), columns.metric.numeric_columns):
        if population.sums.get(key, 0.0) < 0:
            raise InvalidModelInputError(
                f"For Contribution Analysis models with a min_apriori_support value greater than 0, all '{name}' values "
                f"must be non-negative; the smallest is {population[key]!r}.",
                column=name,
                hint="Set min_apriori_support=0 to analyse negative values, or filter or shift them in the training query.",
            )


def find_segments(con: duckdb.DuckDBPyConnection, columns: Columns, population: Population, threshold: float) -> None:
    """Create ``segments``: the population and every segment whose apriori support is at least
    ``threshold``, one row each with its dimension values (NULL for the dimensions it does not fix)
    and its sums."""
    kind, dims = columns.metric.kind, [quote(name) for name in columns.dimensions]
    support = population.support("SUM(__x1)", "SUM(__x0)")
    everything = " AND ".join(f"{d} IS NULL" for d in dims)
    singles = ", ".join(["()", *(f"({d})" for d in dims)])
    con.execute(f"CREATE OR REPLACE TEMP TABLE segments AS SELECT {', '.join(dims)}, {_aggregate(kind)} FROM cells "
                f"GROUP BY GROUPING SETS ({singles}) HAVING ({everything}) OR {support} >= {literal(threshold)}")  # fmt: skip
    live = [d for d in dims if con.sql(f"SELECT count(*) FROM segments WHERE {d} IS NOT NULL").fetchall()[0][0]]
    if len(live) < 2:
        return
    table = _blank_rare_values(con, kind, live) if threshold > 0 else "cells"
    level = [frozenset(pair) for pair in combinations(live, 2)]
    while level:
        _add_level(con, kind, table, level, support, threshold)
        level = _next_level(_found(con, level, dims), len(level[0]))


def _blank_rare_values(con: duckdb.DuckDBPyConnection, kind: MetricKind, live: list[str]) -> str:
    """``rare_blanked``: the cells with each value that has no segment of its own set to NULL, summed
    again; no segment above the threshold fixes such a value, and a cell left with fewer than two
    dimensions belongs to no segment of level 2 or more."""
    category = kind is MetricKind.SUMMABLE_BY_CATEGORY
    blanked = [f"CASE WHEN {d} IN (SELECT {d} FROM segments WHERE {d} IS NOT NULL) THEN {d} END AS {d}" for d in live]
    sums = [f"SUM(__{m}) AS __{m}" for m in measures(kind) if m[0] in "xy"]
    sums += ["bool_or(__in1) AS __in1", "bool_or(__in0) AS __in0"] if category else []
    keys = ", ".join(live) + (", __c" if category else "")
    enough = " + ".join(f"({d} IS NOT NULL)::INTEGER" for d in live)
    con.execute(f"CREATE OR REPLACE TEMP TABLE rare_blanked AS SELECT {keys}, {', '.join(sums)} FROM "
                f"(SELECT {', '.join(blanked)}, * EXCLUDE ({', '.join(live)}) FROM cells) WHERE {enough} >= 2 GROUP BY {keys}")  # fmt: skip
    return "rare_blanked"


def _add_level(con: duckdb.DuckDBPyConnection, kind: MetricKind, table: str, level: list[frozenset[str]], support: str, threshold: float) -> None:
    """Append the segments of one level: each candidate combination of dimensions a grouping set."""
    used = sorted(set().union(*level))
    sets = ", ".join("(" + ", ".join(d for d in used if d in group) + ")" for group in level)
    fixed = " AND ".join(f"(GROUPING({d}) = 1 OR {d} IS NOT NULL)" for d in used)
    con.execute(f"INSERT INTO segments BY NAME SELECT {', '.join(used)}, {_aggregate(kind)} FROM {table} "
                f"GROUP BY GROUPING SETS ({sets}) HAVING {fixed} AND {support} >= {literal(threshold)}")  # fmt: skip


def _found(con: duckdb.DuckDBPyConnection, level: list[frozenset[str]], dims: list[str]) -> list[frozenset[str]]:
    """The combinations of ``level`` that have at least one segment."""
    size = len(next(iter(level)))
    fixed = " + ".join(f"({d} IS NOT NULL)::INTEGER" for d in dims)
    rows = con.sql(f"SELECT DISTINCT {', '.join(f'{d} IS NOT NULL' for d in dims)} FROM segments WHERE {fixed} = {size}").fetchall()
    return [frozenset(d for d, present in zip(dims, row) if present) for row in rows]


def _next_level(found: list[frozenset[str]], size: int) -> list[frozenset[str]]:
    """Apriori's candidates: the (size+1)-combinations whose every size-part was found."""
    found_set = set(found)
    candidates = {a | b for a, b in combinations(found, 2) if len(a | b) == size + 1}
    return sorted((c for c in candidates if all(c - {d} in found_set for d in c)), key=sorted)
