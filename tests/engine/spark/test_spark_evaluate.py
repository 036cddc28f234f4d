"""ML.EVALUATE, ML.CONFUSION_MATRIX and ML.ROC_CURVE over a Spark table give the DuckDB engine's
answers on the same rows and the same stored model (floats within 1e-9), computed as aggregations
on Spark: the driver receives aggregate rows, never the input rows — for classifiers, regressors,
k-means and explicit matrix factorization; an implicit one's ranking metrics receive the distinct
(user, item) pairs (:mod:`sqlml.ml.functions.distributed_unsupervised`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pyarrow as pa
import pytest

import sqlml
from sqlml.engine.spark.cursor import SparkRelation

DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.t AS "
    "SELECT x, MOD(x * 7, 5) AS c, MOD(x * 13, 11) > 4 AS big FROM UNNEST(GENERATE_ARRAY(1, 600)) AS x; "
    # 600 ratings of 10 users × 12 items (120 distinct pairs, each rated 5 times)
    "CREATE OR REPLACE TABLE ds.r AS SELECT MOD(x, 10) AS u, MOD(x * 7, 12) AS i, 1 + MOD(x * 13, 5) AS rating FROM ds.t"
)
MF = "CREATE MODEL ds.{name} OPTIONS(model_type='matrix_factorization', user_col='u', item_col='i', {options} spark_train='driver') AS SELECT * FROM ds.r"
MODELS = (
    "CREATE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['big'], spark_train='driver') AS SELECT x, c, big FROM ds.t",
    "CREATE MODEL ds.l OPTIONS(model_type='linear_reg', input_label_cols=['x'], spark_train='driver') AS SELECT x, c FROM ds.t",
    "CREATE MODEL ds.k OPTIONS(model_type='kmeans', num_clusters=3, spark_train='driver') AS SELECT x, c FROM ds.t",
    MF.format(name="explicit", options="num_factors=2, max_iterations=3,"),
    MF.format(name="implicit", options="feedback_type='IMPLICIT', num_factors=2, max_iterations=3,"),
)
#: Each function over the table, ordered where it returns several rows.
QUERIES = {
    "evaluate": "SELECT * FROM ML.EVALUATE(MODEL ds.m, TABLE ds.t)",
    "evaluate a regressor": "SELECT * FROM ML.EVALUATE(MODEL ds.l, TABLE ds.t)",
    "evaluate k-means": "SELECT * FROM ML.EVALUATE(MODEL ds.k, TABLE ds.t)",
    "evaluate k-means on rows of one cluster": "SELECT * FROM ML.EVALUATE(MODEL ds.k, (SELECT * FROM ds.t WHERE x = 1))",
    "evaluate explicit feedback": "SELECT * FROM ML.EVALUATE(MODEL ds.explicit, TABLE ds.r)",
    "evaluate explicit feedback, an unseen user": "SELECT * FROM ML.EVALUATE(MODEL ds.explicit, (SELECT u + 5 AS u, i, rating FROM ds.r))",
    "evaluate implicit feedback": "SELECT * FROM ML.EVALUATE(MODEL ds.implicit, TABLE ds.r)",
    "confusion matrix at a threshold": "SELECT * FROM ML.CONFUSION_MATRIX(MODEL ds.m, TABLE ds.t, STRUCT(0.3 AS threshold)) ORDER BY expected_label",
    "roc curve": "SELECT * FROM ML.ROC_CURVE(MODEL ds.m, TABLE ds.t) ORDER BY threshold",
    "roc curve at thresholds": "SELECT * FROM ML.ROC_CURVE(MODEL ds.m, TABLE ds.t, GENERATE_ARRAY(0.1, 0.9, 0.2)) ORDER BY threshold",
}


@contextlib.contextmanager
def spied_fetches() -> Iterator[list[pa.Table]]:
    """The Arrow tables the driver fetches from Spark while the context is open."""
    fetched = []
    read = SparkRelation.to_arrow_table

    def spied(relation):
        table = read(relation)
        fetched.append(table)
        return table

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SparkRelation, "to_arrow_table", spied)
        yield fetched


@pytest.fixture(scope="module")
def answers(spark, tmp_path_factory):
    """Each query's rows on Spark and on DuckDB (the same stored models), and the Arrow tables the
    driver fetched from Spark while the Spark engine answered them."""
    folder = tmp_path_factory.mktemp("evaluate")
    with sqlml.connect(folder / "warehouse", folder / "models", engine="spark", spark=spark, idle_release=0) as con:
        con.query(DATA)
        for statement in MODELS:
            con.query(statement)
        with spied_fetches() as fetched:
            on_spark = {name: con.query(sql).arrow() for name, sql in QUERIES.items()}
        con.query("DROP SCHEMA ds CASCADE")
    with sqlml.connect(folder / "duckdb-warehouse", folder / "models") as duck:
        duck.query(DATA)
        on_duckdb = {name: duck.query(sql).arrow() for name, sql in QUERIES.items()}
    return on_spark, on_duckdb, fetched


@pytest.mark.parametrize("name", QUERIES)
def test_evaluation_functions_on_spark_equal_duckdbs(answers, name):
    on_spark, on_duckdb, _ = answers
    assert on_spark[name].schema == on_duckdb[name].schema
    got, expected = on_spark[name].to_pylist(), on_duckdb[name].to_pylist()
    assert len(got) == len(expected) > 0
    assert_rows_equal(got, expected)


def assert_rows_equal(got: list[dict], expected: list[dict]) -> None:
    """The same rows; floats within 1e-9 relative."""
    for row, expected_row in zip(got, expected, strict=True):
        assert row.keys() == expected_row.keys()
        for column, value in row.items():
            want = expected_row[column]
            assert value == (pytest.approx(want, rel=1e-9, abs=1e-12) if isinstance(want, float) else want), column


def test_the_driver_fetches_aggregates_not_the_input_rows(answers):
    """The input (600 rows of x, c, big) stays on Spark's executors: what the driver fetches are
    the aggregates (at most the 202 ranks of the ROC curve's percentile grid) and the answers."""
    _, _, fetched = answers
    assert fetched
    assert not [table.column_names for table in fetched if {"x", "big"} & set(table.column_names)]
    assert max(table.num_rows for table in fetched) <= 202


@pytest.mark.slow  # Keras on JAX: importing it and training the smallest autoencoder take seconds
def test_an_autoencoders_evaluation_on_spark_equals_duckdbs_from_the_summed_losses(both):
    spark_con, duck = both
    spark_con.query(
        "CREATE MODEL ds.a OPTIONS(model_type='autoencoder', hidden_units=[2], max_iterations=2, batch_size=64, spark_train='driver') "
        "AS SELECT x, c FROM ds.t"
    )
    query = "SELECT * FROM ML.EVALUATE(MODEL ds.a, (SELECT x, c FROM ds.t WHERE x > 100))"
    with spied_fetches() as fetched:
        on_spark = spark_con.query(query).arrow().to_pylist()
    on_duckdb = duck.query(query).arrow().to_pylist()
    assert list(on_duckdb[0]) == ["mean_absolute_error", "mean_squared_error", "mean_squared_log_error"]
    assert_rows_equal(on_spark, on_duckdb)
    assert fetched and max(table.num_rows for table in fetched) == 1  # the sums' one row
