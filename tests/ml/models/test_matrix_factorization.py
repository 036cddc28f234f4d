"""MATRIX_FACTORIZATION end to end: CREATE MODEL on a generated low-rank ratings table, the stored
factorization (factorization_of), keys of any type, versions, and the training info."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation.factors import Factorization
from sqlml.ml.recommendation.stored import factorization_of
from sqlml.store.records import ModelRef

NOISE = 0.1


def low_rank_ratings(users: int = 120, items: int = 80, rank: int = 3, density: float = 0.35, seed: int = 3) -> pd.DataFrame:
    """Ratings 3 + user bias + item bias + u·v + N(0, NOISE²) on a random share of the grid."""
    rng = np.random.default_rng(seed)
    u_factors, i_factors = rng.normal(size=(users, rank)), rng.normal(size=(items, rank))
    u_bias, i_bias = rng.normal(0, 0.5, users), rng.normal(0, 0.5, items)
    user, item = np.nonzero(rng.random((users, items)) < density)
    rating = 3 + u_bias[user] + i_bias[item] + (u_factors[user] * i_factors[item]).sum(1) + rng.normal(0, NOISE, len(user))
    return pd.DataFrame({"user": user.astype(np.int64), "item": item.astype(np.int64), "rating": rating,
                         "held_out": rng.random(len(user)) < 0.1})  # fmt: skip


@pytest.fixture(scope="module")
def mf_con(tmp_path_factory):
    root = tmp_path_factory.mktemp("mf")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("ratings_frame", low_rank_ratings())
        con.query("CREATE TABLE ds.ratings AS SELECT * FROM ratings_frame")
        yield con


def stored(con, name: str) -> Model:
    store = con.models
    return Model.load(store.verified_files(store.resolve(ModelRef.parse(name))))


def test_explicit_model_recovers_a_low_rank_table(mf_con):
    mf_con.query(
        "CREATE OR REPLACE MODEL ds.mf OPTIONS(model_type='matrix_factorization', num_factors=3, l2_reg=0.5, "
        "data_split_method='CUSTOM', data_split_col='held_out') AS SELECT user, item, rating, held_out FROM ds.ratings"
    )
    info = mf_con.query("SELECT * FROM ML.TRAINING_INFO(MODEL ds.mf)").arrow()
    assert info.column_names == ["training_run", "iteration", "loss", "eval_loss", "learning_rate", "duration_ms"]
    eval_rmse = np.sqrt(info.column("eval_loss").to_numpy()[-1])
    assert eval_rmse < 2 * NOISE  # held-out error near the noise level
    factorization = factorization_of(stored(mf_con, "ds.mf"))
    assert isinstance(factorization, Factorization)
    assert (factorization.feedback_type, factorization.num_factors) == ("EXPLICIT", 3)
    assert (factorization.user_col, factorization.item_col, factorization.rating_col) == ("user", "item", "rating")
    assert factorization.users.type == pa.int64() and factorization.prediction_column == "predicted_rating"
    frame = low_rank_ratings()
    held = frame[frame.held_out]
    rows = factorization.user_index(pa.array(held.user)), factorization.item_index(pa.array(held.item))
    assert np.sqrt(np.mean((factorization.score_pairs(*rows) - held.rating) ** 2)) == pytest.approx(eval_rmse)


@pytest.mark.parametrize(
    ("expression", "arrow_type"),
    [("CAST(user AS VARCHAR) || 'u'", pa.string()), ("DATE '2024-01-01' + CAST(user AS INTEGER)", pa.date32()),
     ("CAST(user / 4 AS NUMERIC)", pa.decimal128(38, 9)), ("CAST(CAST(user AS VARCHAR) AS BYTES)", pa.binary()),
     ("TIME_ADD(TIME '00:00:00', INTERVAL user MINUTE)", pa.time64("us"))],
)
def test_users_and_items_keep_their_training_type(mf_con, expression, arrow_type):
    mf_con.query(
        f"CREATE OR REPLACE MODEL ds.keyed OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=2) "
        f"AS SELECT {expression} AS user, item, rating FROM ds.ratings"
    )
    factorization = factorization_of(stored(mf_con, "ds.keyed"))
    assert factorization.users.type == arrow_type and len(factorization.users) == 120
    expected = mf_con.query(f"SELECT DISTINCT {expression} AS user FROM ds.ratings ORDER BY 1").arrow().column(0)
    assert factorization.users.to_pylist() == expected.to_pylist()


MF = "CREATE OR REPLACE MODEL ds.bad OPTIONS(model_type='matrix_factorization'{options}) AS {query}"


@pytest.mark.parametrize(
    ("options", "query", "error", "message"),
    [
        ("", "SELECT user AS visitor, item, rating FROM ds.ratings", "InvalidModelInputError",
         r"The training query has no user column 'user' \(user_col\)\."),
        (", item_col='content'", "SELECT user, item, rating FROM ds.ratings", "InvalidModelInputError",
         r"The training query has no item column 'content' \(item_col\)\."),
        ("", "SELECT user, item, rating, held_out FROM ds.ratings", "InvalidModelInputError",
         r"MATRIX_FACTORIZATION trains on exactly the user, item and rating columns \(user, item, rating\); "
         r"the training query also selects held_out\."),
        ("", "SELECT user, item, IF(user = 3, NULL, rating) AS rating FROM ds.ratings", "InvalidModelInputError",
         r"The rating column rating has \d+ NULL value\(s\); matrix factorization does not train on NULL ratings\."),
        ("", "SELECT IF(item = 2, NULL, user) AS user, item, rating FROM ds.ratings", "InvalidModelInputError",
         r"The column user has \d+ NULL value\(s\); matrix factorization needs a user and an item in every row\."),
        ("", "SELECT user, item, CAST(rating AS STRING) AS rating FROM ds.ratings", "InvalidModelInputError",
         r"The rating column rating has type string; it must be INT64, NUMERIC, BIGNUMERIC or FLOAT64\."),
        (", wals_alpha=3", "SELECT user, item, rating FROM ds.ratings", "InvalidOptionError",
         r"wals_alpha applies only to feedback_type='IMPLICIT'; this model is trained on EXPLICIT feedback\."),
        (", num_factors=201", "SELECT user, item, rating FROM ds.ratings", "InvalidOptionError",
         r"The 'num_factors' option of CREATE MODEL \(model_type='matrix_factorization'\) must be an integer in the range \[2, 200\]\. Got 201 instead\."),
        (", l2_reg=0", "SELECT user, item, rating FROM ds.ratings", "InvalidOptionError",
         r"The 'l2_reg' option of CREATE MODEL \(model_type='matrix_factorization'\) must be a float in the range \(0, inf\)\. Got 0 instead\."),
    ],
)
def test_bad_input_is_a_clear_error_and_keeps_the_previous_model(mf_con, options, query, error, message):
    mf_con.query("CREATE OR REPLACE MODEL ds.bad OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=1) "
                 "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    before = mf_con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.bad)").arrow()
    with pytest.raises(getattr(sqlml.errors, error), match=message) as raised:
        mf_con.query(MF.format(options=options, query=query))
    assert raised.value.hint or "must be" in message  # a range error names the valid range instead of a hint
    assert mf_con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.bad)").arrow().equals(before)


def test_transform_clause_is_refused(mf_con):
    with pytest.raises(sqlml.errors.SqlSyntaxError, match=r"model_type='MATRIX_FACTORIZATION' takes no TRANSFORM clause\."):
        mf_con.query("CREATE MODEL ds.tr TRANSFORM(user, item, rating) OPTIONS(model_type='matrix_factorization') "
                     "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip


def test_predict_scores_the_given_pairs_as_recommend_does(mf_con):
    # BigQuery ML's first recommendation tutorials scored chosen pairs with ML.PREDICT (training-data-analyst
    # courses/machine_learning/deepdive2/recommendation_systems/solutions/als_bqml.ipynb:
    # ML.PREDICT(MODEL movielens.recommender, (SELECT movieId, title, 903 AS userId FROM …))):
    # predicted_<rating_col> first, then the input's columns in their order
    mf_con.query("CREATE OR REPLACE MODEL ds.p OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=1) "
                 "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    pairs = "SELECT item, 'x' AS note, user FROM ds.ratings ORDER BY user, item LIMIT 7"
    predicted = mf_con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.p, ({pairs}))").arrow()
    assert predicted.schema.names == ["predicted_rating", "item", "note", "user"]
    assert predicted.schema.field("predicted_rating").type == pa.float64()
    recommended = mf_con.query(f"SELECT user, item, predicted_rating FROM ML.RECOMMEND(MODEL ds.p, ({pairs}))").arrow()
    by_pair = {(u, i): r for u, i, r in zip(*(recommended.column(c).to_pylist() for c in ("user", "item", "predicted_rating")))}
    rows = zip(*(predicted.column(c).to_pylist() for c in ("user", "item", "predicted_rating")))
    assert sorted((u, i, r) for u, i, r in rows) == sorted((u, i, r) for (u, i), r in by_pair.items())
    assert predicted.num_rows == 7


def test_predict_without_the_item_column_names_it(mf_con):
    mf_con.query("CREATE OR REPLACE MODEL ds.p2 OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=1) "
                 "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    with pytest.raises(sqlml.errors.InvalidModelInputError) as refused:
        mf_con.query("SELECT * FROM ML.PREDICT(MODEL ds.p2, (SELECT user FROM ds.ratings))")
    assert str(refused.value).splitlines()[0].endswith(
        "ML.PREDICT of matrix factorization model ds.p2 needs the user and item columns; the input has no item."
    )
    assert refused.value.hint == "Select item in the input query, or ask ML.RECOMMEND(MODEL ds.p2) for every pair."


def test_weights_have_a_row_per_user_and_item_and_the_global_intercept(mf_con):
    mf_con.query("CREATE OR REPLACE MODEL ds.w OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=2, user_col='u') "
                 "AS SELECT CAST(user AS STRING) AS u, item, rating FROM ds.ratings")  # fmt: skip
    weights = mf_con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.w)").arrow()
    assert weights.schema == pa.schema([
        ("processed_input", pa.string()), ("feature", pa.string()),
        ("factor_weights", pa.list_(pa.struct([("factor", pa.int64()), ("weight", pa.float64())]))), ("intercept", pa.float64()),
    ])  # fmt: skip
    model = factorization_of(stored(mf_con, "ds.w"))
    assert weights.num_rows == 120 + 80 + 1
    last = weights.slice(200).to_pylist()[0]
    assert last == {"processed_input": None, "feature": "global__INTERCEPT__", "factor_weights": None, "intercept": model.global_intercept}
    first = weights.slice(0, 1).to_pylist()[0]
    assert first["processed_input"] == "u" and first["feature"] == model.users[0].as_py()
    assert [w["weight"] for w in first["factor_weights"]] == model.user_factors[0].tolist()
    assert [w["factor"] for w in first["factor_weights"]] == [1, 2]


def test_feature_info_counts_users_and_items(mf_con):
    mf_con.query("CREATE OR REPLACE MODEL ds.fi OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=1) "
                 "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    info = mf_con.query("SELECT input, category_count, min, null_count FROM ML.FEATURE_INFO(MODEL ds.fi)").arrow().to_pylist()
    assert info == [{"input": "user", "category_count": 120, "min": None, "null_count": None},
                    {"input": "item", "category_count": 80, "min": None, "null_count": None}]  # fmt: skip


def test_default_num_factors_is_log2_of_the_training_rows(mf_con):
    mf_con.query("CREATE OR REPLACE MODEL ds.d OPTIONS(model_type='matrix_factorization', max_iterations=1) "
                 "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    rows = mf_con.query("SELECT COUNT(*) FROM ds.ratings").scalar()
    assert factorization_of(stored(mf_con, "ds.d")).num_factors == round(np.log2(rows))


def test_tuning_records_trials_and_serves_any_of_them(mf_con):
    mf_con.query(
        "CREATE OR REPLACE MODEL ds.tuned OPTIONS(model_type='matrix_factorization', num_trials=3, max_iterations=3, "
        "data_split_method='RANDOM', data_split_eval_fraction=0.1, data_split_test_fraction=0.1) AS SELECT user, item, rating FROM ds.ratings"
    )
    trials = mf_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.tuned) ORDER BY trial_id").arrow()
    assert trials.column("trial_id").to_pylist() == [1, 2, 3]
    assert set(trials.column("hyperparameters").type.names) == {"num_factors", "l2_reg"}
    assert trials.column("hparam_tuning_evaluation_metrics").type.names == ["mean_absolute_error", "mean_squared_error",
        "mean_squared_log_error", "median_absolute_error", "r2_score", "explained_variance"]  # fmt: skip
    optimal = trials.filter(pa.compute.equal(trials.column("is_optimal"), True)).column("trial_id").to_pylist()[0]
    evaluated = mf_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.tuned)").arrow()
    assert evaluated.column("trial_id").to_pylist() == [1, 2, 3]
    model = stored(mf_con, "ds.tuned")
    # trial 1 starts at BigQuery's defaults: num_factors = log2(training rows), l2_reg = 1
    first = trials.column("hyperparameters").to_pylist()[0]
    assert first == {"num_factors": round(np.log2(model.spec["split"]["training_rows"])), "l2_reg": 1.0}
    for trial in (1, 2, 3):
        chosen = factorization_of(model, trial)
        assert chosen.num_factors == trials.column("hyperparameters").to_pylist()[trial - 1]["num_factors"]
        one = mf_con.query(f"SELECT * FROM ML.EVALUATE(MODEL ds.tuned, STRUCT({trial} AS trial_id))").arrow()
        assert one.to_pylist() == [evaluated.to_pylist()[trial - 1]]  # trial_id first: the trial asked for
    assert factorization_of(model).num_factors == factorization_of(model, optimal).num_factors
    with pytest.raises(sqlml.errors.InvalidOptionError, match=r"The model has no successful trial 9\."):
        mf_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.tuned, STRUCT(9 AS trial_id))")
    weights = mf_con.query("SELECT DISTINCT trial_id FROM ML.WEIGHTS(MODEL ds.tuned) ORDER BY 1").arrow()
    assert weights.column(0).to_pylist() == [1, 2, 3]


def test_implicit_tuning_adds_wals_alpha_and_ranking_objectives(mf_con):
    with pytest.raises(sqlml.errors.InvalidOptionError, match=r"'R2_SCORE' is not a tuning objective for MATRIX_FACTORIZATION"):
        mf_con.query("CREATE OR REPLACE MODEL ds.it OPTIONS(model_type='matrix_factorization', feedback_type='implicit', num_trials=2, "
                     "hparam_tuning_objectives=['r2_score']) AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    mf_con.query("CREATE OR REPLACE MODEL ds.it OPTIONS(model_type='matrix_factorization', feedback_type='implicit', num_trials=2, "
                 "max_iterations=2, hparam_tuning_objectives=['average_rank']) AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    trials = mf_con.query("SELECT * FROM ML.TRIAL_INFO(MODEL ds.it)").arrow()
    assert set(trials.column("hyperparameters").type.names) == {"num_factors", "l2_reg", "wals_alpha"}
    ranks = [m["average_rank"] for m in trials.column("hparam_tuning_evaluation_metrics").to_pylist()]
    best = [t["is_optimal"] for t in trials.to_pylist()]
    assert best[int(np.argmin(ranks))]  # the lowest average rank is optimal


def test_versions_and_the_tutorial_statements(mf_con):
    """The explicit MovieLens tutorial's statements (reference §9 item 11), unchanged but the table."""
    mf_con.query("CREATE OR REPLACE TABLE ds.movielens AS SELECT user AS user_id, item AS item_id, ROUND(rating) AS rating FROM ds.ratings")
    statement = ("CREATE OR REPLACE MODEL ds.mf_explicit OPTIONS(MODEL_TYPE='matrix_factorization', FEEDBACK_TYPE='explicit', "
                 "USER_COL='user_id', ITEM_COL='item_id', L2_REG=9.83, NUM_FACTORS=34) AS SELECT user_id, item_id, rating FROM ds.movielens")  # fmt: skip
    mf_con.query(statement)
    first = factorization_of(stored(mf_con, "ds.mf_explicit@1"))
    mf_con.query(statement.replace("L2_REG=9.83", "L2_REG=1"))
    assert factorization_of(stored(mf_con, "ds.mf_explicit@2")).user_factors.shape == (120, 34)
    assert np.array_equal(factorization_of(stored(mf_con, "ds.mf_explicit@1")).user_factors, first.user_factors)
    mf_con.query("ALTER MODEL `ds.mf_explicit@1` SET OPTIONS(version_aliases=['stable'])")
    assert np.array_equal(factorization_of(stored(mf_con, "ds.mf_explicit@stable")).user_factors, first.user_factors)
    by_alias = mf_con.query("SELECT * FROM ML.WEIGHTS(MODEL `ds.mf_explicit@stable`)").arrow()
    assert len(by_alias.column("factor_weights")[0]) == 34
    got = mf_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.mf_explicit, (SELECT user_id, item_id, rating FROM ds.movielens))").arrow()
    assert got.num_rows == 1 and got.column("r2_score")[0].as_py() > 0.5


def test_the_implicit_tutorial_statements(tmp_path):
    """The implicit Google Analytics tutorial (reference §9 item 12) unchanged: its CREATE MODEL
    on a generated session table, then ML.EVALUATE without data."""
    rng = np.random.default_rng(4)
    visitors, contents = rng.integers(10**18, 9 * 10**18, 60), rng.integers(10**8, 3 * 10**8, 40)
    user, item = np.nonzero(rng.random((60, 40)) < 0.2)
    sessions = pd.DataFrame({"visitorId": visitors[user], "contentId": contents[item],
                             "session_duration": rng.integers(1_000, 150_000, len(user))})  # fmt: skip
    with sqlml.connect(tmp_path / "w", tmp_path / "m", idle_release=0) as con:
        con.query("CREATE SCHEMA bqml_tutorial")
        con.register("sessions", sessions)
        con.query("CREATE TABLE bqml_tutorial.analytics_session_data AS SELECT * FROM sessions")
        con.query("""
            CREATE OR REPLACE MODEL `bqml_tutorial.mf_implicit`
              OPTIONS (
                MODEL_TYPE = 'matrix_factorization',
                FEEDBACK_TYPE = 'implicit',
                USER_COL = 'visitorId',
                ITEM_COL = 'contentId',
                RATING_COL = 'rating',
                L2_REG = 30,
                NUM_FACTORS = 15)
            AS
            SELECT
              visitorId,
              contentId,
              0.3 * (1 + (session_duration - 57937) / 57937) AS rating
            FROM `bqml_tutorial.analytics_session_data`
            WHERE 0.3 * (1 + (session_duration - 57937) / 57937) < 1;
        """)
        evaluated = con.query("SELECT * FROM ML.EVALUATE(MODEL `bqml_tutorial.mf_implicit`);").arrow()
        assert evaluated.column_names == ["mean_average_precision", "mean_squared_error", "normalized_discounted_cumulative_gain", "average_rank"]
        assert all(0 <= evaluated.column(name)[0].as_py() <= 1 for name in evaluated.column_names)
        model = factorization_of(stored(con, "bqml_tutorial.mf_implicit"))
        assert (model.user_col, model.prediction_column, model.num_factors) == ("visitorId", "predicted_rating_confidence", 15)
        kept = sessions[0.3 * (1 + (sessions.session_duration - 57937) / 57937) < 1]
        assert sorted(model.users.to_pylist()) == sorted(kept.visitorId.unique().tolist())


@pytest.mark.parametrize("feedback", ["explicit", "implicit"])
def test_an_interrupt_between_iterations_cancels_and_keeps_the_previous_model(mf_con, feedback):
    from sqlml.progress import Reporter, reporting

    mf_con.query(f"CREATE OR REPLACE MODEL ds.cancel OPTIONS(model_type='matrix_factorization', feedback_type='{feedback}', "
                 "num_factors=2, max_iterations=1) AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    before = [v.version for v in mf_con.models.versions("ds", "cancel")]
    iterations = []

    class InterruptAfterTwoIterations(Reporter):
        def advanced(self, task):
            if task.unit == "iterations":
                iterations.append(1)
                if len(iterations) == 2:
                    mf_con.interrupt()

    with reporting(InterruptAfterTwoIterations()), pytest.raises(sqlml.Cancelled, match=r"Training was cancelled"):
        mf_con.query(f"CREATE OR REPLACE MODEL ds.cancel OPTIONS(model_type='matrix_factorization', feedback_type='{feedback}', "
                     "num_factors=2, max_iterations=10, early_stop=FALSE) AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    assert len(iterations) == 2
    assert [v.version for v in mf_con.models.versions("ds", "cancel")] == before


def test_implicit_feedback_without_a_positive_rating_is_refused(mf_con):
    with pytest.raises(sqlml.errors.InvalidModelInputError,
                       match=r"An IMPLICIT matrix factorization needs positive ratings; every rating of the training rows is 0\."):  # fmt: skip
        mf_con.query("CREATE OR REPLACE MODEL ds.zero OPTIONS(model_type='matrix_factorization', feedback_type='implicit') "
                     "AS SELECT user, item, 0 AS rating FROM ds.ratings")  # fmt: skip


def test_evaluate_input_needs_the_training_columns(mf_con):
    mf_con.query("CREATE OR REPLACE MODEL ds.ev OPTIONS(model_type='matrix_factorization', num_factors=2, max_iterations=1) "
                 "AS SELECT user, item, rating FROM ds.ratings")  # fmt: skip
    with pytest.raises(sqlml.errors.InvalidModelInputError,
                       match=r"ML.EVALUATE needs the columns user, item, rating of the model's training; the input has no rating\."):  # fmt: skip
        mf_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.ev, (SELECT user, item FROM ds.ratings))")
    with pytest.raises(sqlml.errors.InvalidModelInputError, match=r"ML.EVALUATE found no rows with a rating"):
        mf_con.query("SELECT * FROM ML.EVALUATE(MODEL ds.ev, (SELECT user, item, CAST(NULL AS FLOAT64) AS rating FROM ds.ratings))")
