"""TRANSFORM clauses and feature types: replayed in the query where they are exactly expressible,
the Python path kept (and used) where they are not."""

from __future__ import annotations

import pytest

from sqlml.errors import ExecutionError, InvalidModelInputError
from sqlml.ml.preprocessing.sql_features import CASE_CATEGORIES, MAX_CATEGORIES
from sqlml.ml.preprocessing.sql_transform import replayable_items

TRAIN = "SELECT x1, x2, k, cat, flag, y, cls FROM ds.train"
FRESH = "SELECT id, x1, x2, k, cat, flag, y FROM ds.fresh"


def create(con, name: str, transform: str, label: str = "y") -> None:
    model_type = "linear_reg" if label == "y" else "logistic_reg"
    con.query(f"CREATE OR REPLACE MODEL ds.{name} TRANSFORM({transform}, {label}) "
              f"OPTIONS(model_type='{model_type}', input_label_cols=['{label}']) AS {TRAIN}")  # fmt: skip


@pytest.mark.parametrize("transform, label", [
    ("ML.STANDARD_SCALER(x1) OVER () AS s, x2 * 2 AS d, UPPER(cat) AS cat, flag", "y"),
    ("ML.MIN_MAX_SCALER(x2) OVER () AS m, ML.BUCKETIZE(x1, [0.0, 1.0]) AS b, IF(flag, k, -k) AS signed", "cls"),
])  # fmt: skip
def test_expressible_transform_is_computed_in_the_query(paths, transform, label):
    create(paths.con, "tr", transform, label)
    assert replayable_items(paths.model("ds.tr").spec["transform"]["feature_sql"]) is not None
    sql = f"SELECT * FROM ML.PREDICT(MODEL ds.tr, ({FRESH}))"
    paths.same(sql)


@pytest.mark.parametrize("transform", [
    "AVG(x1) OVER () AS centred, x2",  # a window: the Python path computes it per batch
    "ML.ONE_HOT_ENCODER(cat) OVER () AS hot, x1",  # an ARRAY<STRUCT> feature
])  # fmt: skip
def test_inexpressible_transform_keeps_the_python_path(paths, transform):
    create(paths.con, "tr_py", transform)
    sql = f"SELECT * FROM ML.PREDICT(MODEL ds.tr_py, ({FRESH}))"
    with pytest.raises(ExecutionError, match="AssertionError: a linear model was scored in Python"):
        paths.sql(sql)
    expected = paths.python(sql)
    assert expected.column_names[0] == "predicted_y" and expected.num_rows == 120


@pytest.mark.parametrize("column", [
    "TIMESTAMP_SECONDS(k * 86400) AS ts",  # TIMESTAMP: epoch and calendar parts
    "[x1, 1.0] AS pair",  # ARRAY<FLOAT64>
])  # fmt: skip
def test_feature_types_without_an_sql_form_keep_the_python_path(paths, column):
    name = column.rsplit(" ", 1)[-1]
    paths.con.query(f"CREATE OR REPLACE MODEL ds.typed OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x1, {column}, y FROM ds.train")
    sql = f"SELECT * FROM ML.PREDICT(MODEL ds.typed, (SELECT x1, {column} FROM ds.fresh))"
    with pytest.raises(ExecutionError, match="AssertionError: a linear model was scored in Python"):
        paths.sql(sql)
    assert paths.python(sql).column_names == ["predicted_y", "x1", name]


@pytest.mark.parametrize(("model_type", "label"), [("linear_reg", "y"), ("logistic_reg", "cls")])
def test_date_and_datetime_categories_are_computed_in_the_query(paths, model_type, label):
    """DATE and DATETIME one-hot blocks (NULLs and values unseen in training among the input's)."""
    columns = ("IF(MOD(id, 9) = 0, NULL, DATE_ADD(DATE '2024-02-27', INTERVAL MOD(k, 6) DAY)) AS d, "
               "IF(MOD(id, 11) = 0, NULL, DATETIME(TIMESTAMP_SECONDS(1700000000 + MOD(k, 5) * 5400 + MOD(id, 2)))) AS dt")  # fmt: skip
    paths.con.query(f"CREATE OR REPLACE MODEL ds.dated OPTIONS(model_type='{model_type}', input_label_cols=['{label}']) "
                    f"AS SELECT x1, {columns}, {label} FROM ds.train WHERE k < 40")  # fmt: skip
    names = paths.model("ds.dated").preprocessor.feature_names
    assert "d_2024-02-29" in names and "dt_2023-11-14 22:13:20.000000" in names
    unseen = columns.replace("MOD(k, 6)", "MOD(k, 8)").replace("MOD(k, 5)", "MOD(k, 7)")  # days and times training lacks
    got = paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.dated, (SELECT x1, {unseen} FROM ds.fresh))")
    assert got.column_names[-2:] == ["d", "dt"] and got.column("d").null_count > 0


def test_numeric_and_float32_features_are_computed_in_the_query(paths):
    # DuckDB's DECIMAL → DOUBLE and Arrow's decimal128 → float64 may differ in the last bit
    columns = "CAST(k AS NUMERIC) AS amount, CAST(x2 AS FLOAT) AS narrow"
    paths.con.query(f"CREATE OR REPLACE MODEL ds.typed OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x1, {columns}, y FROM ds.train")
    sql = f"SELECT * FROM ML.PREDICT(MODEL ds.typed, (SELECT x1, {columns} FROM ds.fresh))"
    paths.same(sql)


def test_a_string_given_for_a_numeric_feature_keeps_the_python_paths_conversion(paths):
    sql = "SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT CAST(x1 AS STRING) AS x1, x2, k, cat, flag FROM ds.fresh))"
    with pytest.raises(ExecutionError, match="AssertionError: a linear model was scored in Python"):
        paths.sql(sql)
    expected = paths.python(sql)
    assert expected.column_names[:2] == ["predicted_y", "x1"]


def wide_model(paths, name: str, categories: int, model_type: str = "linear_reg", label: str = "y") -> str:
    """A model with a one-hot STRING feature of ``categories`` categories; a query of fresh rows
    for it (with categories unseen in training and NULLs)."""
    rows = ("SELECT MOD(i * 7, 13) / 3.0 AS x1, CAST(MOD(i, {n}) AS STRING) AS code, "
            "MOD(i, 11) + MOD(i, {n}) / 50.0 AS y, MOD(i, 11) + MOD(i, {n}) / 50.0 > 6 AS positive FROM UNNEST(GENERATE_ARRAY({start}, {end})) AS i")  # fmt: skip
    paths.con.query(f"CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='{model_type}', input_label_cols=['{label}']) "
                    f"AS SELECT x1, code, {label} FROM ({rows.format(n=categories, start=0, end=4 * categories)})")  # fmt: skip
    assert len(paths.model(f"ds.{name}").preprocessor.feature_names) == 1 + categories
    fresh = rows.format(n=categories + 5, start=1, end=2 * categories)
    return f"SELECT * FROM ML.PREDICT(MODEL ds.{name}, (SELECT x1, IF(MOD(CAST(x1 * 3 AS INT64), 5) = 0, NULL, code) AS code FROM ({fresh})))"


def test_a_one_hot_block_wider_than_the_limit_keeps_the_python_path(paths):
    sql = wide_model(paths, "wide", MAX_CATEGORIES + 1)
    with pytest.raises(ExecutionError, match="AssertionError: a linear model was scored in Python"):
        paths.sql(sql)
    paths.same(wide_model(paths, "wide", MAX_CATEGORIES))


@pytest.mark.parametrize("categories", [CASE_CATEGORIES, CASE_CATEGORIES + 1, 200])
def test_wide_one_hot_blocks_are_looked_up_in_the_query(paths, categories):
    """A CASE up to CASE_CATEGORIES categories, a MAP lookup beyond: the same weights either way."""
    got = paths.same(wide_model(paths, "wide_reg", categories))
    assert got.num_rows == 2 * categories and got.column_names == ["predicted_y", "x1", "code"]
    got = paths.same(wide_model(paths, "wide_bin", categories, "logistic_reg", "positive"))
    assert got.column_names == ["predicted_positive", "predicted_positive_probs", "x1", "code"]


def test_a_transform_that_fails_on_the_input_is_the_python_paths_error(paths):
    create(paths.con, "tr_err", "ML.STANDARD_SCALER(x1) OVER () AS s, UPPER(cat) AS c")
    with pytest.raises(InvalidModelInputError, match=r"^The model's TRANSFORM failed on the input rows: "):
        paths.sql("SELECT * FROM ML.PREDICT(MODEL ds.tr_err, (SELECT x1, [1, 2] AS cat FROM ds.fresh))")
