"""The data split that both engines compute (issue 22, point 3) depends on the rows' values, not on
the order they are read in: RANDOM evaluates the rows with the lowest row hashes, SEQ orders the
rows that tie on its column by that hash — so a Spark executor holding the rows in another order
picks the same rows. And the evaluated row counts keep BigQuery's fractions and AUTO_SPLIT
thresholds (< 500 rows: none; to 50,000: 20%; above: 10,000 rows)."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from sqlml.ml.training.row_hash import row_hashes
from sqlml.ml.training.split import eval_rows, split_rows

# 300 rows, 60 distinct rows 5 times each; t has 7 values (ties at SEQ's cut)
ROWS = "SELECT MOD(i, 60) AS x, 'c' || CAST(MOD(i, 60) * 3 AS VARCHAR) AS s, MOD(i, 7) AS t FROM range(300) AS r(i)"


def _evaluated(table, options: dict) -> Counter:
    split = split_rows(table, row_hashes(table), options)
    rows = table.to_pylist()
    return Counter(tuple(rows[i].values()) for i in split.evaluation)


@pytest.mark.parametrize(
    "options",
    [{"data_split_method": "RANDOM", "data_split_eval_fraction": 0.23}, {"data_split_method": "SEQ", "data_split_col": "t", "data_split_eval_fraction": 0.3}],
    ids=["random", "seq"],
)
def test_the_evaluated_rows_do_not_depend_on_the_rows_order(options):
    table = duckdb.sql(ROWS).to_arrow_table()
    shuffled = duckdb.sql(f"SELECT * FROM ({ROWS}) ORDER BY hash(x * 31 + t), s DESC").to_arrow_table()
    assert table.column("x").to_pylist() != shuffled.column("x").to_pylist()
    evaluated = _evaluated(table, options)
    assert evaluated == _evaluated(shuffled, options) and sum(evaluated.values()) == (69 if options["data_split_method"] == "RANDOM" else 90)
    if options["data_split_method"] == "SEQ":  # the last rows by t: all of t = 6 and 5 (42 and 43 rows), 5 of t = 4 by hash
        assert Counter(row[2] for row in evaluated.elements()) == {6: 42, 5: 43, 4: 5}


@pytest.mark.parametrize(
    ("method", "rows", "evaluated"),
    [("AUTO_SPLIT", 499, 0), ("AUTO_SPLIT", 500, 100), ("AUTO_SPLIT", 50_000, 10_000), ("AUTO_SPLIT", 50_001, 10_000),
     ("AUTO_SPLIT", 200_000, 10_000), ("RANDOM", 1_000, 200), ("SEQ", 1_000, 200)],  # fmt: skip
)
def test_the_evaluated_row_count_keeps_bigquerys_fractions(method, rows, evaluated):
    assert eval_rows({"data_split_method": method}, rows) == evaluated
