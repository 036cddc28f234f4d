"""Divisions and MODs in a window's PARTITION BY and ORDER BY keys, written without their checks.

BigQuery's ``a / b`` fails on a zero divisor and ``MOD`` on a FLOAT64 operand; sqlml checks both
with DuckDB's ``error()`` (:mod:`sqlml.sql.generator_fixes`, :mod:`sqlml.sql.numbers`), which DuckDB
counts as volatile, and it refuses volatile window keys: the reference's own ``COUNT(*) OVER
(PARTITION BY MOD(x, 3))`` failed with "PARTITION BY window expressions cannot be volatile", as
did any ``OVER (ORDER BY revenue / cost)``. In a key they are DuckDB's plain ``/`` and ``%``, whose
answers are BigQuery's wherever BigQuery gives one (a zero divisor there is NULL, not an error).
https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#count
"""

from __future__ import annotations

from sqlglot import exp

#: The meta key of a division or MOD rendered without its BigQuery check.
UNCHECKED = "sqlml_unchecked"


def unchecked_window_keys(tree: exp.Expression) -> exp.Expression:
    """Mark the divisions and MODs of every window's keys :data:`UNCHECKED`."""
    for window in tree.find_all(exp.Window):
        keys = [*(window.args.get("partition_by") or []), window.args.get("order")]
        for key in keys:
            for node in key.find_all(exp.Div, exp.Mod) if key is not None else ():
                node.meta[UNCHECKED] = True
    return tree
