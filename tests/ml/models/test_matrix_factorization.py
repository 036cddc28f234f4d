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
    [("CAST(user AS VARCHAR) || 'u'", pa.string()), ("DATE '2024-01-01' + CAST(user AS INTEGER)", pa.date32())],
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
