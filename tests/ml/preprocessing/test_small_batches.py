"""A few rows (a served request) take a faster preprocessing path that gives bit for bit the
feature matrix of the general column-by-column path, and the same errors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.errors import InvalidModelInputError
from sqlml.ml.preprocessing.automatic.preprocessor import SMALL_BATCH_ROWS, Preprocessor

FEATURES = ["x", "y", "k", "s", "b", "t"]


def _table(rng: np.random.Generator, rows: int) -> pa.Table:
    """Mixed columns with NULLs, unseen categories and several chunks."""
    missing = rng.random((4, rows)) < 0.15
    columns = {
        "x": pa.array(rng.normal(3, 2, rows), mask=missing[0]),
        "y": pa.array(rng.normal(-1, 5, rows)),
        "k": pa.array(rng.integers(0, 9, rows), mask=missing[1]),
        "s": pa.array([f"c{v}" for v in rng.integers(0, 12, rows)], mask=missing[2]),
        "b": pa.array(rng.random(rows) < 0.4, mask=missing[3]),
        "t": pa.array(rng.integers(1.6e15, 1.7e15, rows), pa.timestamp("us", tz="UTC")),
    }
    table = pa.table(columns)
    return pa.concat_tables([table.slice(0, rows // 2), table.slice(rows // 2)])


@pytest.fixture(scope="module", params=[(True, "one_hot"), (False, "label"), (True, "dummy")], ids=["linear", "tree", "dummy"])
def fitted(request):
    standardize, categorical = request.param
    training = _table(np.random.default_rng(1), 400).combine_chunks()
    return Preprocessor.fit(training, FEATURES, standardize=standardize, categorical=categorical), training


def _general(preprocessor: Preprocessor, table: pa.Table) -> np.ndarray:
    """The general path's matrix of ``table``'s rows: they are scored inside a batch too large for
    the small-batch path, then cut out."""
    filler = pa.concat_tables([table] * (SMALL_BATCH_ROWS // max(table.num_rows, 1) + 1))
    return preprocessor.transform(filler)[: table.num_rows]


@pytest.mark.parametrize("rows", [1, 3, 64, 65, 512])
def test_small_batches_equal_the_general_path_bit_for_bit(fitted, rows):
    preprocessor, _ = fitted
    table = _table(np.random.default_rng(rows), rows)
    expected = _general(preprocessor, table)
    for data in (table, table.combine_chunks().to_batches()[0]):
        got = preprocessor.transform(data)
        assert got.shape == (rows, preprocessor.width)
        assert got.tobytes() == expected.tobytes()


def test_numeric_and_categorical_features_match_a_direct_computation(fitted):
    preprocessor, training = fitted
    batch = pa.RecordBatch.from_pydict({"x": [None, 2.5], "y": [1.0, 4.0], "k": [3, None], "s": ["c3", "unseen"], "b": [True, None],
                                        "t": pa.array([1_650_000_000_000_000] * 2, pa.timestamp("us", tz="UTC"))})  # fmt: skip
    got = preprocessor.transform(batch)
    names = preprocessor.feature_names
    for column in ("x", "y", "k"):
        train = training.column(column).to_numpy(zero_copy_only=False).astype(float)
        train = train[~np.isnan(train)]
        values = batch.column(column).to_numpy(zero_copy_only=False).astype(float)
        values = np.where(np.isnan(values), train.mean(), values)
        standardize = preprocessor.encoders[FEATURES.index(column)].standardize
        expected = (values - train.mean()) / train.std(ddof=1) if standardize else values
        np.testing.assert_allclose(got[:, names.index(column)], expected, rtol=1e-12)
    vocabulary = sorted((set(training.column("s").to_pylist()) - {None}) | {"_null_filler"})
    if "s" in names:  # label encoding: 1 + alphabetical index, 0 for unseen
        assert got[:, names.index("s")].tolist() == [vocabulary.index("c3") + 1, 0]
        booleans = sorted(["true", "false", "_null_filler"])
        assert got[:, names.index("b")].tolist() == [booleans.index("true") + 1, booleans.index("_null_filler") + 1]
    else:
        assert got[0, names.index("s_c3")] == 1.0 and got[1, [i for i, n in enumerate(names) if n.startswith("s_")]].sum() == 0.0


def test_the_plan_of_a_schema_is_reused_and_coerces_other_types(fitted):
    preprocessor, _ = fitted
    table = _table(np.random.default_rng(7), 5)
    as_ints = table.set_column(1, "Y", pa.array([1, 2, 3, 4, 5]))  # INT64 where training saw FLOAT64, other case
    expected = _general(preprocessor, as_ints)
    for _ in range(2):
        assert preprocessor.transform(as_ints.combine_chunks().to_batches()[0]).tobytes() == expected.tobytes()


def test_errors_name_the_column_as_the_general_path_does(fitted):
    preprocessor, _ = fitted
    batch = pa.RecordBatch.from_pydict({"x": [1.0], "y": ["abc"], "k": [1], "s": ["c1"], "b": [True],
                                        "t": pa.array([0], pa.timestamp("us", tz="UTC"))})  # fmt: skip
    with pytest.raises(InvalidModelInputError, match=r"^The column y has type string, which does not convert to the type the model was trained on \(double\)"):
        preprocessor.transform(batch)
    with pytest.raises(InvalidModelInputError, match=r"^The input has no column t, which the model was trained on\."):
        preprocessor.transform(batch.drop_columns(["t"]))


@pytest.mark.parametrize("rows", [1, 7, 300])
def test_all_float_numeric_columns_read_at_once_equal_the_general_path(rows):
    training = _table(np.random.default_rng(2), 300).combine_chunks()
    preprocessor = Preprocessor.fit(training, ["s", "x", "y"], standardize=True, categorical="one_hot")
    table = _table(np.random.default_rng(rows + 10), rows).select(["y", "s", "x"])
    table = table.set_column(2, "x", pa.array([None, *table.column("x").to_pylist()[1:]], pa.float64()))  # a NULL to impute
    expected = _general(preprocessor, table)
    got = preprocessor.transform(table.combine_chunks().to_batches()[0])
    assert got.tobytes() == expected.tobytes()
    assert got[0, preprocessor.feature_names.index("x")] == 0.0  # the training mean, standardized
