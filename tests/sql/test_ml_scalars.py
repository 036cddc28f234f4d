"""ML.DISTANCE and ML.LP_NORM, BigQuery's vector functions, on dense ARRAY<numeric> vectors (sparse ones: test_tutorials_sweep).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-distance and
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-lp-norm (the
published example: ``ML.LP_NORM(v1, 2.0)`` over ``[4.1,0.5,1.0]`` and ``[3.0,0.0,2.5]``).
Values are checked against NumPy / SciPy.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import distance

import sqlml

A, B = [4.1, 0.5, 1.0], [3.0, 0.0, 2.5]


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query(
            "CREATE SCHEMA mydataset; CREATE TABLE mydataset.t1 ( v1 ARRAY<FLOAT64>, v2 ARRAY<FLOAT64> ); "
            "INSERT mydataset.t1 (v1,v2) VALUES ([4.1,0.5,1.0], [3.0,0.0,2.5]), (NULL, [1.0, 2.0, 3.0])"
        )
        yield connection


def test_distance_types_match_scipy(con):
    result = con.query(
        "SELECT ML.DISTANCE(v1, v2) AS euclidean_default, ML.DISTANCE(v1, v2, 'EUCLIDEAN') AS euclidean, "
        "ML.DISTANCE(v1, v2, 'MANHATTAN') AS manhattan, ML.DISTANCE(v1, v2, 'cosine') AS cosine FROM mydataset.t1 ORDER BY v1 NULLS LAST"
    )
    assert result.columns == ["euclidean_default", "euclidean", "manhattan", "cosine"]
    rows = result.fetchall()
    expected = (distance.euclidean(A, B), distance.euclidean(A, B), distance.cityblock(A, B), distance.cosine(A, B))
    assert rows[0] == pytest.approx(expected)
    assert rows[1] == (None, None, None, None)  # NULL if either vector is NULL


def test_distance_of_int64_arrays(con):
    assert con.query("SELECT ML.DISTANCE([1, 2], [3, 5], 'MANHATTAN') AS d").fetchall() == [(5.0,)]


def test_lp_norm_published_example_and_degrees(con):
    result = con.query(
        "SELECT v1, ML.LP_NORM(v1, 2.0) AS v1_norm, v2, ML.LP_NORM(v2, 2.0) AS v2_norm, ML.LP_NORM(v2, 1.0) AS l1, "
        "ML.LP_NORM(v2, 3.0) AS l3, ML.LP_NORM(v2, 0.0) AS l0, ML.LP_NORM(v2, CAST('INF' AS FLOAT64)) AS linf "
        "FROM mydataset.t1 ORDER BY v1 NULLS LAST"
    )
    assert result.columns == ["v1", "v1_norm", "v2", "v2_norm", "l1", "l3", "l0", "linf"]
    first, second = result.fetchall()
    assert first[1] == pytest.approx(np.linalg.norm(A)) and first[3] == pytest.approx(np.linalg.norm(B))
    assert first[4:] == pytest.approx((np.linalg.norm(B, 1), np.linalg.norm(B, 3), 2.0, 3.0))
    assert second[1] is None  # NULL if the vector is NULL


def test_distance_refuses_an_unknown_type(con):
    with pytest.raises(sqlml.SqlTypeError, match=r"^The type argument of ML.DISTANCE must be 'EUCLIDEAN', 'MANHATTAN' or 'COSINE'\. Got 'HAMMING' instead\.") as caught:
        con.query("SELECT ML.DISTANCE([1.0], [2.0], 'HAMMING')")
    assert (caught.value.location.line, caught.value.location.col) == (1, 8)


@pytest.mark.parametrize("kind", ["EUCLIDEAN", "MANHATTAN", "COSINE"])
def test_distance_refuses_vectors_of_different_lengths(con, kind):
    with pytest.raises(sqlml.Error, match=r"^ML.DISTANCE needs two vectors of the same length\."):
        con.query(f"SELECT ML.DISTANCE([1.0, 2.0], [3.0], '{kind}')").fetchall()


def test_lp_norm_refuses_a_degree_between_0_and_1(con):
    with pytest.raises(sqlml.Error, match=r"^The degree of ML.LP_NORM must be 0.0, at least 1.0, or CAST\('INF' AS FLOAT64\); got 0.5\."):
        con.query("SELECT ML.LP_NORM([1.0], 0.5)").fetchall()


def test_wrong_argument_counts_say_so(con):
    with pytest.raises(sqlml.SqlTypeError, match=r"^No matching signature for function ML.LP_NORM: it takes 2 to 2 arguments; got 1\."):
        con.query("SELECT ML.LP_NORM([1.0])")


@pytest.mark.parametrize(
    ("call", "name"),
    [
        ("SELECT AI.GENERATE('Write a haiku', connection_id => 'us.c', endpoint => 'gemini-2.0-flash').result", "AI.GENERATE"),
        ("SELECT AI.IF('Is it about cats?', connection_id => 'us.c')", "AI.IF"),
        ("SELECT * FROM AI.FORECAST((SELECT 1 AS d, 2 AS v), data_col => 'v', timestamp_col => 'd', horizon => 10)", "AI.FORECAST"),
        ("SELECT * FROM AI.DETECT_ANOMALIES((SELECT 1 AS a), (SELECT 1 AS a), data_col => 'a', timestamp_col => 'a')", "AI.DETECT_ANOMALIES"),
    ],
)
def test_ai_functions_say_they_need_a_google_hosted_model(con, call, name):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate and
    # bigqueryml-syntax-ai-forecast: Gemini / TimesFM calls, not "Unknown function forecast"
    with pytest.raises(sqlml.UnsupportedStatementError) as caught:
        con.query(call).fetchall()
    assert caught.value.message == (
        f"{name} calls a Google-hosted model (Gemini, TimesFM, a Vertex AI endpoint), which sqlml cannot reach: it runs models locally."
    )
    assert "ML.FORECAST" in caught.value.hint
