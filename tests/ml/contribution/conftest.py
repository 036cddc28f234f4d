"""Fixtures of the contribution analysis tests: the rows of :mod:`.reference` in a warehouse."""

from __future__ import annotations

import pandas as pd
import pytest

import sqlml
from tests.ml.contribution.reference import make_rows


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return make_rows()


@pytest.fixture(scope="module")
def ca_con(rows):
    """A connection with ds.sales holding :func:`make_rows`."""
    with sqlml.connect(":memory:") as con:
        con.register("sales_frame", rows)
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.sales AS SELECT * FROM sales_frame")
        yield con
