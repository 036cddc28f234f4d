"""Which queries around ML.RECOMMEND read only each user's (or item's) k best rows (the syntax-tree analysis)."""

from __future__ import annotations

import pytest
import sqlglot

from sqlml.ml.recommendation.pushdown import ranked_limit
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.expressions import MLFunction

CALL = "ML.RECOMMEND(MODEL d.m)"


def limit_of(sql: str, key: str = "user_id") -> int | None:
    tree = sqlglot.parse_one(sql, read=DIALECTS["bigquery"])
    return ranked_limit(tree.find(MLFunction), key, "predicted_rating")


@pytest.mark.parametrize(
    ("sql", "k"),
    [
        (f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10", 10),
        (f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY USER_ID ORDER BY Predicted_Rating DESC, item_id) < 4", 3),
        (f"SELECT * FROM {CALL} AS r QUALIFY 5 >= RANK() OVER (PARTITION BY r.user_id ORDER BY r.predicted_rating DESC)", 5),
        (f"SELECT user_id, item_id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) AS rn FROM {CALL} QUALIFY rn <= 7", 7),
        (f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10 AND predicted_rating > 3", 10),
        (f"SELECT user_id, ARRAY_AGG(STRUCT(item_id, predicted_rating) ORDER BY predicted_rating DESC LIMIT 5) AS top FROM {CALL} GROUP BY user_id", 5),
        (f"SELECT user_id, ARRAY_AGG(item_id ORDER BY predicted_rating DESC LIMIT 2), ARRAY_AGG(predicted_rating ORDER BY predicted_rating DESC LIMIT 4) FROM {CALL} GROUP BY user_id", 4),
        (f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) AS rn FROM {CALL}) WHERE rn <= 3", 3),
        ("SELECT * FROM ML.RECOMMEND(MODEL d.m, (SELECT user_id FROM d.u)) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2", 2),
        (f"CREATE TABLE d.t AS SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10", 10),
        # through pass-through layers: a WITH query named once, a subquery, both, row-wise extra columns
        (f"WITH recs AS (SELECT * FROM {CALL}) SELECT * FROM recs QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 6", 6),
        (f"WITH recs AS (SELECT user_id, item_id, predicted_rating, predicted_rating * 2 AS twice FROM {CALL}) "
         "SELECT user_id, ARRAY_AGG(item_id ORDER BY predicted_rating DESC LIMIT 3) FROM recs GROUP BY user_id", 3),
        (f"SELECT * FROM (SELECT * FROM {CALL}) AS r QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2", 2),
        (f"WITH a AS (SELECT * FROM {CALL}), b AS (SELECT * FROM (SELECT * FROM a)) "
         "SELECT * FROM b QUALIFY RANK() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 4", 4),
        (f"WITH r AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) AS rn FROM {CALL}) SELECT * FROM r WHERE rn <= 5", 5),
    ],
)
def test_best_k_per_user_is_found(sql, k):
    assert limit_of(sql) == k


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT * FROM {CALL}",
        f"SELECT * FROM {CALL} ORDER BY predicted_rating DESC LIMIT 10",  # 10 rows overall, not per user
        f"SELECT * FROM {CALL} WHERE item_id > 3 QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10",
        f"SELECT * FROM {CALL} JOIN d.items USING (item_id) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10",
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating) <= 10",  # worst, not best
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY predicted_rating DESC) <= 10",
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY item_id DESC) <= 10",
        f"SELECT * FROM {CALL} QUALIFY DENSE_RANK() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10",
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) >= 10",
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= @k",
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10 OR item_id = 1",
        f"SELECT *, COUNT(*) OVER (PARTITION BY user_id) AS n FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10",
        f"SELECT user_id, -predicted_rating AS predicted_rating FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10",
        f"SELECT user_id, COUNT(*), ARRAY_AGG(item_id ORDER BY predicted_rating DESC LIMIT 5) FROM {CALL} GROUP BY user_id",
        f"SELECT user_id, ARRAY_AGG(item_id ORDER BY predicted_rating DESC) FROM {CALL} GROUP BY user_id",
        f"SELECT user_id, ARRAY_AGG(DISTINCT item_id ORDER BY predicted_rating DESC LIMIT 5) FROM {CALL} GROUP BY user_id",
        f"SELECT user_id, ARRAY_AGG(item_id IGNORE NULLS ORDER BY predicted_rating DESC LIMIT 5) FROM {CALL} GROUP BY user_id",
        f"SELECT item_id, ARRAY_AGG(user_id ORDER BY predicted_rating DESC LIMIT 5) FROM {CALL} GROUP BY item_id",
        f"SELECT user_id, ARRAY_AGG(item_id ORDER BY predicted_rating DESC LIMIT 5) FROM {CALL} GROUP BY user_id HAVING COUNT(*) > 3",
        f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) AS rn FROM {CALL}) AS s JOIN d.x USING (user_id) WHERE rn <= 3",
        f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) AS rn FROM {CALL}) WHERE rn <= 3 OR rn = 100",
        f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 0",
        f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) AS rn FROM {CALL} LIMIT 50) WHERE rn <= 3",
        # a pass-through layer that drops rows or changes a column, or a WITH query read twice
        f"SELECT * FROM (SELECT * FROM {CALL} WHERE item_id > 3) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2",
        f"SELECT * FROM (SELECT * FROM {CALL} LIMIT 100) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2",
        f"SELECT * FROM (SELECT DISTINCT * FROM {CALL}) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2",
        f"SELECT * FROM (SELECT user_id, item_id, -predicted_rating AS predicted_rating FROM {CALL}) "
        "QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2",
        f"SELECT * FROM (SELECT *, COUNT(*) OVER () AS n FROM {CALL}) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2",
        f"WITH recs AS (SELECT * FROM {CALL}) SELECT * FROM recs QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2 "
        "UNION ALL SELECT * FROM recs",
        f"WITH recs AS (SELECT * FROM {CALL}) SELECT * FROM recs QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2 "
        "AND item_id IN (SELECT item_id FROM recs)",
        f"WITH recs AS (SELECT * FROM {CALL}) SELECT * FROM recs JOIN d.u USING (user_id) QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 2",
    ],
)
def test_queries_that_may_read_more_rows_get_none(sql):
    assert limit_of(sql) is None


@pytest.mark.parametrize(
    ("sql", "k"),
    [
        (f"SELECT * FROM {CALL} QUALIFY ROW_NUMBER() OVER (PARTITION BY item_id ORDER BY predicted_rating DESC) <= 10", 10),
        (f"SELECT item_id, ARRAY_AGG(user_id ORDER BY predicted_rating DESC LIMIT 5) FROM {CALL} GROUP BY item_id", 5),
        (f"WITH recs AS (SELECT * FROM {CALL}) SELECT * FROM recs QUALIFY RANK() OVER (PARTITION BY item_id ORDER BY predicted_rating DESC) < 3", 2),
    ],
)
def test_best_k_per_item_is_found_for_the_item_column(sql, k):
    assert (limit_of(sql, "item_id"), limit_of(sql, "user_id")) == (k, None)
