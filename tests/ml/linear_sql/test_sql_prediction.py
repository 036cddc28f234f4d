"""ML.PREDICT of LINEAR_REG and LOGISTIC_REG as one query DuckDB runs: the same rows, columns and
types as the Python path (within 1e-12), and no Python scoring (see conftest's ``Paths``)."""

from __future__ import annotations

import numpy as np
import pytest

import sqlml
from sqlml.errors import ExecutionError, InvalidModelInputError

FRESH = "SELECT id, x1, x2, k, cat, flag, y FROM ds.fresh"


@pytest.mark.parametrize("name", ["lin", "dummy", "bin", "multi"])
def test_prediction_equals_the_python_path_and_the_estimator(paths, name):
    got = paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.{name}, ({FRESH}))")
    trained = paths.model(f"ds.{name}")
    raw = trained.estimator.predict(trained.features(paths.con.query(FRESH).arrow()))
    label = trained.label["name"]
    outputs = [f"predicted_{label}"] + ([f"predicted_{label}_probs"] if raw.ndim == 2 else [])
    assert got.column_names == [*outputs, "id", "x1", "x2", "k", "cat", "flag", "y"]
    if raw.ndim == 1:
        np.testing.assert_allclose(got.column(f"predicted_{label}").to_numpy(), raw, rtol=1e-12, atol=1e-12)
        return
    classes = trained.classes().to_pylist()
    probs = [{entry["label"]: entry["prob"] for entry in row} for row in got.column(f"predicted_{label}_probs").to_pylist()]
    np.testing.assert_allclose([[row[c] for c in classes] for row in probs], raw, rtol=1e-12, atol=1e-12)
    # the higher label first, as the Python path lists them
    assert [entry["label"] for entry in got.column(f"predicted_{label}_probs")[0].as_py()] == sorted(classes, reverse=True)


def test_unseen_and_null_categories_and_null_or_nan_numbers_are_encoded_as_the_preprocessor_does(paths):
    rows = "SELECT * FROM (VALUES (NULL, NULL, NULL, NULL, NULL), (1.5, CAST('nan' AS FLOAT64), 3, 'zz', TRUE), (0.0, 2.0, NULL, 'a', FALSE)) AS v(x1, x2, k, cat, flag)"
    got = paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.multi, ({rows}))")
    trained = paths.model("ds.multi")
    raw = trained.estimator.predict(trained.features(paths.con.query(rows).arrow()))
    assert got.column("predicted_multi").to_pylist() == trained.classes().take(raw.argmax(axis=1)).to_pylist()


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.9])
def test_binary_threshold_decides_the_class_as_in_python(paths, threshold):
    got = paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.bin, ({FRESH}), STRUCT({threshold} AS threshold))")
    positive = np.array([{e["label"]: e["prob"] for e in row}["lo"] for row in got.column("predicted_cls_probs").to_pylist()])
    assert got.column("predicted_cls").to_pylist() == np.where(positive > threshold, "lo", "hi").tolist()


@pytest.mark.parametrize("settings", ["", ", STRUCT(TRUE AS keep_original_columns)"])
def test_input_columns_pass_through_in_input_order(paths, settings):
    got = paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT y, cat, id, x1, x2, k, flag FROM ds.fresh){settings})")
    assert got.column_names == ["predicted_y", "y", "cat", "id", "x1", "x2", "k", "flag"]


def test_prediction_inside_a_larger_query(paths):
    got = paths.same(
        "WITH input AS (SELECT * FROM ds.fresh WHERE k < 40), "
        "scored AS (SELECT id, predicted_multi, predicted_multi_probs[OFFSET(0)].prob AS first FROM ML.PREDICT(MODEL ds.multi, TABLE input)) "
        "SELECT s.id, s.predicted_multi, s.first, f.y FROM scored AS s JOIN ds.fresh AS f ON f.id = s.id "
        "WHERE s.predicted_multi <> 'g' ORDER BY s.id"
    )
    assert 0 < got.num_rows < 120 and set(got.column("predicted_multi").to_pylist()) <= {"r", "b"}


def test_create_table_as_prediction(paths):
    paths.sql(f"CREATE OR REPLACE TABLE ds.scored AS SELECT * FROM ML.PREDICT(MODEL ds.bin, ({FRESH}))")
    expected = paths.python(f"SELECT * FROM ML.PREDICT(MODEL ds.bin, ({FRESH})) ORDER BY id")
    assert paths.con.query("SELECT * FROM ds.scored ORDER BY id").arrow().equals(paths.sql(f"SELECT * FROM ML.PREDICT(MODEL ds.bin, ({FRESH})) ORDER BY id"))
    assert paths.con.query("SELECT * FROM ds.scored").arrow().schema == expected.schema


def test_missing_column_is_the_python_paths_error(paths):
    with pytest.raises(InvalidModelInputError, match=r"The input has no column flag, which the model was trained on\."):
        paths.sql("SELECT * FROM ML.PREDICT(MODEL ds.lin, (SELECT x1, x2, k, cat FROM ds.fresh))")


def test_switched_off_by_the_environment_variable(paths, monkeypatch):
    monkeypatch.setenv("SQLML_LINEAR_SQL", "off")
    with pytest.raises(ExecutionError, match="AssertionError: a linear model was scored in Python"):
        paths.sql("SELECT * FROM ML.PREDICT(MODEL ds.lin, TABLE ds.fresh)")


def test_duckdb_dialect_statements_get_the_same_rows(paths, tmp_path):
    with sqlml.connect(tmp_path / "w", paths.con.models.root, dialect="duckdb") as duck:
        duck.query("CREATE SCHEMA ds")
        duck.register("fresh_rows", paths.con.query("SELECT * FROM ds.fresh").arrow())
        duck.query("CREATE TABLE ds.fresh AS SELECT * FROM fresh_rows")
        got = paths.same("SELECT * FROM ML.PREDICT(MODEL ds.multi, (SELECT * FROM ds.fresh WHERE x1::DOUBLE > -1))", duck)
        assert 0 < got.num_rows < 120


def test_a_nested_ml_call_in_the_data_is_evaluated_where_the_statement_reads_it(paths):
    inner = f"SELECT * EXCEPT (predicted_y) FROM ML.PREDICT(MODEL ds.lin, ({FRESH}))"
    assert paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.bin, ({inner}))").num_rows == 120


def test_inside_a_transaction(paths):
    paths.con.query("BEGIN TRANSACTION")
    try:
        paths.con.query("CREATE TABLE ds.fresh_copy AS SELECT * FROM ds.fresh")
        assert paths.same("SELECT * FROM ML.PREDICT(MODEL ds.bin, (SELECT * FROM ds.fresh_copy)) ORDER BY id").num_rows == 120
    finally:
        paths.con.query("ROLLBACK")


@pytest.mark.parametrize("label, values", [("bucket", "MOD(k, 3)"), ("positive", "y > 1"), ("level", "CAST(MOD(k, 2) AS FLOAT64) + 0.5")])
def test_integer_boolean_and_float_labels_keep_their_types(paths, label, values):
    paths.con.query(f"CREATE OR REPLACE MODEL ds.typed_label OPTIONS(model_type='logistic_reg', input_label_cols=['{label}']) "
                    f"AS SELECT x1, x2, cat, {values} AS {label} FROM ds.train")  # fmt: skip
    got = paths.same("SELECT * FROM ML.PREDICT(MODEL ds.typed_label, (SELECT x1, x2, cat FROM ds.fresh))")
    classes = paths.model("ds.typed_label").classes().to_pylist()
    assert set(got.column(f"predicted_{label}").to_pylist()) <= set(classes)


def test_a_tuning_trial_is_scored_with_its_own_weights(paths):
    paths.con.query("CREATE OR REPLACE MODEL ds.tuned OPTIONS(model_type='linear_reg', input_label_cols=['y'], num_trials=2, "
                    "l2_reg=HPARAM_RANGE(0.01, 10.0)) AS SELECT x1, x2, cat, y FROM ds.train")  # fmt: skip
    tuned = paths.model("ds.tuned")
    fresh = paths.con.query("SELECT x1, x2, cat FROM ds.fresh").arrow()
    for trial_id, estimator in tuned.trial_estimators.items():
        got = paths.same(f"SELECT * FROM ML.PREDICT(MODEL ds.tuned, (SELECT x1, x2, cat FROM ds.fresh), STRUCT({trial_id} AS trial_id))")
        np.testing.assert_allclose(got.column("predicted_y").to_numpy(), estimator.predict(tuned.features(fresh)), rtol=1e-12, atol=1e-12)


def test_null_categories_unseen_in_training_encode_to_nothing(paths):
    paths.con.query("CREATE OR REPLACE MODEL ds.no_nulls OPTIONS(model_type='linear_reg', input_label_cols=['y']) "
                    "AS SELECT x1, cat, flag, y FROM ds.train WHERE cat IS NOT NULL AND flag IS NOT NULL")  # fmt: skip
    trained = paths.model("ds.no_nulls")
    assert "cat__null_filler" not in trained.preprocessor.feature_names and "flag_true" in trained.preprocessor.feature_names
    got = paths.same("SELECT * FROM ML.PREDICT(MODEL ds.no_nulls, (SELECT x1, cat, flag FROM ds.fresh))")
    fresh = paths.con.query("SELECT x1, cat, flag FROM ds.fresh").arrow()
    np.testing.assert_allclose(got.column("predicted_y").to_numpy(), trained.estimator.predict(trained.features(fresh)), rtol=1e-12, atol=1e-12)
