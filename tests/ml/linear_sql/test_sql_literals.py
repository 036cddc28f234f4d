"""The weights and statistics the prediction query writes read back in DuckDB as exactly the
same DOUBLE (bit for bit), tiny, huge, negative, signed zero and non-finite ones too."""

from __future__ import annotations

import math

import duckdb
import numpy as np

from sqlml.ml.preprocessing.sql_features import number
from sqlml.sql.dialect import SqlmlDuckdb


def test_numbers_read_back_bit_for_bit():
    rng = np.random.default_rng(7)
    values = [*(rng.normal(size=300) * 10.0 ** rng.integers(-300, 300, 300)), 0.0, -0.0, 0.1, -2.5, 5e-324, -1.7976931348623157e308, 1.0]
    texts = [number(v).sql(dialect=SqlmlDuckdb) for v in values]
    differences, got = duckdb.sql(f"SELECT [{', '.join(f'x - {t}' for t in texts)}], [{', '.join(texts)}] FROM (SELECT 0.0e0 AS x)").fetchall()[0]
    assert np.array_equal(np.array(got).view(np.int64), np.array(values).view(np.int64))
    assert np.array_equal(np.array(differences).view(np.int64), (0.0 - np.array(values)).view(np.int64))  # "x - -2.5e0" is no comment


def test_non_finite_numbers_are_cast_text():
    texts = [number(v).sql(dialect=SqlmlDuckdb) for v in (math.nan, math.inf, -math.inf)]
    assert texts == ["CAST('nan' AS DOUBLE)", "CAST('inf' AS DOUBLE)", "CAST('-inf' AS DOUBLE)"]
    assert duckdb.sql(f"SELECT isnan({texts[0]}), {texts[1]}, {texts[2]}").fetchall() == [(True, math.inf, -math.inf)]
