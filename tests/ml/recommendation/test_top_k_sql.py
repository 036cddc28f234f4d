"""Top k per user (or per item) around ML.RECOMMEND: with the k pushed into the call (it emits only
each user's or item's best rows) the queries give the same rows as over ML.RECOMMEND's full output
saved in a table."""

from __future__ import annotations

import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.functions import recommend as recommend_function

RANKED = [
    # (query over {source}, pushed k)
    ("SELECT user_id, item, predicted_rating FROM {source} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC, item) <= 3", 3),
    ("SELECT * FROM {source} AS r QUALIFY RANK() OVER (PARTITION BY r.user_id ORDER BY r.predicted_rating DESC) < 3", 2),
    ("SELECT user_id, item, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC, item) AS rn FROM {source} QUALIFY rn <= 4 AND item != 'm2'", 4),
    ("SELECT user_id, ARRAY_AGG(STRUCT(item, predicted_rating) ORDER BY predicted_rating DESC, item LIMIT 5) AS top FROM {source} GROUP BY user_id", 5),
    ("SELECT * FROM (SELECT user_id, item, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC, item) AS rn FROM {source}) WHERE rn <= 2", 2),
    ("WITH recs AS (SELECT * FROM {source}) SELECT * FROM recs QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC, item) <= 3", 3),
    ("SELECT * FROM (SELECT user_id, item, predicted_rating FROM {source}) AS r "
     "QUALIFY RANK() OVER (PARTITION BY r.user_id ORDER BY r.predicted_rating DESC) <= 2", 2),
]
BY_ITEM = [
    ("SELECT * FROM {source} QUALIFY ROW_NUMBER() OVER (PARTITION BY item ORDER BY predicted_rating DESC, user_id) <= 4", 4),
    ("SELECT item, ARRAY_AGG(user_id ORDER BY predicted_rating DESC, user_id LIMIT 3) AS top FROM {source} GROUP BY item", 3),
    ("WITH recs AS (SELECT * FROM {source}) SELECT * FROM recs QUALIFY RANK() OVER (PARTITION BY item ORDER BY predicted_rating DESC) <= 2", 2),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("top_k")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query(
            "CREATE SCHEMA d; CREATE TABLE d.ratings AS SELECT u AS user_id, 'm' || i AS item, CAST(MOD(u * 7 + i * 3, 5) + 1 AS FLOAT64) AS rating "
            "FROM UNNEST(GENERATE_ARRAY(1, 30)) AS u, UNNEST(GENERATE_ARRAY(1, 12)) AS i WHERE MOD(u + i, 3) != 0"
        )
        connection.query(
            "CREATE MODEL d.m OPTIONS(model_type='matrix_factorization', user_col='user_id', item_col='item', num_factors=4) "
            "AS SELECT user_id, item, rating FROM d.ratings; CREATE TABLE d.everything AS SELECT * FROM ML.RECOMMEND(MODEL d.m)"
        )
        connection.query("CREATE TABLE d.some_users AS SELECT user_id FROM UNNEST([4, 4, 9, 1000]) AS user_id")
        connection.query("CREATE TABLE d.some_everything AS SELECT * FROM ML.RECOMMEND(MODEL d.m, TABLE d.some_users)")
        connection.query("CREATE TABLE d.some_items AS SELECT item FROM UNNEST(['m3', 'm3', 'm7', 'unseen']) AS item")
        connection.query("CREATE TABLE d.some_items_everything AS SELECT * FROM ML.RECOMMEND(MODEL d.m, TABLE d.some_items)")
        yield connection


@pytest.fixture
def pushed(monkeypatch):
    """(partition column, k) of each ranking the analysis found around an ML.RECOMMEND call."""
    seen = []

    def recording(call, key, prediction):
        limit = ranked_limit(call, key, prediction)
        if limit is not None:
            seen.append((key, limit))
        return limit

    ranked_limit = recommend_function.ranked_limit
    monkeypatch.setattr(recommend_function, "ranked_limit", recording)
    return seen


def rows(con, sql: str) -> list:
    return sorted(map(repr, con.query(sql).arrow().to_pylist()))


@pytest.mark.parametrize(("query", "k"), RANKED)
def test_pushed_top_k_gives_the_rows_of_the_full_output(con, pushed, query, k):
    got = rows(con, query.format(source="ML.RECOMMEND(MODEL d.m)"))
    assert pushed == [("user_id", k)]
    assert got == rows(con, query.format(source="d.everything"))


@pytest.mark.parametrize(("query", "k"), BY_ITEM)
def test_pushed_top_k_per_item_gives_the_rows_of_the_full_output(con, pushed, query, k):
    got = rows(con, query.format(source="ML.RECOMMEND(MODEL d.m)"))
    assert pushed == [("item", k)]
    assert got == rows(con, query.format(source="d.everything"))
    got = rows(con, query.format(source="ML.RECOMMEND(MODEL d.m, TABLE d.some_items)"))  # duplicates and an unseen item
    assert got == rows(con, query.format(source="d.some_items_everything"))


def test_per_item_ranking_over_given_users_keeps_every_row(con, pushed):
    query = "SELECT * FROM {source} QUALIFY ROW_NUMBER() OVER (PARTITION BY item ORDER BY predicted_rating DESC, user_id) <= 2"
    got = rows(con, query.format(source="ML.RECOMMEND(MODEL d.m, TABLE d.some_users)"))
    assert got == rows(con, query.format(source="d.some_everything"))
    assert pushed == [("item", 2)]


@pytest.mark.parametrize(("query", "k"), RANKED[:2])
def test_pushed_top_k_for_given_users_with_duplicates_and_unseen_ones(con, pushed, query, k):
    got = rows(con, query.format(source="ML.RECOMMEND(MODEL d.m, TABLE d.some_users)"))
    assert pushed == [("user_id", k)]
    assert got == rows(con, query.format(source="d.some_everything"))


def emitted_rows(monkeypatch, name: str) -> list[int]:
    """The rows of each batch the function ``name`` of the ML.RECOMMEND module returns, as it streams."""
    emitted = []
    original = getattr(recommend_function, name)

    def counting(*args):
        reader = original(*args)
        return pa.RecordBatchReader.from_batches(reader.schema, (emitted.append(b.num_rows) or b for b in reader))

    monkeypatch.setattr(recommend_function, name, counting)
    return emitted


def test_the_call_emits_only_each_users_best_rows(con, pushed, monkeypatch):
    emitted = emitted_rows(monkeypatch, "recommendations")
    query = "SELECT * FROM ML.RECOMMEND(MODEL d.m) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 3"
    assert con.query(query).arrow().num_rows == 30 * 3
    assert (pushed, sum(emitted)) == ([("user_id", 3)], 30 * 3)  # no ties in these predictions
    con.query("SELECT COUNT(*) FROM ML.RECOMMEND(MODEL d.m)").arrow()
    assert (pushed, sum(emitted)) == ([("user_id", 3)], 30 * 3 + 30 * 12)


def test_a_filter_before_the_ranking_keeps_every_row(con, pushed):
    query = "SELECT * FROM {source} WHERE item != 'm1' QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC, item) <= 2"
    assert rows(con, query.format(source="ML.RECOMMEND(MODEL d.m)")) == rows(con, query.format(source="d.everything"))
    assert pushed == []


def test_the_call_emits_only_each_items_best_users_through_a_with_query(con, pushed, monkeypatch):
    emitted = emitted_rows(monkeypatch, "best_users_per_item")
    query = "WITH recs AS (SELECT * FROM ML.RECOMMEND(MODEL d.m)) SELECT * FROM recs QUALIFY ROW_NUMBER() OVER (PARTITION BY item ORDER BY predicted_rating DESC) <= 5"
    assert con.query(query).arrow().num_rows == 12 * 5
    ranked = "SELECT * FROM d.everything QUALIFY RANK() OVER (PARTITION BY item ORDER BY predicted_rating DESC) <= 5"
    with_ties = con.query(f"SELECT COUNT(*) FROM ({ranked})").arrow().column(0)[0].as_py()
    assert 12 * 5 <= with_ties < 12 * 30  # users 15 apart rate alike: some items have tied users
    assert (pushed, sum(emitted)) == ([("item", 5)], with_ties)
