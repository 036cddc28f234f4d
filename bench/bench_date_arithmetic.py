"""What typing date arithmetic costs a statement: sqlml vs raw DuckDB running the same text.

Each statement runs through ``sqlml`` (parse, typed DATE ± INT64 pass, transpile, DuckDB) and as
the DuckDB SQL sqlml generated for it on a raw ``duckdb`` connection holding the same table, in
alternating pairs; the ratio is sqlml ÷ raw. Where the statement runs without it (no DATE
arithmetic), sqlml is also timed with the renderer's typed pass switched off
(:func:`sqlml.sql.date_arithmetic.with_table_columns`: the catalog look-up and, where a DATE may be
involved, sqlglot's type inference), alternating with the pass on: that ratio is its whole cost.

    python bench_date_arithmetic.py [--rows 1000] [--pairs 200]
"""

from __future__ import annotations

import argparse
import statistics

import duckdb

import sqlml
from harness import alternate
from sqlml.execution import sources
from sqlml.sql.date_arithmetic import with_table_columns
from sqlml.sql.transpile import to_duckdb

#: label → (statement, whether it runs without the typed pass)
STATEMENTS = {
    "no arithmetic": ("SELECT a, SUM(b) AS s FROM ds.t WHERE a > 3 GROUP BY a ORDER BY a", True),
    "numeric + / − (no DATE column)": ("SELECT a + b AS s, b - 1 AS r FROM ds.t WHERE a - 1 > 3 ORDER BY s LIMIT 5", True),
    "DATE ± INT64 on columns": ("SELECT d + 1 AS next_day, d - a AS back, d - d AS zero FROM ds.dates ORDER BY d LIMIT 5", False),
    "DATE ± INT64 through a CTE": ("WITH c AS (SELECT d AS e, a FROM ds.dates) SELECT e + a AS later FROM c ORDER BY later LIMIT 5", False),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args()
    setup = [
        "CREATE SCHEMA ds",
        f"CREATE TABLE ds.t AS SELECT i % 10 AS a, i AS b FROM range({args.rows}) AS r(i)",
        f"CREATE TABLE ds.dates AS SELECT DATE '2020-01-01' + CAST(i % 365 AS INTEGER) AS d, i % 7 AS a FROM range({args.rows}) AS r(i)",
    ]
    con = sqlml.connect(":memory:")
    raw = duckdb.connect()
    for statement in setup:
        con.query(statement)
        raw.sql(statement)
    print("| statement | sqlml | raw DuckDB | sqlml ÷ raw | sqlml ÷ sqlml without the typed pass |")
    print("|---|---:|---:|---:|---:|")
    for label, (sql, runs_without) in STATEMENTS.items():
        duckdb_sql = _generated(con, sql)
        pairs = alternate(lambda: con.query(sql).fetchall(), lambda: raw.sql(duckdb_sql).fetchall(), args.pairs)
        ours, theirs = (statistics.median(p[i] for p in pairs) for i in (0, 1))
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        own = "n/a (fails without it)"
        if runs_without:
            switched = alternate(lambda: con.query(sql).fetchall(), lambda: _untyped(con, sql), args.pairs)
            own = f"{statistics.median(p[0] / p[1] for p in switched):.3f}×"
        print(f"| {label} | {ours * 1e3:.3f} ms | {theirs * 1e3:.3f} ms | {ratio:.2f}× | {own} |")
    con.close()


def _generated(con: sqlml.Connection, sql: str) -> str:
    """The DuckDB text sqlml runs for ``sql`` (caught at the renderer's call of to_duckdb)."""
    texts = []

    def keep(tree, **kwargs):
        texts.append(to_duckdb(tree, **kwargs))
        return texts[-1]

    sources.to_duckdb = keep
    try:
        con.query(sql).fetchall()
    finally:
        sources.to_duckdb = to_duckdb
    return texts[-1]


def _untyped(con: sqlml.Connection, sql: str) -> None:
    """``sql`` run by sqlml with the renderer's typed pass switched off."""
    sources.with_table_columns = lambda tree, columns, survey=None: tree
    try:
        con.query(sql).fetchall()
    finally:
        sources.with_table_columns = with_table_columns


if __name__ == "__main__":
    main()
