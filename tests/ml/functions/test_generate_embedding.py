"""ML.GENERATE_EMBEDDING and AI.GENERATE_EMBEDDING of PCA models: one ARRAY<FLOAT64> per row with
ML.PREDICT's principal component numbers (scikit-learn's projections, up to each component's
sign), then the input columns; the AI. spelling parses, runs and names the column ``embedding``.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-generate-embedding
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate-embedding
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import sqlglot
from sklearn.decomposition import PCA

import sqlml
from sqlml.errors import InvalidOptionError, ModelError, UnsupportedStatementError
from sqlml.ml.models.model import Model
from sqlml.sql.dialect import Sqlml
from sqlml.sql.expressions import MLFunction
from sqlml.store.records import ModelRef

VECTOR = pa.list_(pa.float64())


def _rows(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    latent = rng.normal(0.0, 1.0, (n, 2))
    points = latent @ np.array([[1.0, 0.5, -0.3, 2.0], [0.0, 1.5, 1.0, -0.5]]) + rng.normal(0.0, 0.1, (n, 4))
    return pa.table({"id": pa.array(range(n), pa.int64()), **{f"f{j}": points[:, j] for j in range(4)}, "label": ["x"] * n})


TRAIN, FRESH = _rows(120, 21), _rows(9, 22)
FEATURES = "f0, f1, f2, f3"


TABLES = {"train": TRAIN, "fresh": FRESH}
MODELS = [f"CREATE MODEL ds.pca OPTIONS(model_type='pca', num_principal_components=2) AS SELECT {FEATURES} FROM ds.train"]


@pytest.fixture(scope="module")
def con(tables_con):
    return tables_con


def _vectors(table: pa.Table, column: str) -> np.ndarray:
    return np.array(table.column(column).to_pylist())


def test_ml_spelling_returns_ml_generate_embedding_result_then_every_input_column(con):
    result = con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.pca, TABLE ds.fresh)").arrow()
    inputs = [("id", pa.int64())] + [(f"f{j}", pa.float64()) for j in range(4)] + [("label", pa.string())]
    assert [(f.name, f.type) for f in result.schema] == [("ml_generate_embedding_result", VECTOR)] + inputs
    assert result.column("id").to_pylist() == list(range(FRESH.num_rows))


def test_ai_spelling_returns_embedding_then_every_input_column(con):
    result = con.query(f"SELECT * FROM AI.GENERATE_EMBEDDING(MODEL ds.pca, (SELECT id, {FEATURES} FROM ds.fresh))").arrow()
    assert result.schema.names == ["embedding", "id", "f0", "f1", "f2", "f3"] and result.schema.field("embedding").type == VECTOR


def test_embedding_is_ml_predicts_principal_components_and_sklearns_projection(con):
    embedded = _vectors(con.query("SELECT * FROM AI.GENERATE_EMBEDDING(MODEL ds.pca, TABLE ds.fresh)").arrow(), "embedding")
    predicted = con.query("SELECT principal_component_1, principal_component_2 FROM ML.PREDICT(MODEL ds.pca, TABLE ds.fresh)").fetchall()
    assert embedded.tolist() == [list(row) for row in predicted]
    train = np.column_stack([TRAIN.column(f"f{j}").to_numpy() for j in range(4)])
    fresh = np.column_stack([FRESH.column(f"f{j}").to_numpy() for j in range(4)])
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    projected = PCA(2, svd_solver="full").fit((train - mean) / std).transform((fresh - mean) / std)
    signs = np.sign((embedded * projected).sum(axis=0))  # a component's sign is a convention
    np.testing.assert_allclose(embedded, projected * signs, rtol=1e-8, atol=1e-10)


def test_embeddings_compose_with_ctas_and_array_functions(con):
    con.query("CREATE TABLE ds.vectors AS SELECT id, embedding FROM AI.GENERATE_EMBEDDING(MODEL ds.pca, TABLE ds.fresh)")
    rows = con.query("SELECT id, ARRAY_LENGTH(embedding), embedding[OFFSET(1)] FROM ds.vectors ORDER BY id LIMIT 2").fetchall()
    second = con.query("SELECT principal_component_2 FROM ML.PREDICT(MODEL ds.pca, TABLE ds.fresh) ORDER BY id LIMIT 2").fetchall()
    assert rows == [(0, 2, second[0][0]), (1, 2, second[1][0])]


def test_ai_generate_embedding_parses_as_the_ml_node_and_round_trips():
    sql = "SELECT * FROM AI.GENERATE_EMBEDDING(MODEL d.m, (SELECT 1 AS a), STRUCT(1 AS trial_id))"
    tree = sqlglot.parse_one(sql, read=Sqlml)
    node = tree.find(MLFunction)
    assert node.function_name == "GENERATE_EMBEDDING" and node.meta["prefix"] == "AI"
    assert tree.sql(Sqlml) == sql
    assert sqlglot.parse_one("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL d.m, TABLE d.t)", read=Sqlml).find(MLFunction).meta["prefix"] == "ML"


def test_trial_id_needs_a_tuned_model_and_other_types_are_refused(con):
    with pytest.raises(InvalidOptionError, match=r"^trial_id applies only to models trained with num_trials\."):
        con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.pca, TABLE ds.fresh, STRUCT(1 AS trial_id))")
    con.query(f"CREATE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT {FEATURES} FROM ds.train")
    with pytest.raises(ModelError, match=r"^ML\.GENERATE_EMBEDDING does not support KMEANS models; it needs [A-Z_, ]*\bPCA\b[A-Z_, ]*\. ds\.km is KMEANS\."):
        con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.km, TABLE ds.fresh)")
    with pytest.raises(ModelError, match=r"^AI\.GENERATE_EMBEDDING does not support KMEANS models"):  # named as written
        con.query("SELECT * FROM AI.GENERATE_EMBEDDING(MODEL ds.km, TABLE ds.fresh)")


@pytest.fixture(scope="module")
def mf_con():
    rng = np.random.default_rng(31)
    users, items = rng.normal(size=(30, 2)), rng.normal(size=(20, 2))
    user, item = np.nonzero(rng.random((30, 20)) < 0.5)
    ratings = pa.table({
        "user": [f"u{u}" for u in user], "item": pa.array(item, pa.int64()),
        "rating": 3 + (users[user] * items[item]).sum(axis=1) + rng.normal(0.0, 0.1, len(user)),
    })  # fmt: skip
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA ds")
        connection.register("rating_rows", ratings)
        connection.query("CREATE TABLE ds.ratings AS SELECT * FROM rating_rows")
        connection.query("CREATE MODEL ds.mf OPTIONS(model_type='matrix_factorization', num_factors=2, user_col='user', item_col='item', rating_col='rating') AS SELECT * FROM ds.ratings")
        yield connection


def test_factorization_embeds_every_user_and_item_with_ml_weights_numbers(mf_con):
    result = mf_con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.mf)").arrow()
    assert [(f.name, f.type) for f in result.schema] == [("processed_input", pa.string()), ("feature", pa.string()), ("ml_generate_embedding_result", VECTOR)]
    weights = mf_con.query("SELECT processed_input, feature, factor_weights, intercept FROM ML.WEIGHTS(MODEL ds.mf) WHERE processed_input IS NOT NULL").fetchall()
    expected = {(name, feature): [w["weight"] for w in sorted(factors, key=lambda w: w["factor"])] + [intercept] for name, feature, factors, intercept in weights}
    got = {(r["processed_input"], r["feature"]): r["ml_generate_embedding_result"] for r in result.to_pylist()}
    assert got == expected and len(got) == 30 + 20
    assert {name for name, _ in got} == {"user", "item"}


def test_factorization_embeddings_rebuild_ml_recommends_ratings(mf_con):
    vectors = {(r[0], r[1]): np.array(r[2]) for r in mf_con.query("SELECT * FROM AI.GENERATE_EMBEDDING(MODEL ds.mf)").fetchall()}
    global_intercept = mf_con.query("SELECT intercept FROM ML.WEIGHTS(MODEL ds.mf) WHERE processed_input IS NULL").fetchall()[0][0]
    rows = mf_con.query("SELECT user, item, predicted_rating FROM ML.RECOMMEND(MODEL ds.mf) ORDER BY user, item LIMIT 25").fetchall()
    for user, item, predicted in rows:
        u, v = vectors[("user", user)], vectors[("item", str(item))]
        assert predicted == pytest.approx(global_intercept + u[:-1] @ v[:-1] + u[-1] + v[-1], rel=1e-9, abs=1e-9)


def test_factorization_takes_no_data_and_no_unknown_trial(mf_con):
    with pytest.raises(UnsupportedStatementError, match=r"^ML\.GENERATE_EMBEDDING of a MATRIX_FACTORIZATION model takes no input data: it embeds every user and item seen in training\."):
        mf_con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.mf, TABLE ds.ratings)")
    with pytest.raises(InvalidOptionError, match=r"^trial_id applies only to models trained with num_trials\."):
        mf_con.query("SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.mf, STRUCT(2 AS trial_id))")


def test_a_tuned_factorizations_trial_is_embedded_with_that_trials_factors(mf_con):
    mf_con.query(
        "CREATE MODEL ds.mf_tuned OPTIONS(model_type='matrix_factorization', num_factors=2, user_col='user', item_col='item', "
        "rating_col='rating', num_trials=2, l2_reg=HPARAM_RANGE(0.1, 10), max_iterations=3) AS SELECT * FROM ds.ratings"
    )
    store = mf_con.models
    model = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.mf_tuned"))))
    users = model.arrays["users"].tolist()
    for trial_id, estimator in model.trial_estimators.items():
        rows = mf_con.query(f"SELECT feature, embedding FROM AI.GENERATE_EMBEDDING(MODEL ds.mf_tuned, STRUCT({trial_id} AS trial_id)) WHERE processed_input = 'user'").fetchall()
        expected = np.column_stack([estimator.user_factors_, estimator.user_intercepts_])
        assert {feature: vector for feature, vector in rows} == {user: row.tolist() for user, row in zip(users, expected)}
    assert len(model.trial_estimators) == 2
