"""The prediction runtime (sqlml.ml.runtime): one stored model loaded once per version, and the
batches ML.PREDICT streams equal to the runtime's answer for one batch held in memory."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sqlml.errors import InvalidOptionError
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.ml.runtime.predict import prediction_estimator, prediction_table
from sqlml.store.records import ModelRef


def _loaded(con, name: str):
    return CACHE.get(con.models, con.models.resolve(ModelRef.parse(name)))


def test_a_model_version_is_loaded_once_and_a_new_version_is_loaded_anew(ml_con):
    train = "CREATE OR REPLACE MODEL ds.cached OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, target FROM ds.train"
    ml_con.query(train)
    first = _loaded(ml_con, "ds.cached")
    assert _loaded(ml_con, "ds.cached") is first and first.record.version == 1
    ml_con.query(train)
    second = _loaded(ml_con, "ds.cached")
    assert second is not first and second.record.version == 2
    assert _loaded(ml_con, "ds.cached@1") is first


def test_one_batch_gets_exactly_the_rows_ml_predict_streams(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.pca OPTIONS(model_type='pca', num_principal_components=2) AS SELECT x1, x2 FROM ds.train")
    query = "SELECT x1, x2, tier FROM ds.fresh ORDER BY x1 LIMIT 50"
    batch = ml_con.query(query).arrow().combine_chunks().to_batches()[0]
    table = prediction_table(_loaded(ml_con, "ds.pca"), batch)
    expected = ml_con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.pca, ({query}))").arrow()
    # PCA passes only the columns that are not its features through, as ML.PREDICT does without keep_original_columns
    assert table.column_names == expected.column_names == ["principal_component_1", "principal_component_2", "tier"]
    assert table.column("tier").to_pylist() == expected.column("tier").to_pylist()
    for name in ("principal_component_1", "principal_component_2"):
        assert table.column(name).to_pylist() == pytest.approx(expected.column(name).to_pylist(), abs=1e-12)


def test_the_settings_that_choose_the_estimator_are_checked_before_any_row_is_read(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.reg OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, target FROM ds.train")
    model = _loaded(ml_con, "ds.reg")
    assert prediction_estimator(model, None, None, "ML.PREDICT") is model.estimator
    with pytest.raises(InvalidOptionError, match=r"The threshold setting of ML\.PREDICT applies only to binary classification models\."):
        prediction_estimator(model, 0.5, None, "ML.PREDICT")
    with pytest.raises(InvalidOptionError, match=r"The threshold setting of ML\.EXPLAIN_PREDICT applies only"):
        ml_con.query("SELECT * FROM ML.EXPLAIN_PREDICT(MODEL ds.reg, (SELECT 1.0 AS x1), STRUCT(0.5 AS threshold))")
    assert prediction_table(model, pa.RecordBatch.from_pylist([], schema=pa.schema([("x1", pa.float64())]))).num_rows == 0
