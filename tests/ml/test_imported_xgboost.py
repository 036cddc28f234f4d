"""CREATE MODEL … OPTIONS(model_type='XGBOOST', model_path=…): XGBoost models from JSON/UBJSON files,
scored and explained by XGBoost itself (the predictions and importances are compared, exactly, with
the booster called directly on the same rows)."""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
import pyarrow as pa
import pytest
import xgboost as xgb
from sqlglot import parse_one

import sqlml
from sqlml.ml.models.model import Model
from sqlml.ml.models.xgboost_file import booster
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.ml.training.io_clauses import io_clauses
from sqlml.store.records import ModelRef

NAMES = ["a", "b", "c"]
OBJECTIVES = {
    "regression": ({"objective": "reg:squarederror"}, lambda X: X[:, 0] * 2 + np.sin(X[:, 1])),
    "binary": ({"objective": "binary:logistic"}, lambda X: (X[:, 0] + X[:, 2] > 0).astype(float)),
    "multiclass": ({"objective": "multi:softprob", "num_class": 3}, lambda X: np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5]).astype(float)),
}


def _booster(kind: str, names=NAMES, rounds: int = 8) -> xgb.Booster:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 3))
    X[rng.random(X.shape) < 0.1] = np.nan  # trained with missing values: learned default directions
    params, label = OBJECTIVES[kind]
    return xgb.train({**params, "max_depth": 3, "seed": 1}, xgb.DMatrix(X, np.nan_to_num(label(X)), feature_names=names), rounds)


def _rows(booster: xgb.Booster) -> np.ndarray:
    """Random rows with NaNs, plus rows on every split value and on its float64 neighbours."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 3))
    X[rng.random(X.shape) < 0.15] = np.nan
    splits = booster.trees_to_dataframe().dropna(subset=["Split"])
    on_splits = []
    for feature, value in zip(splits["Feature"], splits["Split"]):
        for v in (value, np.nextafter(value, -np.inf), np.nextafter(value, np.inf)):
            row = rng.normal(size=3)
            row[NAMES.index(feature) if feature in NAMES else int(feature[1:])] = v
            on_splits.append(row)
    return np.vstack([X, on_splits])


def _table(X: np.ndarray, names=NAMES) -> pa.Table:
    columns = {name: pa.array(X[:, i], from_pandas=True) for i, name in enumerate(names)}  # NaN → NULL
    return pa.table({**columns, "id": pa.array(np.arange(len(X)))})


@pytest.fixture
def con(tmp_path):
    with sqlml.connect(":memory:", tmp_path / "models") as connection:
        connection.query("CREATE SCHEMA ds")
        yield connection


@pytest.mark.parametrize("kind", list(OBJECTIVES))
@pytest.mark.parametrize("suffix", [".json", ".ubj", ".bst"])
def test_predictions_equal_the_boosters_own_on_nulls_and_split_values(con, tmp_path, kind, suffix):
    booster = _booster(kind)
    path = tmp_path / f"model{suffix}"
    path.write_bytes(booster.save_raw("json" if suffix == ".json" else "ubj"))  # .bst: what XGBoost ≥ 2 writes there
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{path}')")
    path.write_bytes(b"not a model any more")  # the store kept its own copy
    X = _rows(booster)
    con.register("rows", _table(X))
    result = con.query("SELECT * FROM ML.PREDICT(MODEL ds.x, (SELECT * FROM rows ORDER BY id))").arrow()
    expected = booster.predict(xgb.DMatrix(X, feature_names=NAMES)).astype(np.float64)
    assert result.column_names == ["predicted_label", "a", "b", "c", "id"]
    if kind == "multiclass":
        assert result.schema.field("predicted_label").type == pa.list_(pa.float64())
        got = np.vstack(result.column("predicted_label").to_pylist())
    else:
        assert result.schema.field("predicted_label").type == pa.float64()
        got = result.column("predicted_label").to_numpy()
    assert np.array_equal(got, expected)


def test_feature_importance_is_xgboosts_get_score(con, tmp_path):
    X = np.random.default_rng(5).normal(size=(400, 3))
    X[:, 2] = 1.0  # a constant column: no split uses it, get_score leaves it out
    y = np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5])
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, xgb.DMatrix(X, y, feature_names=["a", "b", "unused"]), 6)
    booster.save_model(str(tmp_path / "m.json"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')")
    table = con.query("SELECT * FROM ML.FEATURE_IMPORTANCE(MODEL ds.x)").arrow()
    assert table.schema == pa.schema([("feature", pa.string())] + [(f"importance_{k}", pa.float64()) for k in ("weight", "gain", "cover")])
    assert table.column("feature").to_pylist() == ["a", "b", "unused"]
    for kind in ("weight", "gain", "cover"):
        scores = booster.get_score(importance_type=kind)
        assert "unused" not in scores
        assert table.column(f"importance_{kind}").to_pylist() == [scores["a"], scores["b"], 0.0]


def test_feature_types_give_the_input_types_and_the_importance_of_trained_models_is_refused_elsewhere(con, tmp_path):
    booster = _booster("regression")
    booster.feature_types = ["float", "int", "i"]
    booster.save_model(str(tmp_path / "m.ubj"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.ubj'}')")
    record = con.models.resolve(ModelRef("ds", "x"))
    inputs = CACHE.get(con.models, record).spec["imported"]["inputs"]
    assert inputs == [{"name": "a", "type": "FLOAT64"}, {"name": "b", "type": "INT64"}, {"name": "c", "type": "BOOL"}]
    assert sorted(record.checksums) == ["arrays.npz", "model.json", "xgboost.ubj"]
    con.query("CREATE TABLE ds.t AS SELECT 1.5 AS a, 2 AS b, TRUE AS c")
    with pytest.raises(sqlml.ModelError, match=r"ML.EVALUATE does not support XGBOOST models"):
        con.query("SELECT * FROM ML.EVALUATE(MODEL ds.x, TABLE ds.t)")


def test_input_and_output_clauses_name_the_columns_of_an_unnamed_booster(con, tmp_path):
    booster = _booster("binary", names=None)
    booster.save_model(str(tmp_path / "m.json"))
    with pytest.raises(sqlml.InvalidOptionError, match=r"(?s)does not name its 3 features .*INPUT\(f1 FLOAT64, …\)"):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')")
    con.query(
        f"CREATE MODEL ds.x INPUT(p FLOAT64, q INT64, r NUMERIC) OUTPUT(score FLOAT64) "
        f"OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')"
    )
    X = _rows(booster)
    con.register("fresh", _table(X, names=["P", "q", "r"]))  # matched by name, in any case
    result = con.query("SELECT * FROM ML.PREDICT(MODEL ds.x, TABLE fresh)").arrow()
    assert result.column_names == ["score", "P", "q", "r", "id"]
    assert np.array_equal(result.column("score").to_numpy(), booster.predict(xgb.DMatrix(X)).astype(np.float64))
    importance = con.query("SELECT feature FROM ML.FEATURE_IMPORTANCE(MODEL ds.x) ORDER BY feature").fetchall()
    assert [row[0] for row in importance] == ["p", "q", "r"]


def test_trained_model_types_refuse_input_and_output_clauses(con):
    con.query("CREATE TABLE ds.train AS SELECT x, 2 * x AS y FROM UNNEST(GENERATE_ARRAY(1, 20)) AS x")
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^INPUT\(…\) and OUTPUT\(…\) describe an imported model file; model_type='LINEAR_REG' is trained from its query\.") as caught:
        con.query("CREATE MODEL ds.lin INPUT(x FLOAT64) OUTPUT(y FLOAT64) OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT * FROM ds.train")
    assert caught.value.location.line == 1
    assert con.query("SELECT count(*) FROM ds.INFORMATION_SCHEMA.MODELS").fetchall() == [(0,)]




@pytest.mark.parametrize(
    ("clauses", "error"),
    [
        ("INPUT(p FLOAT64, q STRING, r FLOAT64) OUTPUT(o FLOAT64)", r"INPUT column q is STRING; XGBoost models take numeric inputs"),
        ("INPUT(p FLOAT64) OUTPUT(o FLOAT64)", r"INPUT declares 1 columns; the model in .* has 3 features"),
        ("INPUT(p FLOAT64, q FLOAT64, r FLOAT64) OUTPUT(o FLOAT64, o2 FLOAT64)", r"OUTPUT\(o FLOAT64, o2 FLOAT64\) does not fit the model, which has one FLOAT64 output"),
        ("INPUT(p FLOAT64, q FLOAT64, r FLOAT64) OUTPUT(o STRING)", r"OUTPUT\(o STRING\) does not fit the model"),
    ],
)
def test_input_and_output_clauses_that_do_not_fit_are_clear_errors(tmp_path, clauses, error):
    _booster("regression", names=None).save_model(str(tmp_path / "m.json"))
    statement = f"CREATE MODEL ds.x {clauses} OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')"
    options = {"model_path": str(tmp_path / "m.json"), **io_clauses(parse_one(statement, read="sqlml").args["properties"].expressions)}
    with pytest.raises(sqlml.InvalidOptionError, match=error):
        Model.from_file("XGBOOST", options)


def test_input_names_must_be_the_boosters_feature_names_and_only_xgboost_takes_clauses(tmp_path):
    _booster("regression").save_model(str(tmp_path / "m.json"))
    options = {"model_path": str(tmp_path / "m.json"), "_input": [{"name": n, "type": "FLOAT64"} for n in ("a", "x", "c")]}
    with pytest.raises(sqlml.InvalidOptionError, match=r"(?s)INPUT column 2 is x, but the model calls that feature b.*Name the INPUT columns as the model does: a, b, c"):
        Model.from_file("XGBOOST", options)
    with pytest.raises(sqlml.InvalidOptionError, match=r"INPUT\(…\) OUTPUT\(…\) clauses are for model_type='XGBOOST', not 'ONNX'"):
        Model.from_file("ONNX", {**options, "model_path": str(tmp_path / "m.onnx")})


def test_a_folder_path_reads_its_model_file(con, tmp_path):
    folder = tmp_path / "exported"
    folder.mkdir()
    booster = _booster("regression")
    (folder / "model.bst").write_bytes(booster.save_raw("ubj"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{folder}/*')")
    X = _rows(booster)
    con.register("rows", _table(X))
    got = con.query("SELECT predicted_label FROM ML.PREDICT(MODEL ds.x, (SELECT * FROM rows ORDER BY id))").arrow().column(0).to_numpy()
    assert np.array_equal(got, booster.predict(xgb.DMatrix(X, feature_names=NAMES)).astype(np.float64))


def _forged(tmp_path, array: str, node: int, value: int) -> bytes:
    """A JSON model whose first tree's ``array[node]`` is ``value`` (XGBoost itself would segfault)."""
    document = json.loads(_booster("regression").save_raw("json"))
    document["learner"]["gradient_booster"]["model"]["trees"][0][array][node] = value
    return json.dumps(document).encode()


def _forged_count(tmp_path) -> bytes:
    """A UBJSON model whose first typed array claims 2**40 elements."""
    content = bytes(_booster("regression").save_raw("ubj"))
    at = content.index(b"left_children[$l#L") + len(b"left_children[$l#L")
    return content[:at] + (1 << 40).to_bytes(8, "big") + content[at + 8 :]


def _truncated(tmp_path, suffix: str) -> bytes:
    _booster("regression").save_model(str(tmp_path / f"full{suffix}"))
    content = (tmp_path / f"full{suffix}").read_bytes()
    return content[: len(content) // 2]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (lambda tmp: b"hello, world", r"is not an XGBoost JSON or UBJSON model \(the legacy binary format of XGBoost < 2 is not read\)"),
        (lambda tmp: b"", r"bad.bin is empty"),
        (lambda tmp: pickle.dumps(_booster("regression")), r"is a Python pickle, which sqlml never loads \(unpickling can run code\)"),
        (lambda tmp: _truncated(tmp, ".json"), r"is not a valid XGBoost JSON model: (Unterminated string|Expecting)"),
        (lambda tmp: _truncated(tmp, ".ubj"), r"is not a valid XGBoost UBJSON model: the document ends inside a value at byte \d+"),
        (lambda tmp: b'{"learner": 1}', r"is not a valid XGBoost JSON model: it has no learner"),
        (lambda tmp: _forged(tmp, "left_children", 0, 99999), r"is not a valid XGBoost JSON model: tree 0: node 0 links to nodes 99999 and \d+ on feature \d+ \(of \d+ nodes, 3 features\)"),
        (lambda tmp: _forged(tmp, "left_children", 1, 2), r"is not a valid XGBoost JSON model: tree 0: node 2 is reached twice"),
        (lambda tmp: _forged(tmp, "split_indices", 0, 7), r"tree 0: node 0 links to nodes \d+ and \d+ on feature 7 \(of \d+ nodes, 3 features\)"),
        (lambda tmp: _forged_count(tmp), r"is not a valid XGBoost UBJSON model: a length of 1099511627776 at byte \d+"),
    ],
    ids=["text", "empty", "pickle", "truncated-json", "truncated-ubjson", "other-json", "child-out-of-range", "cycle", "feature-out-of-range", "ubjson-count"],
)
def test_bad_files_are_clear_errors_and_leave_no_model(con, tmp_path, content, error):
    (tmp_path / "bad.bin").write_bytes(content(tmp_path))
    with pytest.raises(sqlml.ModelError, match=error):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'bad.bin'}')")
    assert not con.models.exists("ds", "x")


def test_linear_and_categorical_boosters_are_refused(con, tmp_path):
    X = np.random.default_rng(3).normal(size=(100, 2))
    xgb.train({"booster": "gblinear"}, xgb.DMatrix(X, X[:, 0], feature_names=["a", "b"]), 2).save_model(str(tmp_path / "lin.json"))
    with pytest.raises(sqlml.ModelError, match=r"lin.json is a 'gblinear' booster; sqlml imports tree boosters \(gbtree, dart\)\."):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'lin.json'}')")
    codes = np.floor(np.abs(X) * 2)
    data = xgb.DMatrix(codes, X[:, 0], feature_names=["a", "b"], feature_types=["q", "c"], enable_categorical=True)
    xgb.train({"tree_method": "hist", "max_cat_to_onehot": 1}, data, 2).save_model(str(tmp_path / "cat.json"))
    with pytest.raises(sqlml.ModelError, match=r"cat.json has categorical features; sqlml imports XGBoost models with numeric features only"):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'cat.json'}')")


def test_missing_and_non_numeric_columns_are_named(con, tmp_path):
    _booster("regression").save_model(str(tmp_path / "m.json"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')")
    with pytest.raises(sqlml.InvalidModelInputError, match=r"The input has no column b, which the imported XGBoost model needs") as info:
        con.query("SELECT * FROM ML.PREDICT(MODEL ds.x, (SELECT 1.0 AS a, 2.0 AS c))")
    assert info.value.column == "b"
    with pytest.raises(sqlml.InvalidModelInputError, match=r"(?s)The column a is string; the imported XGBoost model takes it as FLOAT64.*CAST\(a AS FLOAT64\)"):
        con.query("SELECT * FROM ML.PREDICT(MODEL ds.x, (SELECT 'x' AS a, 1 AS b, 2 AS c))")


def test_a_model_file_changed_in_the_store_fails_its_checksum(con, tmp_path):
    _booster("regression").save_model(str(tmp_path / "m.json"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')")
    stored = con.models.resolve(ModelRef("ds", "x")).folder / "xgboost.json"
    stored.write_bytes(stored.read_bytes().replace(b'"learner"', b'"learner" ', 1))
    CACHE._models.clear()
    with pytest.raises(sqlml.CorruptModelError, match=r"(?s)the file xgboost.json does not match its recorded checksum"):
        con.query("SELECT * FROM ML.PREDICT(MODEL ds.x, (SELECT 1.0 AS a, 2.0 AS b, 3.0 AS c))")


def test_without_the_xgboost_extra_the_error_says_how_to_install_it(con, tmp_path, monkeypatch):
    _booster("regression").save_model(str(tmp_path / "m.json"))
    monkeypatch.setitem(sys.modules, "xgboost", None)  # import xgboost → ImportError
    with pytest.raises(sqlml.ModelError, match=r'(?s)model_type=.XGBOOST. needs the xgboost package, which is not installed.*pip install "sqlml\[xgboost\]"'):
        con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')")


def test_export_model_writes_the_imported_file_xgboost_loads(con, tmp_path):
    booster = _booster("multiclass")
    booster.save_model(str(tmp_path / "m.json"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / 'm.json'}')")
    con.query(f"EXPORT MODEL ds.x OPTIONS(uri='{tmp_path / 'out'}')")
    exported = xgb.Booster(model_file=str(tmp_path / "out" / "xgboost.json"))
    X = _rows(booster)
    assert np.array_equal(exported.predict(xgb.DMatrix(X, feature_names=NAMES)), booster.predict(xgb.DMatrix(X, feature_names=NAMES)))
    assert (tmp_path / "out" / "xgboost.json").read_bytes() == (tmp_path / "m.json").read_bytes()


def test_versions_and_nulls_as_missing_values(con, tmp_path):
    first, second = _booster("regression", rounds=3), _booster("regression", rounds=9)
    first.save_model(str(tmp_path / "1.json"))
    second.save_model(str(tmp_path / "2.json"))
    con.query(f"CREATE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / '1.json'}')")
    con.query(f"CREATE OR REPLACE MODEL ds.x OPTIONS(model_type='XGBOOST', model_path='{tmp_path / '2.json'}')")
    row = np.array([[np.nan, 0.25, np.nan]])
    for name, booster in (("`ds.x@1`", first), ("ds.x", second)):
        got = con.query(f"SELECT predicted_label FROM ML.PREDICT(MODEL {name}, (SELECT NULL AS a, 0.25 AS b, CAST(NULL AS INT64) AS c))").fetchall()
        assert got == [(float(booster.predict(xgb.DMatrix(row, feature_names=NAMES))[0]),)]


def test_a_stored_model_is_checked_again_before_xgboost_loads_it(tmp_path):
    # a forged catalog can forge the file's checksum too: the loaded file is walked again
    _booster("regression").save_model(str(tmp_path / "m.json"))
    model = Model.from_file("XGBOOST", {"model_path": str(tmp_path / "m.json")})
    model.files["xgboost.json"] = _forged(tmp_path, "right_children", 0, 10**6)
    with pytest.raises(sqlml.CorruptModelError, match=r"The stored XGBoost model is not valid: tree 0: node 0 links to nodes \d+ and 1000000"):
        booster(model)
