"""CREATE MODEL … OPTIONS(model_type='ONNX' | 'LIGHTGBM', model_path=…): models from files."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

import sqlml


@pytest.fixture
def con(tmp_path):
    with sqlml.connect(":memory:", tmp_path / "models") as connection:
        connection.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS a, CAST(range % 7 AS DOUBLE) AS b FROM range(200)")
        yield connection


def test_lightgbm_text_model_predicts_like_the_booster(con, tmp_path):
    data = con.query("SELECT a, b FROM ds.t ORDER BY a").df()
    booster = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(data.values, data["a"] * 2 + data["b"], feature_name=["a", "b"]), 10)
    path = tmp_path / "booster.txt"
    booster.save_model(str(path))
    con.query(f"CREATE MODEL ds.lgb OPTIONS(model_type='LIGHTGBM', model_path='{path}')")
    path.write_text("not a model")  # the store kept its own copy
    got = [r[0] for r in con.query("SELECT predicted_label FROM ML.PREDICT(MODEL ds.lgb, TABLE ds.t) ORDER BY a").fetchall()]
    np.testing.assert_allclose(got, booster.predict(data.values), rtol=1e-12)


def test_third_party_onnx_model_outputs_its_own_names(con, tmp_path):
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    data = con.query("SELECT a, b FROM ds.t ORDER BY a").df()
    regression = LinearRegression().fit(data[["a", "b"]].values, data["a"] * 3 - data["b"])
    proto = to_onnx(regression, data[["a", "b"]].values.astype(np.float32)[:1], target_opset=15)
    (tmp_path / "m.onnx").write_bytes(proto.SerializeToString())
    con.query(f"CREATE MODEL ds.sk OPTIONS(model_type='ONNX', model_path='{tmp_path / 'm.onnx'}')")
    # skl2onnx names its single input X (a [N, 2] tensor): give it as an array column
    result = con.query("SELECT * FROM ML.PREDICT(MODEL ds.sk, (SELECT [CAST(a AS FLOAT), CAST(b AS FLOAT)] AS X, a FROM ds.t ORDER BY a))").arrow()
    assert result.column_names == ["variable", "X", "a"]
    np.testing.assert_allclose(result.column("variable").to_numpy(), regression.predict(data[["a", "b"]].values), rtol=1e-5)


def test_bad_model_files_are_clear_errors(con, tmp_path):
    with pytest.raises(sqlml.InvalidOptionError, match=r"model_type='ONNX' needs model_path='…'"):
        con.query("CREATE MODEL ds.x OPTIONS(model_type='ONNX')")
    with pytest.raises(sqlml.InvalidOptionError, match=r"The model file .*nope.onnx does not exist"):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='ONNX', model_path='{tmp_path / 'nope.onnx'}')")
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(sqlml.ModelError, match=r"is not a valid ONNX model"):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='ONNX', model_path='{tmp_path / 'bad.onnx'}')")
    assert not con.models.exists("ds", "x")
