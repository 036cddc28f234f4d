"""The segments of a contribution analysis and their test and control sums, found in DuckDB.

A segment is a combination of values of some dimensions (``region='EU' AND device='mobile'``); the
segment of no dimension is the population (``all``). Its apriori support is the larger of its share
of the test and of the control sums of the support column (the metric's summed column):
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights#output.
With non-negative values (which the page requires under a threshold) a segment's support is at most
that of every segment it refines, so the segments are found level by level as apriori does: level 1
is one GROUP BY per dimension over the rows; each value below the threshold is then blanked out of
the rows, which are summed per remaining combination, and level k groups those sums by only the
k-dimension combinations whose every (k-1)-part had a segment above the threshold — one
``GROUPING SETS`` query per level, ``HAVING`` support at or above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from sqlml.errors import InvalidModelInputError
from sqlml.ml.contribution.metric import Columns, MetricKind

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.engine.base import Cursor


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
    the sums of the magnitudes (the scale of rounding), ``r1``/``r0`` the row counts, ``min_x`` and
    ``min_y`` the smallest values."""

    sums: dict[str, float]

    def __getitem__(self, name: str) -> float:
        return self.sums[name]

    def support(self, test: str, control: str) -> str:
        """SQL for the apriori support of a segment whose summed column adds up to ``test`` and
        ``control``: the larger of its two shares (a side whose population sum is zero has none)."""
        sides = ((test, self.sums["x1"]), (control, self.sums["x0"]))
        return "greatest(" + ", ".join(f"({sql}) / {literal(total)}" if total else "NULL::DOUBLE" for sql, total in sides) + ")"


def load_rows(con: Cursor, table: pa.Table, columns: Columns) -> Population:
    """Read the training rows (``table``, not copied) as the view ``facts`` — the dimensions, ``__x``
    (the summed column), ``__y`` (a ratio's denominator), ``__c`` (a by-category metric's category),
    ``__t`` (the test flag) — then sum the population, and into ``singles`` the population and every
    segment of one dimension.

    Rows with a NULL dimension are left out, as the page says; so are rows whose test flag is NULL
    (they are neither test nor control).
    """
    metric, dims = columns.metric, [quote(name) for name in columns.dimensions]
    picked = [*dims, f"{quote(metric.column)}::DOUBLE AS __x", f"{quote(columns.is_test)} AS __t"]
    if metric.kind is MetricKind.SUMMABLE_RATIO:
        picked.append(f"{quote(metric.other)}::DOUBLE AS __y")
    if metric.kind is MetricKind.SUMMABLE_BY_CATEGORY:
        picked.append(f"{quote(metric.other)} AS __c")
    present = " AND ".join(f"{quote(name)} IS NOT NULL" for name in [*columns.dimensions, columns.is_test])
    con.register("__rows", table)
    con.execute(f"CREATE OR REPLACE TEMP VIEW facts AS SELECT {', '.join(picked)} FROM __rows WHERE {present}")
    extra = ["COUNT(*) FILTER (WHERE __t) AS r1", "COUNT(*) FILTER (WHERE NOT __t) AS r0"]
    for v in _values(metric.kind):
        extra += [f"SUM(abs(__{v})) FILTER (WHERE __t) AS a{v}1", f"SUM(abs(__{v})) FILTER (WHERE NOT __t) AS a{v}0", f"MIN(__{v}) AS min_{v}"]
    relation = con.sql(f"SELECT {_aggregate(metric.kind)}, {', '.join(extra)} FROM facts")
    sums = {name.removeprefix("__"): (0.0 if value is None else float(value)) for name, value in zip(relation.columns, relation.fetchall()[0])}
    if not sums["r1"] or not sums["r0"]:
        side = "test (TRUE)" if not sums["r1"] else "control (FALSE)"
        raise InvalidModelInputError(
            f"The training query has no {side} rows with every dimension set: contribution analysis compares test rows with control rows.",
            hint="Check is_test_col and the query's WHERE clause; rows with a NULL dimension are left out (fill them with IFNULL).",
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE singles AS {_grouped(metric.kind, 'facts', dims, [(), *((d,) for d in dims)])}")
    return Population(sums)


def _values(kind: MetricKind) -> list[str]:
    """The summed columns of ``facts``: ``__x``, and ``__y`` for a ratio."""
    return ["x", "y"] if kind is MetricKind.SUMMABLE_RATIO else ["x"]


def _grouped(kind: MetricKind, table: str, used: list[str], sets: list[tuple[str, ...]], having: str = "") -> str:
    """SQL for the segments of ``sets`` (tuples of ``used`` dimensions) with their test and control
    sums: each set is grouped with the test flag (one plain sum per side, as fast as one GROUP BY),
    then the two sides are put side by side. ``having`` filters the result by those sums."""
    side = [f"SUM(__{v}) AS __{v}" for v in _values(kind)] + (["COUNT(DISTINCT __c) AS __n"] if kind is MetricKind.SUMMABLE_BY_CATEGORY else [])
    fixed = " AND ".join(f"(GROUPING({d}) = 1 OR {d} IS NOT NULL)" for d in used) or "TRUE"
    grouping = ", ".join("(" + ", ".join([*group, "__t"]) + ")" for group in sets)
    names = [*_values(kind), *(["n"] if kind is MetricKind.SUMMABLE_BY_CATEGORY else [])]
    pivot = ", ".join(f"SUM(__{v}) FILTER (WHERE __t) AS __{v}1, SUM(__{v}) FILTER (WHERE NOT __t) AS __{v}0" for v in names)
    keys = ", ".join(used)
    return (f"SELECT {keys}{',' if keys else ''} {pivot} FROM (SELECT {keys}{',' if keys else ''} __t, {', '.join(side)} FROM {table} "
            f"GROUP BY GROUPING SETS ({grouping}) HAVING {fixed}) GROUP BY ALL{f' HAVING {having}' if having else ''}")  # fmt: skip


def sum_columns(kind: MetricKind) -> list[str]:
    """The columns of a segment's sums (:func:`_grouped`'s names)."""
    if kind is MetricKind.SUMMABLE_RATIO:
        return ["__x1", "__x0", "__y1", "__y0"]
    return ["__x1", "__x0", "__n1", "__n0"] if kind is MetricKind.SUMMABLE_BY_CATEGORY else ["__x1", "__x0"]


def _aggregate(kind: MetricKind) -> str:
    """The population's sums over ``facts``: test and control apart, and for a by-category metric the
    categories seen on each side."""
    sums = [f"SUM(__{v}) FILTER (WHERE __t) AS __{v}1, SUM(__{v}) FILTER (WHERE NOT __t) AS __{v}0" for v in _values(kind)]
    if kind is MetricKind.SUMMABLE_BY_CATEGORY:
        sums.append("COUNT(DISTINCT __c) FILTER (WHERE __t) AS __n1, COUNT(DISTINCT __c) FILTER (WHERE NOT __t) AS __n0")
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


def find_segments(con: Cursor, columns: Columns, population: Population, threshold: float) -> None:
    """Create ``segments``: the population and every segment whose apriori support is at least
    ``threshold``, one row each with its dimension values (NULL for the dimensions it does not fix)
    and its sums."""
    kind, dims = columns.metric.kind, [quote(name) for name in columns.dimensions]
    support = population.support("SUM(__x) FILTER (WHERE __t)", "SUM(__x) FILTER (WHERE NOT __t)")
    everything = " AND ".join(f"{d} IS NULL" for d in dims)
    con.execute(f"CREATE OR REPLACE TEMP TABLE segments AS SELECT {', '.join([*dims, *sum_columns(kind)])} FROM singles "
                f"WHERE ({everything}) OR {population.support('__x1', '__x0')} >= {literal(threshold)}")  # fmt: skip
    counts = con.sql(f"SELECT {', '.join(f'count({d})' for d in dims)} FROM segments").fetchall()[0]
    live = [d for d, count in zip(dims, counts) if count]
    if len(live) < 2:
        return
    table = _summed_frequent_values(con, kind, live) if threshold > 0 else "facts"
    level = [frozenset(pair) for pair in combinations(live, 2)]
    while level:
        _add_level(con, kind, table, level, support, threshold)
        level = _next_level(_found(con, level, dims), len(level[0]))


def _summed_frequent_values(con: Cursor, kind: MetricKind, live: list[str]) -> str:
    """``frequent``: the rows with each value that has no segment of its own set to NULL, summed per
    remaining combination (and category, and side). No segment above the threshold fixes such a
    value, and a row left with fewer than two dimensions is in no segment of level 2 or more."""
    blanked = [f"CASE WHEN {d} IN (SELECT {d} FROM segments WHERE {d} IS NOT NULL) THEN {d} END AS {d}" for d in live]
    keys = ", ".join([*live, "__t", *(["__c"] if kind is MetricKind.SUMMABLE_BY_CATEGORY else [])])
    sums = ", ".join(f"SUM(__{v}) AS __{v}" for v in _values(kind))
    enough = " + ".join(f"({d} IS NOT NULL)::INTEGER" for d in live)
    con.execute(f"CREATE OR REPLACE TEMP TABLE frequent AS SELECT {keys}, {sums} FROM "
                f"(SELECT {', '.join(blanked)}, * EXCLUDE ({', '.join(live)}) FROM facts) WHERE {enough} >= 2 GROUP BY {keys}")  # fmt: skip
    return "frequent"


def _add_level(con: Cursor, kind: MetricKind, table: str, level: list[frozenset[str]], support: str, threshold: float) -> None:
    """Append the segments of one level: each candidate combination of dimensions a grouping set."""
    used = sorted(set().union(*level))
    sets = [tuple(d for d in used if d in group) for group in level]
    con.execute(f"INSERT INTO segments BY NAME {_grouped(kind, table, used, sets, f'{support} >= {literal(threshold)}')}")


def _found(con: Cursor, level: list[frozenset[str]], dims: list[str]) -> list[frozenset[str]]:
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
