"""The ML.* preprocessing functions standalone in a SELECT, with the values BigQuery documents."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

import sqlml


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE TABLE docs AS SELECT ['a', 'b', 'a'] AS t UNION ALL SELECT ['b', 'c']")
        yield connection


def _row(con, sql):
    return con.query(sql).fetchall()[0]


def test_bucketize_matches_the_documented_example(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-bucketize
    row = _row(con, "SELECT ML.BUCKETIZE(2.5, [1, 2, 3]) AS bucket, ML.BUCKETIZE(2.5, [1, 2, 3], TRUE), "
                    "ML.BUCKETIZE(2.5, [1, 2, 3], FALSE, 'bucket_ranges'), ML.BUCKETIZE(2.5, [1, 2, 3], FALSE, 'bucket_ranges_json')")
    assert row == ("bin_3", "bin_2", "[2, 3)", '{"start": "2", "end": "3"}')
    edges = _row(con, "SELECT ML.BUCKETIZE(0.5, [1, 2, 3], FALSE, 'bucket_ranges'), ML.BUCKETIZE(9, [1, 2, 3], FALSE, 'bucket_ranges'), ML.BUCKETIZE(NULL, [1, 2])")
    assert edges == ("(-inf, 1)", "[3, +inf)", None)

    empty = _row(con, "SELECT ML.BUCKETIZE(1, [1, 2], TRUE), ML.BUCKETIZE(1, [1, 2], TRUE, 'bucket_ranges'), "
                      "ML.BUCKETIZE(1, [1, 2], TRUE, 'bucket_ranges_json')")
    assert empty == ("bin_1", "(-inf, +inf)", '{"start": "-Infinity", "end": "Infinity"}')  # no split point left: one bucket


def _text(point: float) -> str:
    return repr(float(point)).removesuffix(".0")


def test_bucketize_over_800_split_points_matches_numpy_digitize(con):
    # the NYC taxi lab's ML.BUCKETIZE(pickuplon, GENERATE_ARRAY(-78, -70, 0.01)), standalone and in a TRANSFORM
    points = np.array(con.query("SELECT GENERATE_ARRAY(-78, -70, 0.01)").fetchall()[0][0])
    assert len(points) == 801
    values = np.concatenate([[-80.0, -78.0, -70.0, -69.5], points[::37] + 0.004, points[5::41]])
    con.register("lon_frame", pa.table({"x": values, "i": np.arange(len(values))}))
    digitized = np.digitize(values, points)  # how many split points are <= x; BigQuery's bucket is bin_<that + 1>
    names = [f"bin_{k + 1}" for k in digitized]
    ranges = [f"[{_text(points[k - 1])}, {_text(points[k])})" if 0 < k < len(points) else None for k in digitized]
    standalone = con.query("SELECT ML.BUCKETIZE(x, GENERATE_ARRAY(-78, -70, 0.01)), "
                           "ML.BUCKETIZE(x, GENERATE_ARRAY(-78, -70, 0.01), FALSE, 'bucket_ranges') FROM lon_frame ORDER BY i").fetchall()
    assert [row[0] for row in standalone] == names
    assert [row[1] for row in standalone][:4] == ["(-inf, -78)", "[-78, -77.99)", "[-70, +inf)", "[-70, +inf)"]
    assert [row[1] for row in standalone][4:] == ranges[4:]
    con.query("CREATE SCHEMA IF NOT EXISTS taxi; CREATE OR REPLACE MODEL taxi.buckets "
              "TRANSFORM(ML.BUCKETIZE(x, GENERATE_ARRAY(-78, -70, 0.01)) AS area) OPTIONS(model_type='transform_only') AS SELECT x FROM lon_frame")
    transformed = con.query("SELECT area FROM ML.TRANSFORM(MODEL taxi.buckets, (SELECT x, i FROM lon_frame)) ORDER BY i").fetchall()
    assert [row[0] for row in transformed] == names


def test_scalers_and_imputer(con):
    rows = con.query("SELECT f, ML.STANDARD_SCALER(f) OVER (), ML.MIN_MAX_SCALER(f) OVER (), ML.MAX_ABS_SCALER(f) OVER (), "
                     "ML.ROBUST_SCALER(f) OVER () FROM UNNEST([1, 2, 3, 4, 5]) AS f ORDER BY f").fetchall()
    std = math.sqrt(2.5)
    assert [r[1] for r in rows] == pytest.approx([(f - 3) / std for f in range(1, 6)])
    assert [r[2] for r in rows] == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert [r[3] for r in rows] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert [r[4] for r in rows] == pytest.approx([(f - 3) / 2 for f in range(1, 6)])  # (x - median) / (q75 - q25)
    imputed = con.query("SELECT ML.IMPUTER(f, 'mean') OVER (), ML.IMPUTER(f, 'median') OVER () FROM UNNEST([1, 2, NULL, 4, 6]) AS f").fetchall()
    assert imputed[2] == (3.25, 2.0)  # the median is a value of the column (the lower middle), as BigQuery's
    frequent = con.query("SELECT ML.IMPUTER(s, 'most_frequent') OVER () FROM UNNEST(['a', 'b', NULL, 'b']) AS s").fetchall()
    assert [r[0] for r in frequent] == ["a", "b", "b", "b"]


def test_encoders_follow_the_documented_vocabulary_rules(con):
    rows = con.query(
        "SELECT s, ML.LABEL_ENCODER(s, 2, 2) OVER (), ML.ONE_HOT_ENCODER(s, 'most_frequent', 3, 1) OVER () "
        "FROM UNNEST([NULL, 'a', 'b', 'b', 'c', 'c', 'c', 'd', 'd']) AS s"
    ).fetchall()
    labels = {r[0]: r[1] for r in rows}
    assert labels == {None: 0, "a": 0, "b": 1, "c": 2, "d": 0}  # the doc's top_k 2, threshold 2 example
    one_hot = {r[0]: r[2] for r in rows}
    assert one_hot["a"] == [{"index": 0, "value": 1.0}]  # unknown → index 0
    assert one_hot["c"] == [{"index": 2, "value": 0.0}]  # the dropped most frequent category
    assert one_hot["d"] == [{"index": 3, "value": 1.0}]


def test_hash_bucketize_matches_the_documented_example(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-hash-bucketize
    rows = con.query("SELECT f, ML.HASH_BUCKETIZE(f, 3) AS bucket, ML.HASH_BUCKETIZE(f, 0) AS hashed, FARM_FINGERPRINT(f) AS fp "
                     "FROM UNNEST(['a', 'b', 'c', 'd']) AS f ORDER BY f").fetchall()
    assert [r[1] for r in rows] == [0, 1, 1, 2]
    assert all(r[2] == r[3] for r in rows)  # a size of 0 only hashes
    # an independent check: the unsigned Fingerprint64 modulo 3 (BigQuery's a→0, b→1, c→1, d→2)
    assert [((r[3] + 2**64) % 2**64) % 3 for r in rows] == [0, 1, 1, 2]
    assert _row(con, "SELECT ML.HASH_BUCKETIZE(CAST(NULL AS STRING), 3)") == (None,)


def test_medians_and_quantiles_are_values_of_the_column_as_documented(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-robust-scaler
    robust = con.query("SELECT f, ML.ROBUST_SCALER(f) OVER () FROM UNNEST([NULL, -3, 1, 2, 3, 4, 5]) AS f ORDER BY f").fetchall()
    assert [r[1] for r in robust] == [None, pytest.approx(-5 / 3), pytest.approx(-1 / 3), 0.0, pytest.approx(1 / 3), pytest.approx(2 / 3), 1.0]
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-quantile-bucketize
    buckets = con.query("SELECT f, ML.QUANTILE_BUCKETIZE(f, 3) OVER (), ML.QUANTILE_BUCKETIZE(f, 3, 'bucket_ranges_json') OVER () "
                        "FROM UNNEST([1, 2, 3, 4, 5]) AS f ORDER BY f").fetchall()
    assert [r[1] for r in buckets] == ["bin_1", "bin_2", "bin_2", "bin_3", "bin_3"]
    assert buckets[1][2] == '{"start": "2", "end": "4"}'
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-imputer
    imputed = con.query("SELECT f, ML.IMPUTER(f, 'mean') OVER (), ML.IMPUTER(f, 'median') OVER () "
                        "FROM UNNEST([NULL, -3, -3, -3, 1, 2, 3, 4, 5]) AS f ORDER BY f").fetchall()
    assert imputed[0] == (None, 0.75, 1.0) and imputed[1] == (-3, -3.0, -3.0)


def test_multi_hot_encoder_matches_the_documented_example(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-multi-hot-encoder —
    # vocabulary by the number of rows holding a category (c: 2, a/b/d: 1 → a, b, c), each index once
    rows = con.query("SELECT f[OFFSET(0)] AS f0, ML.MULTI_HOT_ENCODER(f, 3, 1) OVER () AS output FROM "
                     "(SELECT ['a', 'b', 'b', 'c', NULL] AS f UNION ALL SELECT ['c', 'c', 'd', 'd', NULL] AS f) ORDER BY f0").fetchall()
    assert [[e["index"] for e in r[1]] for r in rows] == [[1, 2, 3, 0], [3, 0]]
    assert {e["value"] for r in rows for e in r[1]} == {1.0}


TF_IDF_DOCS = ("SELECT * FROM UNNEST([STRUCT(1 AS id, ['I', 'like', 'pie', 'pie', 'pie', NULL] AS f), (2, ['yum', 'yum', 'pie', NULL]), "
               "(3, ['I', 'yum', 'pie', NULL]), (4, ['you', 'like', 'pie', NULL])])")


def test_tf_idf_matches_the_documented_example_index_0_included(con):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tf-idf — the page's output, digit for digit
    documented = [
        [(0, 0.12679902142647365), (1, 0.1412163100645339), (2, 0.1412163100645339), (3, 0.29389333245105953)],
        [(0, 0.5705955964191315), (3, 0.14694666622552977)],
        [(0, 0.380397064279421), (1, 0.21182446509680086), (3, 0.14694666622552977)],
        [(0, 0.380397064279421), (2, 0.21182446509680086), (3, 0.14694666622552977)],
    ]
    idf = {df: math.log(1 + 4 / (1 + df)) for df in (2, 4)}  # I and like are in 2 documents, pie in 4
    unknown = (2 * idf[2] + idf[4]) / 3  # the mean idf of the dictionary (I, like, pie)
    assert [unknown * share for share in (1 / 6, 3 / 4, 2 / 4, 2 / 4)] == pytest.approx([row[0][1] for row in documented])
    standalone = con.query(f"SELECT ML.TF_IDF(f, 3, 1) OVER () FROM ({TF_IDF_DOCS}) ORDER BY id").fetchall()
    assert [[(e["index"], e["value"]) for e in row[0]] for row in standalone] == [[(i, pytest.approx(v, rel=1e-15)) for i, v in r] for r in documented]
    con.query(f"CREATE SCHEMA IF NOT EXISTS text; CREATE OR REPLACE MODEL text.tf_idf TRANSFORM(ML.TF_IDF(f, 3, 1) OVER () AS v) "
              f"OPTIONS(model_type='transform_only') AS {TF_IDF_DOCS}")
    frozen = con.query(f"SELECT v FROM ML.TRANSFORM(MODEL text.tf_idf, ({TF_IDF_DOCS})) ORDER BY id").fetchall()
    assert [[(e["index"], e["value"]) for e in row[0]] for row in frozen] == [[(i, pytest.approx(v, rel=1e-15)) for i, v in r] for r in documented]


def test_tf_idf_with_an_empty_dictionary_weighs_every_term_0(con):
    # a frequency_threshold no term reaches: everything is the unknown term, and there is no idf to average
    expected = [[{"index": 0, "value": 0.0}]] * 4
    assert [row[0] for row in con.query(f"SELECT ML.TF_IDF(f, 3, 10) OVER () FROM ({TF_IDF_DOCS}) ORDER BY id").fetchall()] == expected
    con.query(f"CREATE SCHEMA IF NOT EXISTS text; CREATE OR REPLACE MODEL text.tf_idf_empty TRANSFORM(ML.TF_IDF(f, 3, 10) OVER () AS v) "
              f"OPTIONS(model_type='transform_only') AS {TF_IDF_DOCS}")
    assert [row[0] for row in con.query(f"SELECT v FROM ML.TRANSFORM(MODEL text.tf_idf_empty, ({TF_IDF_DOCS})) ORDER BY id").fetchall()] == expected

def test_vector_and_text_functions(con):
    row = _row(con, "SELECT ML.POLYNOMIAL_EXPAND(STRUCT(2 AS f1, 3 AS f2)), ML.FEATURE_CROSS(STRUCT('a' AS f1, 'b' AS f2, 'c' AS f3)), "
                    "ML.NGRAMS(['a', 'b', 'c'], [2, 3], '#'), ML.NORMALIZER([3.0, 4.0])")
    assert row[0] == {"f1": 2.0, "f1_f1": 4.0, "f1_f2": 6.0, "f2": 3.0, "f2_f2": 9.0}
    assert row[1] == {"f1_f2": "a_b", "f1_f3": "a_c", "f2_f3": "b_c"}
    assert row[2] == ["a#b", "a#b#c", "b#c"]
    assert row[3] == pytest.approx([0.6, 0.8])
    docs = con.query("SELECT ML.BAG_OF_WORDS(t, 32000, 1) OVER (), ML.TF_IDF(t, 32000, 1) OVER (), ML.MULTI_HOT_ENCODER(t, 32000, 1) OVER () FROM docs ORDER BY len(t) DESC").fetchall()
    assert docs[0][0] == [{"index": 1, "value": 2.0}, {"index": 2, "value": 1.0}]
    tf_idf = {e["index"]: e["value"] for e in docs[0][1]}
    assert tf_idf[1] == pytest.approx(2 / 3 * math.log(1 + 2 / 2))  # tf·ln(1 + N/(1 + df))
    assert tf_idf[2] == pytest.approx(1 / 3 * math.log(1 + 2 / 3))
    assert docs[1][2] == [{"index": 2, "value": 1.0}, {"index": 3, "value": 1.0}]


def test_wrong_usage_is_a_clear_error(con):
    with pytest.raises(sqlml.SqlSyntaxError, match=r"ML.STANDARD_SCALER is an analytic function: write ML.STANDARD_SCALER\(…\) OVER \(\)\."):
        con.query("SELECT ML.STANDARD_SCALER(f) FROM UNNEST([1, 2]) AS f")
    with pytest.raises(sqlml.SqlSyntaxError, match=r"ML.BUCKETIZE is a scalar function and takes no OVER clause\."):
        con.query("SELECT ML.BUCKETIZE(f, [1]) OVER () FROM UNNEST([1, 2]) AS f")
    with pytest.raises(sqlml.InvalidOptionError, match=r"ML.IMPUTER's strategy must be 'mean', 'median' or 'most_frequent'"):
        con.query("SELECT ML.IMPUTER(f, 'mode') OVER () FROM UNNEST([1, 2]) AS f")
