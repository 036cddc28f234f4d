"""The served rows' path without Arrow: JSON values straight to the feature matrix through the
model's own encoders (Preprocessor.row_encoding), its estimator, and the output dicts written from
the raw outputs (RowOutputs). Compared with ML.PREDICT on a boosted tree, a logistic regression
with one-hot encoding and standardization, a linear regression and a TRANSFORM model; and the
errors the path must still give."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.models.base import Target
from sqlml.serve import scoring
from sqlml.serve.app import create_app
from sqlml.serve.inputs import input_columns
from sqlml.serve.models import ModelSet
from sqlml.serve.outputs import RowOutputs

FEATURES = "x1, x2, cat, flag"
MODELS = {
    "bt": "OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['label'], max_iterations=5)",
    "lr": "OPTIONS(model_type='logistic_reg', input_label_cols=['label'])",
    "reg": "OPTIONS(model_type='linear_reg', input_label_cols=['y'])",
    "tf": "TRANSFORM(x1 * 2 AS x1d, cat, label) OPTIONS(model_type='logistic_reg', input_label_cols=['label'])",
}
OUTPUTS = {"bt": "label", "lr": "label", "reg": "y", "tf": "label"}
#: Nulls, a category not seen in training, an integer for the FLOAT64 column, both booleans.
INSTANCES = [
    {"x1": 0.25, "x2": 3, "cat": "a", "flag": True},
    {"x1": None, "x2": 7, "cat": "c", "flag": False},
    {"x1": 4, "x2": None, "cat": "unseen", "flag": None},
    {"x1": -1.5, "x2": 12, "cat": None, "flag": True},
    {"x1": 2.75, "x2": 0, "cat": "b", "flag": False},
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rows")
    with sqlml.connect(folder / "wh", folder / "models", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT (i % 17) / 4.0 - 1 AS x1, CAST(i % 13 AS BIGINT) AS x2, "
            "['a', 'b', 'c'][OFFSET(i % 3)] AS cat, i % 5 = 0 AS flag, (i % 17) / 4.0 + (i % 13) / 3.0 + IF(i % 3 = 0, 2, 0) AS y, "
            "(i % 17) / 4.0 + (i % 13) / 3.0 + IF(i % 3 = 0, 2, 0) > 4 AS label FROM range(300) AS r(i)"
        )
        for name, options in MODELS.items():
            label = OUTPUTS[name]
            con.query(f"CREATE MODEL ds.{name} {options} AS SELECT {FEATURES}, {label} FROM ds.t")
        models = ModelSet(con.models, [f"ds.{name}" for name in MODELS], refresh_seconds=60)
        yield con, models
        models.close()


def ml_predict(con, name: str, rows: list[dict]) -> list[dict]:
    """ML.PREDICT's output columns for ``rows``, computed by the SQL function."""

    def sql(value, kind):
        return f"CAST(NULL AS {kind})" if value is None else f"CAST({value!r} AS {kind})"

    selects = " UNION ALL ".join(
        f"SELECT {k} AS k, {sql(r['x1'], 'DOUBLE')} AS x1, {sql(r['x2'], 'BIGINT')} AS x2, {sql(r['cat'], 'VARCHAR')} AS cat, "
        f"{sql(r['flag'], 'BOOLEAN')} AS flag" for k, r in enumerate(rows)
    )  # fmt: skip
    table = con.query(f"SELECT * FROM ML.PREDICT(MODEL ds.{name}, (SELECT * FROM ({selects}) ORDER BY k))").arrow()
    outputs = [column for column in table.column_names if column.startswith(f"predicted_{OUTPUTS[name]}")]
    return table.select(outputs).to_pylist()


def post_all(app, name: str, bodies: list[dict]) -> list[httpx.Response]:
    async def run():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as client:
            return await asyncio.gather(*(client.post(f"/v1/models/ds.{name}:predict", json=body) for body in bodies))

    return asyncio.run(run())


def assert_rows_equal(served: list[dict], expected: list[dict]) -> None:
    """Equal labels, and values within 1e-12 (a linear model's ML.PREDICT may be a DuckDB expression)."""
    assert len(served) == len(expected)
    for got, want in zip(served, expected):
        assert list(got) == list(want)
        for column, value in want.items():
            if isinstance(value, list):  # the class probabilities, higher label first
                assert [entry["label"] for entry in got[column]] == [entry["label"] for entry in value]
                assert [entry["prob"] for entry in got[column]] == pytest.approx([entry["prob"] for entry in value], abs=1e-12)
            elif isinstance(value, float):
                assert got[column] == pytest.approx(value, abs=1e-12)
            else:
                assert got[column] == value


@pytest.mark.parametrize("name", ["bt", "lr", "reg", "tf"])
def test_served_rows_are_ml_predicts_alone_batched_and_together(store, name):
    con, models = store
    app = create_app(models, con.models)
    expected = ml_predict(con, name, INSTANCES)
    alone = [post_all(app, name, [{"instances": [row]}])[0] for row in INSTANCES]  # one client: each scored alone
    concurrent = post_all(app, name, [{"instances": [row]} for row in INSTANCES])  # scored in a shared batch
    (together,) = post_all(app, name, [{"instances": INSTANCES}])
    for responses in (alone, concurrent, [together]):
        assert [r.status_code for r in responses] == [200] * len(responses)
        assert_rows_equal([p for r in responses for p in r.json()["predictions"]], expected)
    batcher = app.state.batchers.get(models.get(f"ds.{name}").model)
    if name == "tf":  # a TRANSFORM model's inputs are not known ahead: the route scores it, through ML.PREDICT's runtime
        assert batcher is None
    else:
        assert batcher.batches >= len(INSTANCES) + 2


@pytest.mark.parametrize("name", ["bt", "lr", "reg"])
def test_the_row_encoding_is_the_preprocessors_transform_of_the_same_rows(store, name):
    _, models = store
    model = models.get(f"ds.{name}").model
    columns = input_columns(model)
    encoding = scoring.row_encoding(model, columns)
    typed = columns.typed(INSTANCES)
    expected = model.preprocessor.transform(columns.batch([typed]))
    assert np.array_equal(encoding.features(typed), expected, equal_nan=True)  # bitwise, NaN where the encoders keep one
    outputs = RowOutputs.of(model, scoring.prediction_plan(model, columns.schema, inputs=False).schema)
    assert outputs is not None and (outputs.classes is None) == (model.target is Target.REGRESSION)


def test_an_int64_beyond_float64s_exact_integers_leaves_the_row_encoding_to_transform(store):
    _, models = store
    model = models.get("ds.lr").model
    columns = input_columns(model)
    encoding = scoring.row_encoding(model, columns)
    assert encoding.features(columns.typed([{**INSTANCES[0], "x2": 2**53 + 1}])) is None
    assert encoding.features(columns.typed([{**INSTANCES[0], "x2": 2**53}])) is not None


@pytest.mark.parametrize("name", ["bt", "lr"])
@pytest.mark.parametrize(
    ("instance", "error"),
    [
        (
            {"x1": 1.0, "x2": 3, "cat": "a", "flg": True},  # a column the model does not know, instead of one it needs
            {"error": "The instances have no column flag, which the model was trained on.",
             "hint": "Give every instance a 'flag' field (null for a missing value)."},
        ),  # fmt: skip
        ({"x1": "abc", "x2": 3, "cat": "a", "flag": True}, "The column x1 has a value that is not double: Could not convert 'abc'"),
        ({"x1": 1.0, "x2": True, "cat": "a", "flag": True}, "The column x2 has a value that is not int64: "),
        (
            {"x1": 1.0, "x2": 2.5, "cat": "a", "flag": True},
            {"error": "The column x2 has a value that is not int64: 2.5 is not a whole number.",
             "hint": "Send x2 as a whole number, or retrain with x2 as FLOAT64."},
        ),  # fmt: skip
    ],
)
def test_what_the_row_path_refuses_is_refused_with_the_column_alone_and_in_a_batch(store, name, instance, error):
    con, models = store
    app = create_app(models, con.models)
    responses = post_all(app, name, [{"instances": [INSTANCES[0]]}, {"instances": [instance]}, {"instances": [INSTANCES[1]]}])
    assert [r.status_code for r in responses] == [200, 400, 200]
    if isinstance(error, dict):
        assert responses[1].json() == error
    else:
        assert responses[1].json()["error"].startswith(error)
    assert_rows_equal([responses[0].json()["predictions"][0], responses[2].json()["predictions"][0]], ml_predict(con, name, INSTANCES[:2]))


def test_row_outputs_are_made_only_for_a_regressor_or_classifier(store):
    _, models = store
    model = models.get("ds.bt").model
    assert RowOutputs.of(model, pa.schema([pa.field("CENTROID_ID", pa.int64()), pa.field("x", pa.float64())])) is None
