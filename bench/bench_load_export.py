"""EXPORT DATA and LOAD DATA against DuckDB's own COPY / read_* doing the same work, alternating run by run.

One table of N rows (default 1M: BIGINT, VARCHAR, DOUBLE) in an in-memory sqlml warehouse and in
a raw in-memory DuckDB connection. Each pair writes (EXPORT DATA vs ``COPY (…) TO``) or reads
(LOAD DATA OVERWRITE vs ``CREATE OR REPLACE TABLE … AS SELECT * FROM read_…``) the same files;
the table prints medians and sqlml's ratio (1.00 = no overhead).
The raw side writes one file where sqlml names its one shard; both write the same bytes.

Usage: python bench/bench_load_export.py [--rows 1000000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import duckdb

import sqlml
from harness import Row, alternate, print_table

ROWS_SQL = "SELECT i AS id, 'name-' || CAST(i % 1000 AS {text}) AS name, i / 7 AS x FROM {numbers}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    con = sqlml.connect(":memory:")
    con.query("CREATE SCHEMA d")
    con.query(f"CREATE TABLE d.src AS {ROWS_SQL.format(text='STRING', numbers=f'UNNEST(GENERATE_ARRAY(1, {args.rows})) AS i')}")
    raw = duckdb.connect()
    raw.execute(f"CREATE TABLE src AS {ROWS_SQL.format(text='VARCHAR', numbers=f'range(1, {args.rows + 1}) AS t(i)')}")
    rows = []
    for fmt in ("CSV", "PARQUET"):
        ours_uri, raw_path = f"{folder}/ours-{fmt}-*.{fmt.lower()}", f"{folder}/raw-{fmt}.{fmt.lower()}"
        export = alternate(
            lambda: con.query(f"EXPORT DATA OPTIONS(uri='{ours_uri}', format='{fmt}', overwrite=true) AS SELECT * FROM d.src"),
            lambda: raw.execute(f"COPY (SELECT * FROM src) TO '{raw_path}' (FORMAT {fmt.lower()}{', HEADER true' if fmt == 'CSV' else ''})"),
            args.pairs,
        )
        reader = f"read_csv('{raw_path}', header = true)" if fmt == "CSV" else f"read_parquet('{raw_path}')"
        skip = ", skip_leading_rows=1" if fmt == "CSV" else ""
        load = alternate(
            lambda: con.query(f"LOAD DATA OVERWRITE d.loaded FROM FILES(format='{fmt}', uris=['{raw_path}']{skip})"),
            lambda: raw.execute(f"CREATE OR REPLACE TABLE loaded AS SELECT * FROM {reader}"),
            args.pairs,
        )
        for label, timings in ((f"EXPORT DATA {fmt}", export), (f"LOAD DATA {fmt}", load)):
            rows.append(Row(label, statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings), "≤ 1.10×"))
    print_table(f"LOAD/EXPORT DATA, {args.rows:,} rows, median of {args.pairs} alternating pairs", rows)


if __name__ == "__main__":
    main()
