"""Which queries around ML.RECOMMEND read only each user's k best rows (the syntax-tree analysis)."""

from __future__ import annotations

import pytest
import sqlglot

from sqlml.ml.recommendation.pushdown import per_user_limit
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.expressions import MLFunction

CALL = "ML.RECOMMEND(MODEL d.m)"


def limit_of(sql: str) -> int | None:
    tree = sqlglot.parse_one(sql, read=DIALECTS["bigquery"])
    return per_user_limit(tree.find(MLFunction), "user_id", "predicted_rating")


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
    ],
)
def test_queries_that_may_read_more_rows_get_none(sql):
    assert limit_of(sql) is None
