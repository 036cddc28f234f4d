"""MATRIX_FACTORIZATION on Spark's workers with a data split (issue 22, point 3): a CUSTOM, SEQ or
RANDOM split puts the rows one process puts in the evaluation part there (the split is computed
by Spark), ALS fits the training rows, whose users and items alone the model keeps (as one
process's model does), and the stored metrics are those of the evaluation rows. An IMPLICIT
model's loss and eval loss are one process's formulas for the factors MLlib fitted, checked here
against a dense NumPy computation over every (user, item) pair."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.training.row_hash import row_hashes
from sqlml.ml.training.split import split_rows

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
def test_a_split_factorization_on_spark_keeps_the_training_rows_keys_and_scores_the_evaluation_rows(shared, split, column, evaluated, users):
    spark_con, duck = shared
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


def test_a_split_that_cannot_train_fails_on_spark_as_in_one_process(shared):
    spark_con, duck = shared
    for case, (split, column) in FAILING.items():
        statement = MF.format(split=split, column=column)
        with pytest.raises(sqlml.errors.Error) as in_process:
            duck.query(statement)
        with pytest.raises(type(in_process.value)) as on_spark:
            spark_con.query(statement)
        assert (on_spark.value.message, on_spark.value.hint) == (in_process.value.message, in_process.value.hint), case
    assert spark_con.query("SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.MODELS").fetchall() == [(0,)]


RANDOM = {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.25}
RATINGS = "SELECT user, item, rating FROM ds.r"


def _evaluation_rows(duck, spark) -> tuple[pa.Table, pa.Table]:
    """One process's training and evaluation rows of :data:`RATINGS` split by :data:`RANDOM`; the
    evaluation rows are Spark's TEMP view ``eval_rows`` too."""
    table = duck.query(RATINGS).arrow()
    split = split_rows(table, row_hashes(table), RANDOM)
    spark.createDataFrame(table.take(split.evaluation)).createOrReplaceTempView("eval_rows")
    return table.take(split.train), table.take(split.evaluation)


def _factors(duck) -> tuple[dict, dict]:
    """The stored model's user and item factors (ML.WEIGHTS), by key."""
    found = {"user": {}, "item": {}}
    for kind, key, weights in duck.query(KEYS.replace("processed_input, feature", "processed_input, feature, factor_weights")).fetchall():
        found[kind][key] = np.array([w["weight"] for w in sorted(weights, key=lambda w: w["factor"])])
    return found["user"], {int(key): value for key, value in found["item"].items()}


def _summed(rows: pa.Table) -> dict:
    pairs = {}
    for user, item, rating in zip(*(rows.column(name).to_pylist() for name in ("user", "item", "rating"))):
        pairs[user, item] = pairs.get((user, item), 0.0) + rating
    return pairs


@pytest.mark.slow  # ALS on local[2]
def test_an_implicit_factorization_on_spark_has_one_process_losses_and_ranking_metrics(shared, spark):
    """A RANDOM split too: Spark evaluates the rows one process's split evaluates (the stored ranking
    metrics are ML.EVALUATE's of those rows, and eval_loss is theirs); an explicit model's stored
    metrics of its evaluation rows are checked for CUSTOM and SEQ above, on the same split code."""
    spark_con, duck = shared
    training, evaluation = _evaluation_rows(duck, spark)
    assert evaluation.num_rows == 30
    alpha, l2_reg = 5.0, 0.5
    spark_con.query(
        "CREATE MODEL ds.mf OPTIONS(model_type='matrix_factorization', feedback_type='IMPLICIT', num_factors=3, max_iterations=3, "
        f"wals_alpha={alpha}, l2_reg={l2_reg}, data_split_method='RANDOM', data_split_eval_fraction=0.25) AS {RATINGS}"
    )
    users, items = _factors(duck)
    [(loss, eval_loss)] = spark_con.query("SELECT loss, eval_loss FROM ML.TRAINING_INFO(MODEL ds.mf)").fetchall()
    # eval_loss: Σ c(p − s)² / Σ c over the evaluation rows' distinct pairs of training users and items
    # (ratings summed; c = 1 + α|r| in float32, p = [r > 0], s = x_u·y_i)
    held_out = [(pair, r) for pair, r in _summed(evaluation).items() if pair[0] in users and pair[1] in items and r != 0]
    c = np.array([np.float32(1 + alpha * abs(r)) for _, r in held_out], dtype=np.float64)
    p = np.array([r > 0 for _, r in held_out], dtype=np.float64)
    s = np.array([users[u] @ items[i] for (u, i), _ in held_out])
    assert eval_loss == pytest.approx(np.sum(c * (p - s) ** 2) / np.sum(c), rel=1e-9)
    # loss: the WALS objective over every (training user, training item) pair, over the total confidence
    X, Y = np.array([users[u] for u in sorted(users)]), np.array([items[i] for i in sorted(items)])
    C, P = np.ones((len(X), len(Y))), np.zeros((len(X), len(Y)))
    user_row, item_row = {u: k for k, u in enumerate(sorted(users))}, {i: k for k, i in enumerate(sorted(items))}
    for (u, i), r in _summed(training).items():
        if r != 0:
            C[user_row[u], item_row[i]], P[user_row[u], item_row[i]] = np.float32(1 + alpha * abs(r)), float(r > 0)
    objective = np.sum(C * (P - X @ Y.T) ** 2) + l2_reg * (np.sum(X**2) + np.sum(Y**2))
    assert loss == pytest.approx(objective / np.sum(C), rel=1e-9)
    # the stored ranking metrics are the evaluation rows' (ML.EVALUATE of them ranks as one process does)
    stored = duck.query("SELECT * FROM ML.EVALUATE(MODEL ds.mf)").arrow().to_pylist()[0]
    on_rows = spark_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.mf, TABLE eval_rows)").arrow().to_pylist()[0]
    assert list(stored) == ["mean_average_precision", "mean_squared_error", "normalized_discounted_cumulative_gain", "average_rank"]
    for name, value in on_rows.items():
        assert stored[name] == (None if value is None else pytest.approx(value, rel=1e-9)), name
