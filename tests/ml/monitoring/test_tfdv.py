"""ML.TFDV_DESCRIBE and ML.TFDV_VALIDATE: TFDV's statistics and anomalies as BigQuery returns them
(JSON in tensorflow_metadata's shapes), checked against NumPy and SciPy."""

from __future__ import annotations

import collections
import json

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon

import sqlml


@pytest.fixture(scope="module")
def con():
    rng = np.random.default_rng(5)
    base = pd.DataFrame({
        "amount": np.concatenate([[0.0, 100.0], rng.uniform(0, 100, 198)]),
        "plan": rng.choice(["basic", "plus", "pro"], 200, p=[0.6, 0.3, 0.1]),
        "visits": rng.integers(0, 5, 200),
    })  # fmt: skip
    study = pd.DataFrame({
        "amount": np.concatenate([[0.0, 100.0], rng.uniform(0, 100, 98) ** 2 / 100]),
        "plan": rng.choice(["basic", "plus", "pro"], 100, p=[0.2, 0.3, 0.5]),
        "visits": rng.integers(0, 5, 100),
    })  # fmt: skip
    with sqlml.connect(":memory:") as connection:
        connection.register("base_frame", base)
        connection.register("study_frame", study)
        connection.query("CREATE SCHEMA ds; CREATE TABLE ds.base AS SELECT * FROM base_frame; CREATE TABLE ds.study AS SELECT * FROM study_frame")
        connection.query("CREATE TABLE ds.nested AS SELECT [1, 2, 3] AS tags, STRUCT('a' AS kind) AS info UNION ALL SELECT [4], STRUCT('b' AS kind) UNION ALL SELECT NULL, NULL")
        yield connection, base, study


def describe(con, source: str, settings: str = "") -> dict:
    rows = con.query(f"SELECT dataset_feature_statistics_list FROM ML.TFDV_DESCRIBE({source}{settings})").fetchall()
    assert len(rows) == 1
    return json.loads(rows[0][0])


def features(statistics: dict) -> dict:
    return {".".join(f["path"]["step"]): f for f in statistics["datasets"][0]["features"]}


def test_numeric_statistics(con):
    connection, base, _ = con
    statistics = describe(connection, "TABLE ds.base", ", STRUCT(4 AS num_histogram_buckets, 5 AS num_quantiles_histogram_buckets)")
    assert statistics["datasets"][0]["numExamples"] == "200"
    amount = features(statistics)["amount"]
    assert amount["type"] == "FLOAT"
    stats = amount["numStats"]
    values = base["amount"].to_numpy()
    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["stdDev"] == pytest.approx(values.std())  # TFDV's population standard deviation
    assert "min" not in stats  # 0.0, which protobuf's JSON leaves out
    assert (stats["max"], stats["median"]) == (100.0, pytest.approx(np.median(values)))
    assert stats["numZeros"] == "1"
    assert stats["commonStats"] == {"numNonMissing": "200", "minNumValues": "1", "maxNumValues": "1", "avgNumValues": 1.0, "totNumValues": "200"}
    standard, quantiles = stats["histograms"]
    counts, edges = np.histogram(values, bins=4, range=(0.0, 100.0))
    assert [b["sampleCount"] for b in standard["buckets"]] == counts.tolist()
    assert [b.get("lowValue", 0.0) for b in standard["buckets"]] == edges[:-1].tolist()
    assert quantiles["type"] == "QUANTILES" and len(quantiles["buckets"]) == 5
    assert [b["highValue"] for b in quantiles["buckets"]] == pytest.approx(np.quantile(values, [0.2, 0.4, 0.6, 0.8, 1.0]).tolist())
    assert features(statistics)["visits"]["type"] == "INT"


def test_string_statistics(con):
    connection, base, _ = con
    plan = features(describe(connection, "(SELECT plan FROM ds.base)", ", STRUCT(2 AS num_rank_histogram_buckets)"))["plan"]
    counts = collections.Counter(base["plan"])
    stats = plan["stringStats"]
    assert plan["type"] == "STRING"
    assert stats["unique"] == "3"
    assert stats["topValues"] == [{"value": v, "frequency": float(c)} for v, c in counts.most_common()]
    assert stats["avgLength"] == pytest.approx(np.mean([len(v) for v in base["plan"]]))
    (first, c1), (second, c2) = counts.most_common(2)
    # proto JSON leaves zero values out: the first bucket has no lowRank/highRank
    assert stats["rankHistogram"]["buckets"] == [
        {"label": first, "sampleCount": float(c1)},
        {"lowRank": "1", "highRank": "1", "label": second, "sampleCount": float(c2)},
    ]


def test_arrays_and_structs(con):
    connection, _, _ = con
    found = features(describe(connection, "TABLE ds.nested"))
    assert set(found) == {"tags", "info.kind"}
    common = found["tags"]["numStats"]["commonStats"]
    assert (common["numNonMissing"], common["numMissing"], common["minNumValues"], common["maxNumValues"], common["totNumValues"]) == ("2", "1", "1", "3", "4")
    assert common["avgNumValues"] == 2.0
    assert found["tags"]["numStats"]["mean"] == 2.5


def test_validate_reports_skew_with_tfdv_measurements(con):
    connection, base, study = con
    result = connection.query("""
        DECLARE base_stats JSON;
        DECLARE study_stats JSON;
        SET base_stats = (SELECT * FROM ML.TFDV_DESCRIBE(TABLE ds.base));
        SET study_stats = (SELECT * FROM ML.TFDV_DESCRIBE(TABLE ds.study));
        SELECT ML.TFDV_VALIDATE(base_stats, study_stats, 'SKEW', 0.1, 'L_INFTY', 0.05)
    """).fetchall()[0][0]
    anomalies = json.loads(result)
    measured = {".".join(m["path"]["step"]): m["skewMeasurements"][0] for m in anomalies["driftSkewInfo"]}
    # categorical: the largest difference of one value's share (L-infinity)
    p = base["plan"].value_counts(normalize=True)
    q = study["plan"].value_counts(normalize=True)
    assert measured["plan"] == {"type": "L_INFTY", "value": pytest.approx((p - q).abs().max()), "threshold": 0.1}
    # numeric: Jensen-Shannon divergence of the 10-bucket histograms (both span 0..100, so the buckets agree)
    hp, _ = np.histogram(base["amount"], bins=10, range=(0, 100))
    hq, _ = np.histogram(study["amount"], bins=10, range=(0, 100))
    assert measured["amount"]["value"] == pytest.approx(jensenshannon(hp, hq, base=2) ** 2)
    assert set(anomalies["anomalyInfo"]) == {"plan", "amount"}
    info = anomalies["anomalyInfo"]["plan"]
    assert info["severity"] == "ERROR" and info["reason"][0]["type"] == "COMPARATOR_L_INFTY_HIGH"
    assert info["shortDescription"] == "High Linfty distance between training and serving"
    assert info["description"].startswith(f"The Linfty distance between training and serving is {(p - q).abs().max():.6g}")


def test_validate_drift_with_defaults_and_per_column_thresholds(con):
    connection, _, _ = con
    stats = "(SELECT * FROM ML.TFDV_DESCRIBE(TABLE ds.{}))"
    same = json.loads(connection.query(f"SELECT ML.TFDV_VALIDATE({stats.format('base')}, {stats.format('base')}, 'DRIFT')").fetchall()[0][0])
    assert "anomalyInfo" not in same
    assert {m["driftMeasurements"][0]["value"] for m in same["driftSkewInfo"]} == {0.0}
    loose = connection.query(
        f"SELECT ML.TFDV_VALIDATE({stats.format('base')}, {stats.format('study')}, 'DRIFT', 0.3, 'L_INFTY', 0.3, "
        "'JENSEN_SHANNON_DIVERGENCE', [STRUCT('plan', 0.9)])"
    ).fetchall()[0][0]
    assert "plan" not in json.loads(loose).get("anomalyInfo", {})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("ML.TFDV_VALIDATE('{}', '{}')", r"base_statistics must be a DatasetFeatureStatisticsList in JSON"),
        ("ML.TFDV_VALIDATE(s, s, 'SIDEWAYS')", r"detection_type must be 'SKEW' or 'DRIFT'; got 'SIDEWAYS'"),
        ("ML.TFDV_VALIDATE(s, s, 'SKEW', 1.5)", r"Thresholds must lie in \[0, 1\)"),
        ("ML.TFDV_VALIDATE(s)", r"No matching signature for function ML.TFDV_VALIDATE: it takes 2 to 8 arguments; got 1\."),
    ],
)
def test_validate_errors(con, call, message):
    connection, _, _ = con
    with pytest.raises(sqlml.Error, match=message):
        connection.query(f"SELECT {call} FROM (SELECT * FROM ML.TFDV_DESCRIBE(TABLE ds.base)) AS t(s)").fetchall()


def test_bytes_dates_and_arrays_of_structs(con):
    connection, _, _ = con
    found = features(describe(connection, "(SELECT b'ab' AS raw, DATE '2020-01-02' AS day, [STRUCT('k' AS key)] AS params "
                                          "UNION ALL SELECT b'abcd', DATE '2020-01-02', [] UNION ALL SELECT NULL, NULL, NULL)"))
    assert found["raw"]["type"] == "BYTES"
    assert {k: v for k, v in found["raw"]["bytesStats"].items() if k != "commonStats"} == {"unique": "2", "avgNumBytes": 3.0, "minNumBytes": 2.0, "maxNumBytes": 4.0}
    assert found["day"]["type"] == "STRING" and found["day"]["stringStats"]["topValues"] == [{"value": "2020-01-02", "frequency": 2.0}]
    assert found["params"]["type"] == "STRUCT"
    assert found["params"]["structStats"]["commonStats"]["totNumValues"] == "1"
