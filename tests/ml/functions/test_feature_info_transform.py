"""ML.FEATURE_INFO of models trained with a TRANSFORM clause: the query's pre-transform columns.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-feature — "If you used
the TRANSFORM clause in the CREATE MODEL statement that created the model, ML.FEATURE_INFO outputs the
information of the pre-transform columns from the query_statement argument."
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

FRAME = (lambda rng: pd.DataFrame({
    "x1": np.where(np.arange(40) % 9 == 4, np.nan, rng.normal(1.0, 2.0, 40)),
    "plan": np.where(np.arange(40) % 11 == 3, None, rng.choice(["basic", "plus", "pro"], 40)),
    "unused": rng.normal(size=40),
    "x2": rng.normal(-3.0, 0.5, 40),
    "target": rng.normal(size=40),
}))(np.random.default_rng(5))  # fmt: skip
TABLES = {"rows": pa.Table.from_pandas(FRAME, preserve_index=False)}
MODELS = [
    """CREATE MODEL ds.tf
  TRANSFORM(target, ML.STANDARD_SCALER(x1) OVER () AS x1_scaled, ML.ONE_HOT_ENCODER(plan, 'none', 10, 1) OVER () AS plan_hot,
            x1 * x2 AS product)
  OPTIONS(model_type='linear_reg', input_label_cols=['target'], data_split_method='NO_SPLIT')
AS SELECT * FROM ds.rows""",
]
COLUMNS = ["input", "min", "max", "mean", "median", "stddev", "category_count", "null_count", "dimension"]


def _expected(name: str) -> dict:
    """One ML.FEATURE_INFO row computed directly by pandas on the training rows."""
    column = FRAME[name]
    if column.dtype == object:
        return {"input": name, "min": None, "max": None, "mean": None, "median": None, "stddev": None,
                "category_count": int(column.nunique()), "null_count": int(column.isna().sum()), "dimension": None}  # fmt: skip
    return {"input": name, "min": column.min(), "max": column.max(), "mean": column.mean(), "median": column.median(),
            "stddev": column.std(ddof=1), "category_count": None, "null_count": int(column.isna().sum()), "dimension": None}  # fmt: skip


def _rows(con, model: str) -> tuple[pa.Schema, list[dict]]:
    table = con.query(f"SELECT * FROM ML.FEATURE_INFO(MODEL ds.{model})").arrow()
    return table.schema, table.to_pylist()


def _assert_rows(actual: list[dict], names: list[str]) -> None:
    assert [row["input"] for row in actual] == names
    for row, name in zip(actual, names):
        expected = _expected(name)
        for key in COLUMNS:
            if isinstance(expected[key], float):
                assert row[key] == pytest.approx(expected[key], rel=1e-12), (name, key)
            else:
                assert row[key] == expected[key], (name, key)


def test_trained_model_reports_the_columns_transform_reads(tables_con):
    schema, rows = _rows(tables_con, "tf")
    assert schema.names == COLUMNS
    assert [str(t) for t in schema.types] == ["string"] + ["double"] * 5 + ["int64"] * 3
    # the query's columns the TRANSFORM reads, in query order: not x1_scaled/plan_hot/product, not the
    # label, not the unread column
    _assert_rows(rows, ["x1", "plan", "x2"])
    assert rows[0]["null_count"] == 4 and not math.isnan(rows[0]["mean"])


def test_weights_still_name_the_transformed_features(tables_con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights: weights
    # are of the features the model was trained on, i.e. the TRANSFORM outputs
    names = [r[0] for r in tables_con.query("SELECT processed_input FROM ML.WEIGHTS(MODEL ds.tf)").fetchall()]
    assert names[0] == "x1_scaled" and "product" in names and "x1" not in names
