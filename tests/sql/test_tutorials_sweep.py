"""Statements from BigQuery ML's reference pages and tutorials that a sweep of them found failing,
run as published on small generated tables.

ML.DISTANCE and ML.LP_NORM on sparse vectors —
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-distance: a vector
is ``ARRAY<numeric>`` or ``ARRAY<STRUCT<STRING|INT64, numeric>>``, "the values are matched by the
identifier rather than by their position in the array", duplicate identifiers are an error. The
sparse form is what ML.BAG_OF_WORDS and ML.TF_IDF return, so documents compare directly. Values are
checked against SciPy on the dense vectors the pairs stand for (a missing identifier is 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import distance

import sqlml

SPARSE_A = "[STRUCT('a' AS k, 1.0 AS v), ('b', 2.0)]"
SPARSE_B = "[('c', 4.0), ('a', 3.0)]"  # another order: matched by identifier
DENSE_A, DENSE_B = [1.0, 2.0, 0.0], [3.0, 0.0, 4.0]  # over (a, b, c)


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        yield connection


def test_distance_of_sparse_vectors_matches_scipy_on_their_dense_form(con):
    result = con.query(
        f"SELECT ML.DISTANCE({SPARSE_A}, {SPARSE_B}) AS euclidean, ML.DISTANCE({SPARSE_A}, {SPARSE_B}, 'MANHATTAN') AS manhattan, "
        f"ML.DISTANCE({SPARSE_A}, {SPARSE_B}, 'COSINE') AS cosine"
    )
    assert [str(t) for t in result.arrow().schema.types] == ["double"] * 3
    (euclidean, manhattan, cosine), = result.fetchall()
    assert euclidean == pytest.approx(distance.euclidean(DENSE_A, DENSE_B))
    assert manhattan == pytest.approx(distance.cityblock(DENSE_A, DENSE_B))
    assert cosine == pytest.approx(distance.cosine(DENSE_A, DENSE_B))


def test_distance_of_bag_of_words_documents(con):
    # ML.BAG_OF_WORDS returns ARRAY<STRUCT<index INT64, value FLOAT64>>: documents compare as returned
    rows = con.query("""
        WITH docs AS (SELECT 1 AS id, ['a', 'b', 'b', 'c'] AS f UNION ALL SELECT 2, ['a', 'c'] UNION ALL SELECT 3, ['b', 'd']),
        bags AS (SELECT id, ML.BAG_OF_WORDS(f, 32, 1) OVER () AS bag FROM docs)
        SELECT x.id, y.id AS other, ML.DISTANCE(x.bag, y.bag, 'COSINE') AS d
        FROM bags x CROSS JOIN bags y WHERE x.id < y.id ORDER BY 1, 2""").fetchall()
    counts = {1: [1, 2, 1, 0], 2: [1, 0, 1, 0], 3: [0, 1, 0, 1]}  # words a, b, c, d
    assert [(i, j) for i, j, _ in rows] == [(1, 2), (1, 3), (2, 3)]
    for i, j, d in rows:
        assert d == pytest.approx(distance.cosine(counts[i], counts[j]))


def test_lp_norm_of_a_sparse_vector(con):
    (l2, l1, linf, l0), = con.query(
        f"SELECT ML.LP_NORM({SPARSE_A}, 2) AS l2, ML.LP_NORM({SPARSE_A}, 1.0) AS l1, "
        f"ML.LP_NORM({SPARSE_A}, CAST('INF' AS FLOAT64)) AS linf, ML.LP_NORM([(1, 0.0), (2, -5.0)], 0.0) AS l0"
    ).fetchall()
    assert (l2, l1, linf, l0) == pytest.approx((np.linalg.norm([1.0, 2.0]), 3.0, 2.0, 1.0))


def test_sparse_vectors_null_and_dense_unchanged(con):
    row = con.query(
        "SELECT ML.DISTANCE(CAST(NULL AS ARRAY<STRUCT<k STRING, v FLOAT64>>), [STRUCT('a' AS k, 1.0 AS v)]) AS n, "
        "ML.DISTANCE([1, 2], [3, 5], 'MANHATTAN') AS dense"
    ).fetchall()
    assert row == [(None, 5.0)]


def test_duplicate_identifiers_are_an_error(con):
    with pytest.raises(sqlml.Error, match=r"^ML\.DISTANCE got a vector with duplicate identifiers\."):
        con.query("SELECT ML.DISTANCE([STRUCT(1 AS k, 1.0 AS v), (1, 2.0)], [(1, 3.0)])").fetchall()


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT ML.DISTANCE(['a'], ['b'])", r"^No matching signature for function ML\.DISTANCE for argument types: VARCHAR\[\], VARCHAR\[\]\. Supported: "),
        ("SELECT ML.DISTANCE([STRUCT('a' AS k, 1.0 AS v)], [1.0])", r"^No matching signature for function ML\.DISTANCE for argument types: STRUCT\(k VARCHAR, v DOUBLE\)\[\], DOUBLE\[\]\."),
        ("SELECT ML.LP_NORM(['a'], 2)", r"^No matching signature for function ML\.LP_NORM for argument type: VARCHAR\[\]\. Supported: "),
    ],
)
def test_vectors_of_other_types_are_refused(con, sql, message):
    with pytest.raises(sqlml.Error, match=message):
        con.query(sql).fetchall()


# VECTOR_SEARCH — https://cloud.google.com/bigquery/docs/reference/standard-sql/search_functions#vector_search:
# the ML embedding tutorials search ML.GENERATE_EMBEDDING output with it (exact here: no vector index).
BASE = {1: [1.0, 0.0], 2: [0.0, 1.0], 3: [1.0, 1.0], 4: None}
QUERIES = {"x": [0.9, 0.1], "y": [0.1, 2.0]}


@pytest.fixture(scope="module")
def vectors(con):
    rows = ", ".join(f"({i}, {'NULL' if v is None else v}, 'n{i}')" for i, v in BASE.items())
    con.query(f"CREATE SCHEMA vs; CREATE TABLE vs.base AS SELECT * FROM UNNEST([STRUCT(0 AS id, [0.0] AS embedding, '' AS name), {rows}]) WHERE id > 0")
    con.query(f"CREATE TABLE vs.q AS SELECT * FROM UNNEST([STRUCT('x' AS qid, {QUERIES['x']} AS embedding), ('y', {QUERIES['y']})])")
    return con


def _nearest(query, metric, k):
    def score(v):
        a, b = np.array(v), np.array(query)
        return {"EUCLIDEAN": distance.euclidean(a, b), "COSINE": distance.cosine(a, b), "DOT_PRODUCT": -float(a @ b)}[metric]
    return sorted(((score(v), i) for i, v in BASE.items() if v is not None))[:k]


def test_vector_search_returns_query_base_distance(vectors):
    result = vectors.query("SELECT * FROM VECTOR_SEARCH(TABLE vs.base, 'embedding', TABLE vs.q, top_k => 2)")
    assert [(f.name, str(f.type)) for f in result.arrow().schema] == [
        ("query", "struct<qid: string, embedding: list<l: double>>"),
        ("base", "struct<id: int64, embedding: list<l: double>, name: string>"),
        ("distance", "double"),
    ]
    rows = sorted((r["query"]["qid"], r["distance"], r["base"]["id"]) for r in result.arrow().to_pylist())
    expected = sorted((q, d, i) for q, v in QUERIES.items() for d, i in _nearest(v, "EUCLIDEAN", 2))
    assert [(q, i) for q, _, i in rows] == [(q, i) for q, _, i in expected]
    assert [d for _, d, _ in rows] == pytest.approx([d for _, d, _ in expected])


@pytest.mark.parametrize("metric", ["COSINE", "DOT_PRODUCT"])
def test_vector_search_query_column_and_distance_type(vectors, metric):
    rows = vectors.query(
        "SELECT query.qid, base.id, distance FROM VECTOR_SEARCH((SELECT id, embedding FROM vs.base WHERE id > 1), 'embedding', "
        f"(SELECT qid, embedding AS e FROM vs.q), 'e', top_k => 1, distance_type => '{metric}', "
        """options => '{"fraction_lists_to_search": 0.5}') ORDER BY qid"""
    ).fetchall()
    nearest = {q: min((d, i) for d, i in _nearest(v, metric, 4) if i > 1) for q, v in QUERIES.items()}
    assert [(q, i) for q, i, _ in rows] == [(q, nearest[q][1]) for q in sorted(QUERIES)]
    assert [d for _, _, d in rows] == pytest.approx([nearest[q][0] for q in sorted(QUERIES)])


def test_vector_search_distance_type_is_checked(vectors):
    with pytest.raises(sqlml.SqlTypeError, match=r"^The distance_type of VECTOR_SEARCH must be 'EUCLIDEAN', 'COSINE' or 'DOT_PRODUCT'\. Got 'HAMMING' instead\."):
        vectors.query("SELECT * FROM VECTOR_SEARCH(TABLE vs.base, 'embedding', TABLE vs.q, distance_type => 'HAMMING')")


# Implicit aliases — https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#implicit_aliases:
# GA tutorials select RECORD fields (device.operatingSystem) and group or order by the field's name.
@pytest.fixture(scope="module")
def sessions(con):
    con.query(
        "CREATE SCHEMA ga; CREATE TABLE ga.sessions AS SELECT * FROM UNNEST([STRUCT(STRUCT('ios' AS operatingSystem) AS device, 1 AS visits), "
        "(STRUCT('android'), 2), (STRUCT('ios'), 5)])"
    )
    return con


def test_group_and_order_by_a_record_fields_implicit_alias(sessions):
    result = sessions.query(
        "SELECT device.operatingSystem, SUM(visits) AS visits FROM ga.sessions GROUP BY operatingSystem HAVING SUM(visits) > 0 ORDER BY operatingSystem"
    )
    assert result.arrow().schema.names == ["operatingSystem", "visits"]
    assert result.fetchall() == [("android", 2), ("ios", 6)]


def test_order_by_a_qualified_paths_implicit_alias(sessions):
    assert sessions.query("SELECT s.device.operatingSystem FROM ga.sessions AS s ORDER BY operatingSystem DESC").fetchall() == [("ios",), ("ios",), ("android",)]


@pytest.mark.parametrize(
    ("sql", "statement"),
    [
        ("CREATE VECTOR INDEX my_index ON vs.base(embedding) OPTIONS(index_type = 'IVF', distance_type = 'COSINE')", "CREATE VECTOR INDEX"),
        ("CREATE OR REPLACE VECTOR INDEX my_index ON vs.base(embedding) OPTIONS(index_type = 'TREE_AH')", "CREATE VECTOR INDEX"),
        ("DROP VECTOR INDEX my_index ON vs.base", "DROP VECTOR INDEX"),
    ],
)
def test_vector_indexes_are_refused_with_the_reason(vectors, sql, statement):
    with pytest.raises(sqlml.UnsupportedStatementError, match=rf"^sqlml does not support the statement {statement} …") as caught:
        vectors.query(sql)
    assert caught.value.hint == "sqlml keeps no indexes: VECTOR_SEARCH reads every row (an exact search), so remove the statement."
