"""ML.RECOMMEND in SQL on trained MATRIX_FACTORIZATION models: columns, types, values against NumPy
on the stored factors, the input forms, errors, tuning trials, and SQL around the call."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.errors import InvalidModelInputError, InvalidOptionError, ModelError
from sqlml.ml.recommendation.stored import factorization_of
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

RATINGS = (
    "CREATE TABLE d.ratings AS SELECT u AS user_id, 'm' || i AS item, CAST(MOD(u * 7 + i * 3, 5) + 1 AS FLOAT64) AS rating, "
    "'v' || u AS visitor, i AS item_id FROM UNNEST(GENERATE_ARRAY(1, 24)) AS u, UNNEST(GENERATE_ARRAY(1, 10)) AS i WHERE MOD(u + i, 3) != 0"
)


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("recommend")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query(f"CREATE SCHEMA d; {RATINGS}")
        connection.query(
            "CREATE MODEL d.explicit OPTIONS(model_type='matrix_factorization', user_col='user_id', item_col='item', num_factors=3) "
            "AS SELECT user_id, item, rating FROM d.ratings"
        )
        connection.query(
            "CREATE MODEL d.implicit OPTIONS(model_type='matrix_factorization', feedback_type='implicit', user_col='visitor', "
            "item_col='item_id', rating_col='rating', num_factors=3) AS SELECT visitor, item_id, rating FROM d.ratings"
        )
        yield connection


def factors(con, name: str, trial_id: int | None = None):
    return factorization_of(CACHE.get(con.models, con.models.resolve(ModelRef.parse(name))), trial_id)


def numpy_scores(f, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
    """Predictions straight from the stored arrays: global + intercepts + dot product."""
    return f.global_intercept + f.user_intercepts[user_rows] + f.item_intercepts[item_rows] + np.sum(f.user_factors[user_rows] * f.item_factors[item_rows], axis=1)


def check_values(f, table: pa.Table) -> None:
    users = {value: row for row, value in enumerate(f.users.to_pylist())}
    items = {value: row for row, value in enumerate(f.items.to_pylist())}
    user_rows = np.array([users[v] for v in table[f.user_col].to_pylist()])
    item_rows = np.array([items[v] for v in table[f.item_col].to_pylist()])
    np.testing.assert_allclose(table[f.prediction_column].to_numpy(), numpy_scores(f, user_rows, item_rows), rtol=1e-12)


def test_without_input_every_training_user_with_every_training_item(con):
    table = con.query("SELECT * FROM ML.RECOMMEND(MODEL d.explicit)").arrow()
    assert table.schema == pa.schema([("user_id", pa.int64()), ("item", pa.string()), ("predicted_rating", pa.float64())])
    assert table.num_rows == 24 * 10
    assert len(set(zip(table["user_id"].to_pylist(), table["item"].to_pylist()))) == 240
    check_values(factors(con, "d.explicit"), table)


def test_implicit_model_gives_confidences_with_string_users_and_int64_items(con):
    table = con.query("SELECT * FROM ML.RECOMMEND(MODEL d.implicit)").arrow()
    assert table.schema == pa.schema([("visitor", pa.string()), ("item_id", pa.int64()), ("predicted_rating_confidence", pa.float64())])
    f = factors(con, "d.implicit")
    assert (f.global_intercept, f.user_intercepts.any(), f.item_intercepts.any()) == (0.0, False, False)
    check_values(f, table)


def test_users_alone_give_every_item_and_an_unseen_user_the_intercepts(con):
    table = con.query("SELECT * FROM ML.RECOMMEND(MODEL d.explicit, (SELECT USER_ID FROM UNNEST([3, 999]) AS USER_ID))").arrow()
    assert table.column_names == ["user_id", "item", "predicted_rating"]
    f = factors(con, "d.explicit")
    assert table["user_id"].to_pylist() == [3] * 10 + [999] * 10
    check_values(f, table.slice(0, 10))
    unseen = f.global_intercept + f.item_intercepts[f.item_index(table["item"].slice(10))]
    np.testing.assert_allclose(table["predicted_rating"].to_numpy()[10:], unseen, rtol=1e-12)


def test_items_alone_give_every_user_from_a_table(con):
    con.query("CREATE TABLE d.wanted AS SELECT 'm4' AS item")
    table = con.query("SELECT * FROM ML.RECOMMEND(MODEL d.explicit, TABLE d.wanted)").arrow()
    assert table.num_rows == 24 and set(table["item"].to_pylist()) == {"m4"}
    assert sorted(table["user_id"].to_pylist()) == list(range(1, 25))
    check_values(factors(con, "d.explicit"), table)


def test_pairs_are_scored_and_other_columns_pass_through(con):
    table = con.query(
        "SELECT * FROM ML.RECOMMEND(MODEL d.explicit, (SELECT 'x' AS tag, item, user_id, rating FROM d.ratings WHERE user_id = 5 "
        "UNION ALL SELECT 'new', 'unseen', 5, NULL))"
    ).arrow()
    assert table.column_names == ["user_id", "item", "predicted_rating", "tag", "rating"]
    assert table["tag"].to_pylist() == ["x"] * (table.num_rows - 1) + ["new"]
    assert table.num_rows - 1 == con.query("SELECT COUNT(*) AS n FROM d.ratings WHERE user_id = 5").arrow()["n"][0].as_py()
    f = factors(con, "d.explicit")
    known = table.filter(pa.compute.equal(table["tag"], "x"))
    check_values(f, known)
    unseen = table.filter(pa.compute.equal(table["tag"], "new"))["predicted_rating"][0].as_py()
    assert unseen == pytest.approx(f.global_intercept + f.user_intercepts[f.user_index(pa.array([5]))[0]], rel=1e-12)


def test_input_with_neither_column_is_an_error_naming_both(con):
    with pytest.raises(InvalidModelInputError, match=r"^The input of ML.RECOMMEND has neither the user column user_id nor the item column item of the model; its columns are x\."):
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.explicit, (SELECT 1 AS x))")


def test_one_key_column_and_another_column_is_an_error(con):
    with pytest.raises(InvalidModelInputError, match=r"^The input of ML.RECOMMEND has user_id but not item, so it can only have that one column; it also has rating\."):
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.explicit, (SELECT user_id, rating FROM d.ratings))")


def test_keys_of_an_uncoercible_type_are_refused(con):
    with pytest.raises(InvalidModelInputError, match=r"^The column user_id has type string, which does not convert to the type the model was trained on \(int64\)\."):
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.explicit, (SELECT '3' AS user_id))").arrow()


def test_other_model_types_are_refused(con):
    con.query("CREATE MODEL d.lin OPTIONS(model_type='linear_reg', input_label_cols=['rating']) AS SELECT user_id, rating FROM d.ratings")
    with pytest.raises(ModelError, match=r"^ML.RECOMMEND does not support LINEAR_REG models; it needs MATRIX_FACTORIZATION"):
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.lin)")


def test_trial_id_scores_with_that_trials_factors(con):
    con.query(
        "CREATE MODEL d.tuned OPTIONS(model_type='matrix_factorization', user_col='user_id', item_col='item', num_trials=2, "
        "num_factors=HPARAM_CANDIDATES([2, 4]), l2_reg=HPARAM_CANDIDATES([0.1, 3.0])) AS SELECT user_id, item, rating FROM d.ratings"
    )
    trials = con.query("SELECT trial_id, is_optimal FROM ML.TRIAL_INFO(MODEL d.tuned) ORDER BY trial_id").arrow().to_pylist()
    other = next(t["trial_id"] for t in trials if not t["is_optimal"])
    for trial_id in (other, next(t["trial_id"] for t in trials if t["is_optimal"])):
        table = con.query(f"SELECT * FROM ML.RECOMMEND(MODEL d.tuned, STRUCT({trial_id} AS trial_id))").arrow()
        check_values(factors(con, "d.tuned", trial_id), table)
    default = con.query("SELECT * FROM ML.RECOMMEND(MODEL d.tuned)").arrow()
    check_values(factors(con, "d.tuned"), default)
    with pytest.raises(InvalidOptionError, match="trial"):
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.tuned, STRUCT(99 AS trial_id))")
    with pytest.raises(InvalidOptionError, match=r"ML.RECOMMEND has no setting 'top_k'"):
        con.query("SELECT * FROM ML.RECOMMEND(MODEL d.tuned, STRUCT(3 AS top_k))")


def test_ctas_view_and_join_around_the_call(con):
    con.query("CREATE TABLE d.rec AS SELECT * FROM ML.RECOMMEND(MODEL d.explicit)")
    assert con.query("SELECT COUNT(*) AS n FROM d.rec").arrow()["n"].to_pylist() == [240]
    con.query("CREATE VIEW d.best AS SELECT * FROM ML.RECOMMEND(MODEL d.explicit) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2")
    from_view = con.query("SELECT user_id, item FROM d.best WHERE user_id = 7 ORDER BY item").arrow().to_pylist()
    from_table = con.query("SELECT user_id, item FROM d.rec WHERE user_id = 7 ORDER BY predicted_rating DESC LIMIT 2").arrow().to_pylist()
    assert from_view == sorted(from_table, key=lambda row: row["item"])
    con.query("CREATE TABLE d.titles AS SELECT 'm' || i AS item, 'Title ' || i AS title FROM UNNEST(GENERATE_ARRAY(1, 5)) AS i")
    joined = con.query("SELECT r.user_id, t.title, r.predicted_rating FROM ML.RECOMMEND(MODEL d.explicit) AS r JOIN d.titles AS t USING (item)").arrow()
    assert joined.num_rows == 24 * 5


def test_the_movielens_tutorial_sql_runs_unchanged(con):
    # https://cloud.google.com/bigquery/docs/bigqueryml-mf-explicit-tutorial (reference §9 item 11)
    con.query(
        "CREATE SCHEMA bqml_tutorial; CREATE TABLE bqml_tutorial.ratings AS SELECT user_id, CAST(SUBSTR(item, 2) AS INT64) AS item_id, rating FROM d.ratings; "
        "CREATE TABLE bqml_tutorial.movies AS SELECT i AS movie_id, 'Movie ' || i AS movie_title, IF(MOD(i, 2) = 0, 'Drama', 'Comedy') AS genre "
        "FROM UNNEST(GENERATE_ARRAY(1, 10)) AS i"
    )
    con.query(
        "CREATE OR REPLACE MODEL `bqml_tutorial.mf_explicit` OPTIONS (MODEL_TYPE = 'matrix_factorization', FEEDBACK_TYPE = 'explicit', "
        "USER_COL = 'user_id', ITEM_COL = 'item_id', L2_REG = 9.83, NUM_FACTORS = 34) AS SELECT user_id, item_id, rating FROM `bqml_tutorial.ratings`"
    )
    five = con.query("SELECT * FROM ML.RECOMMEND(MODEL `bqml_tutorial.mf_explicit`, (SELECT user_id FROM `bqml_tutorial.ratings` LIMIT 5))").arrow()
    assert five.column_names == ["user_id", "item_id", "predicted_rating"] and five.num_rows == 5 * 10
    con.query("CREATE OR REPLACE TABLE `bqml_tutorial.recommend` AS SELECT * FROM ML.RECOMMEND(MODEL `bqml_tutorial.mf_explicit`)")
    top = con.query(
        "SELECT user_id, ARRAY_AGG(STRUCT(movie_title, genre, predicted_rating) ORDER BY predicted_rating DESC LIMIT 5) "
        "FROM (SELECT user_id, item_id, predicted_rating, movie_title, genre FROM `bqml_tutorial.recommend` "
        "JOIN `bqml_tutorial.movies` ON item_id = movie_id) GROUP BY user_id"
    ).arrow()
    assert top.num_rows == 24
    f = factors(con, "bqml_tutorial.mf_explicit")
    first = top.to_pylist()[0]
    user, best = first["user_id"], list(first.values())[1]
    scores = f.score_block(f.user_index(pa.array([user])), np.arange(len(f.items)))[0]
    assert [row["movie_title"] for row in best] == [f"Movie {f.items[i].as_py()}" for i in np.argsort(-scores, kind="stable")[:5]]


def test_the_implicit_tutorial_sql_runs_unchanged(con):
    # https://cloud.google.com/bigquery/docs/bigqueryml-mf-implicit-tutorial (reference §9 item 12)
    con.query(
        "CREATE TABLE bqml_tutorial.analytics_session_data AS SELECT 'visitor' || u AS visitorId, 'content' || i AS contentId, "
        "60000 + 1000 * MOD(u * i, 13) AS session_duration FROM UNNEST(GENERATE_ARRAY(1, 20)) AS u, UNNEST(GENERATE_ARRAY(1, 8)) AS i WHERE MOD(u * i, 4) != 1"
    )
    con.query(
        "CREATE OR REPLACE MODEL `bqml_tutorial.my_implicit_mf_model` OPTIONS (model_type = 'matrix_factorization', feedback_type = 'implicit', "
        "user_col = 'visitorId', item_col = 'contentId', rating_col = 'rating', l2_reg = 30, num_factors = 15) AS "
        "SELECT visitorId, contentId, 0.3 * (1 + (session_duration - 57937) / 57937) AS rating FROM `bqml_tutorial.analytics_session_data`"
    )
    five = con.query(
        "SELECT * FROM ML.RECOMMEND(MODEL `bqml_tutorial.my_implicit_mf_model`, (SELECT visitorId FROM `bqml_tutorial.analytics_session_data` LIMIT 5))"
    ).arrow()
    assert five.column_names == ["visitorId", "contentId", "predicted_rating_confidence"] and five.num_rows == 5 * 8
    con.query("CREATE OR REPLACE TABLE `bqml_tutorial.recommend_content` AS SELECT * FROM ML.RECOMMEND(MODEL `bqml_tutorial.my_implicit_mf_model`)")
    assert con.query("SELECT COUNT(*) AS n FROM `bqml_tutorial.recommend_content`").arrow()["n"].to_pylist() == [20 * 8]
    check_values(factors(con, "bqml_tutorial.my_implicit_mf_model"), con.query("SELECT * FROM `bqml_tutorial.recommend_content`").arrow())
