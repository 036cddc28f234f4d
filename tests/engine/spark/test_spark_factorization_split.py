"""MATRIX_FACTORIZATION on Spark's workers with a data split (issue 22, point 3): a CUSTOM or SEQ
split puts the rows one process puts in the evaluation part there (the split is computed by
Spark), ALS fits the training rows, whose users and items alone the model keeps (as one
process's model does), and the stored metrics are those of the evaluation rows."""

from __future__ import annotations

import pytest

import sqlml

# 120 ratings: 12 STRING users × 9 INT64 items; user u11 is rated only in rows marked for evaluation
DATA = (
    "CREATE SCHEMA IF NOT EXISTS ds; CREATE OR REPLACE TABLE ds.r AS "
    "SELECT CONCAT('u', CAST(MOD(x, 12) AS STRING)) AS user, MOD(x * 7, 9) AS item, "
    "CAST(1 + MOD(x * 13 + DIV(x, 5), 5) AS FLOAT64) AS rating, x AS t, x > 96 OR MOD(x, 12) = 11 AS is_eval "
    "FROM UNNEST(GENERATE_ARRAY(1, 120)) AS x"
)
MF = "CREATE MODEL ds.mf OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=2, {split}) AS SELECT user, item, rating, {column} FROM ds.r"
KEYS = "SELECT processed_input, feature FROM ML.WEIGHTS(MODEL ds.mf) WHERE processed_input IN ('user', 'item') ORDER BY 1, 2"


@pytest.mark.slow  # ALS on local[2]: ~10 s a model
@pytest.mark.parametrize(
    ("split", "column", "evaluated", "users"),
    [
        ("data_split_method='CUSTOM', data_split_col='is_eval'", "is_eval", "is_eval", 11),
        ("data_split_method='SEQ', data_split_col='t', data_split_eval_fraction=0.25", "t", "t > 90", 12),
    ],
    ids=["custom", "seq"],
)
def test_a_split_factorization_on_spark_keeps_the_training_rows_keys_and_scores_the_evaluation_rows(both, split, column, evaluated, users):
    spark_con, duck = both
    statement = MF.format(split=split, column=column)
    spark_con.query(statement)
    keys_on_spark = duck.query(KEYS).fetchall()
    duck.query(statement.replace("ds.mf", "ds.in_process").replace("CREATE MODEL", "CREATE OR REPLACE MODEL"))
    # the users and items of the training rows, as one process's model has them (u11 is rated only in evaluation rows)
    assert keys_on_spark == duck.query(KEYS.replace("ds.mf", "ds.in_process")).fetchall()
    assert {feature for kind, feature in keys_on_spark if kind == "user"} == {f"u{i}" for i in range(users)}
    # the stored metrics are the evaluation rows' (an unseen user predicted from its item alone)
    stored = spark_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.mf)").arrow().to_pylist()
    on_rows = spark_con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.mf, (SELECT user, item, rating FROM ds.r WHERE {evaluated}))").arrow().to_pylist()
    assert stored[0].keys() == on_rows[0].keys() and len(stored[0]) == 6
    for name, value in on_rows[0].items():
        assert stored[0][name] == pytest.approx(value, rel=1e-9), name
    [(loss, eval_loss)] = spark_con.query("SELECT loss, eval_loss FROM ML.TRAINING_INFO(MODEL ds.mf)").fetchall()
    assert eval_loss == pytest.approx(stored[0]["mean_squared_error"], rel=1e-12) and loss < eval_loss


#: CREATE MODEL splits that cannot train: (OPTIONS, the split column as selected)
FAILING = {
    "a CUSTOM column that is not BOOL": ("data_split_method='CUSTOM', data_split_col='t'", "t"),
    "a column the query lacks": ("data_split_method='SEQ', data_split_col='nowhere'", "t"),
    "no training rows": ("data_split_method='CUSTOM', data_split_col='is_eval'", "is_eval OR TRUE AS is_eval"),
}


def test_a_split_that_cannot_train_fails_on_spark_as_in_one_process(both):
    spark_con, duck = both
    for case, (split, column) in FAILING.items():
        statement = MF.format(split=split, column=column)
        with pytest.raises(sqlml.errors.Error) as in_process:
            duck.query(statement)
        with pytest.raises(type(in_process.value)) as on_spark:
            spark_con.query(statement)
        assert (on_spark.value.message, on_spark.value.hint) == (in_process.value.message, in_process.value.hint), case
    assert spark_con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.MODELS").fetchall() == [(0,)]
