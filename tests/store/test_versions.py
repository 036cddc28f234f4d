"""The model registry in SQL: versions, aliases, ML.VERSIONS, lineage, retention, export/import."""

from __future__ import annotations

import json
import multiprocessing
import sys

import numpy as np
import pytest

import sqlml

CREATE = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y']{extra}) AS SELECT x, 2 * x + @b AS y FROM ds.t"


@pytest.fixture
def reg(tmp_path):
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x FROM range(60)")
        yield con


def _train(con, b, extra=""):
    con.query(CREATE.format(extra=extra), {"b": b})


def _intercept(con, name):
    return round(con.query(f"SELECT weight FROM ML.WEIGHTS(MODEL {name}) WHERE processed_input = '__INTERCEPT__'").fetchall()[0][0], 6)


def test_every_create_adds_a_version_and_model_means_default(reg):
    for b in (1, 2, 3):
        _train(reg, b)
    assert [v.version for v in reg.models.versions("ds", "m")] == [1, 2, 3]
    assert _intercept(reg, "ds.m") == 3 and _intercept(reg, "`ds.m@1`") == 1 and _intercept(reg, "`ds.m@2`") == 2


def test_aliases_move_atomically_and_roll_back(reg):
    for b in (1, 2, 3):
        _train(reg, b)
    reg.query("ALTER MODEL `ds.m@2` SET OPTIONS(version_aliases=['staging', 'production'])")
    assert _intercept(reg, "`ds.m@production`") == 2 and _intercept(reg, "`ds.m@staging`") == 2
    reg.query("ALTER MODEL `ds.m@3` SET OPTIONS(version_aliases=['staging'])")  # an alias lives on one version
    aliases = {r[0]: r[1] for r in reg.query("SELECT version, aliases FROM ML.VERSIONS(MODEL ds.m)").fetchall()}
    assert aliases == {1: [], 2: ["production"], 3: ["default", "staging"]}
    reg.query("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['default'])")  # roll back
    assert _intercept(reg, "ds.m") == 1
    with pytest.raises(sqlml.ModelNotFoundError, match=r"(?s)Model ds.m has no alias 'canary'\..*Aliases: default, production, staging"):
        reg.query("SELECT * FROM ML.WEIGHTS(MODEL `ds.m@canary`)")
    with pytest.raises(sqlml.ModelNotFoundError, match=r"Model ds.m has no version 9"):
        reg.query("SELECT * FROM ML.WEIGHTS(MODEL `ds.m@9`)")


def test_alter_model_description_and_labels(reg):
    _train(reg, 1, ", description='first cut', labels=[('team', 'risk')]")
    reg.query("ALTER MODEL ds.m SET OPTIONS(description='credit model', labels=[('owner', 'ana')])")
    record = reg.models.models("ds")[0]
    assert (record.description, record.labels) == ("credit model", {"owner": "ana"})
    with pytest.raises(sqlml.InvalidOptionError, match=r"ALTER MODEL does not accept the option 'l2_reg'"):
        reg.query("ALTER MODEL ds.m SET OPTIONS(l2_reg=1)")


def test_ml_versions_lists_lineage_and_metrics_for_comparison(reg):
    _train(reg, 1)
    _train(reg, 1)
    reg.query("UPDATE ds.t SET x = x + 1 WHERE x < 5")
    _train(reg, 1)
    rows = reg.query("SELECT version, model_type, training_query, input_tables, data_fingerprint, training_rows, "
                     "training_parameters, r2_score, creator FROM ML.VERSIONS(MODEL ds.m) ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][1] == "LINEAR_REG" and rows[0][2] == "SELECT x, 2 * x + @b AS y FROM ds.t" and rows[0][3] == ["ds.t"]
    assert rows[0][4] == rows[1][4] != rows[2][4]  # same data → same fingerprint (retraining is a no-op)
    assert rows[0][5] == 60 and json.loads(rows[0][6]) == {"b": 1}
    assert all(isinstance(r[7], float) for r in rows)
    diff = reg.query("SELECT b.version, b.mean_squared_error - a.mean_squared_error FROM ML.VERSIONS(MODEL ds.m) a "
                     "JOIN ML.VERSIONS(MODEL ds.m) b ON b.version = a.version + 1 ORDER BY 1").fetchall()
    assert [d[0] for d in diff] == [2, 3]
    columns = reg.query("SELECT * FROM ML.VERSIONS(MODEL ds.m)").columns
    assert columns[:4] == ["version", "aliases", "created_at", "model_type"]
    assert {"training_statement", "training_seconds", "eval_rows", "options"} <= set(columns)


def test_drop_one_version_and_retention(reg):
    for b in (1, 2, 3):
        _train(reg, b)
    reg.query("ALTER MODEL `ds.m@2` SET OPTIONS(version_aliases=['production'])")
    with pytest.raises(sqlml.ModelError, match=r"Version 2 of ds.m holds the alias\(es\) production and cannot be dropped"):
        reg.query("DROP MODEL `ds.m@2`")
    reg.query("DROP MODEL `ds.m@1`")
    assert [v.version for v in reg.models.versions("ds", "m")] == [2, 3]
    reg.query("ALTER MODEL ds.m SET OPTIONS(max_versions=2)")
    for b in (4, 5):
        _train(reg, b)
    # the cap removes the oldest unaliased versions; production (2) stays
    assert [v.version for v in reg.models.versions("ds", "m")] == [2, 5]


@pytest.mark.parametrize(
    ("model_type", "label"),
    [("linear_reg", "y"), ("logistic_reg", "big"), ("boosted_tree_classifier", "big"), ("random_forest_regressor", "y"), ("kmeans", None)],
)
def test_export_then_import_as_onnx_predicts_the_same(reg, tmp_path, model_type, label):
    reg.query("CREATE OR REPLACE TABLE ds.d AS SELECT x, 2 * x + 1 AS y, x > 30 AS big, IF(MOD(CAST(x AS INT64), 3) = 0, 'a', 'b') AS k FROM ds.t")
    columns = "x, k" + (f", {label}" if label else "")
    extra = f", input_label_cols=['{label}']" if label else ", num_clusters=2"
    reg.query(f"CREATE OR REPLACE MODEL ds.e OPTIONS(model_type='{model_type}'{extra}) AS SELECT {columns} FROM ds.d")
    folder = tmp_path / "export"
    reg.query(f"EXPORT MODEL ds.e OPTIONS(uri='{folder}')")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model"] == "ds.e" and manifest["onnx"] == "model.onnx"
    assert {f["name"] for f in manifest["features"]} == {"x", "k"}
    assert {"model.json", "arrays.npz", "model.onnx"} <= set(manifest["files"])
    reg.query(f"CREATE OR REPLACE MODEL ds.imported OPTIONS(model_type='ONNX', model_path='{folder / 'model.onnx'}')")
    output = f"predicted_{label}" if label else "CENTROID_ID"
    original = reg.query(f"SELECT {output} FROM ML.PREDICT(MODEL ds.e, TABLE ds.d) ORDER BY x").fetchall()
    imported = reg.query(f"SELECT {output} FROM ML.PREDICT(MODEL ds.imported, TABLE ds.d) ORDER BY x").fetchall()
    if isinstance(original[0][0], float):
        np.testing.assert_allclose([r[0] for r in imported], [r[0] for r in original], rtol=1e-5)
    else:
        assert imported == original


def test_export_without_onnx_form_still_writes_the_folder(reg, tmp_path):
    reg.query("CREATE OR REPLACE MODEL ds.tr TRANSFORM(ML.STANDARD_SCALER(x) OVER () AS s, y) OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, 2 * x AS y FROM ds.t")
    reg.query(f"EXPORT MODEL ds.tr OPTIONS(uri='{tmp_path / 'tr'}')")
    manifest = json.loads((tmp_path / "tr" / "manifest.json").read_text())
    assert manifest["onnx"] is None and "TRANSFORM" in manifest["onnx_unavailable_because"]
    assert manifest["transform"] == "ML.STANDARD_SCALER(x) OVER () AS s, y"
    with pytest.raises(sqlml.InvalidOptionError, match=r"EXPORT MODEL writes to local folders only"):
        reg.query("EXPORT MODEL ds.tr OPTIONS(uri='gs://bucket/x')")


def _train_in_process(root, b, queue):
    with sqlml.connect(root + "/warehouse", root + "/models", idle_release=0) as con:
        con.query(CREATE.format(extra=""), {"b": b})
    queue.put(b)


@pytest.mark.slow
def test_two_processes_training_the_same_model_land_as_distinct_versions(reg, tmp_path):
    _train(reg, 0)
    reg.close()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_train_in_process, args=(str(tmp_path), b, queue)) for b in (10, 20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert sorted(queue.get(timeout=5) for _ in workers) == [10, 20]
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        versions = con.models.versions("ds", "m")
        assert [v.version for v in versions] == [1, 2, 3]
        intercepts = sorted(_intercept(con, f"`ds.m@{v.version}`") for v in versions)
        assert intercepts == [0, 10, 20]
