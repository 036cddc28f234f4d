"""AutoML's data split: 80/10/10 at random, or by data_split_col (STRING parts, or chronological)."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa
import pytest

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.automl.candidates import automl_split


def test_without_a_split_column_rows_split_80_10_10_by_their_hashes():
    table = pa.table({"x": np.arange(1000)})
    hashes = np.random.default_rng(0).permutation(1000)
    split = automl_split({}, table, hashes)
    assert (len(split.train), len(split.evaluation), len(split.test)) == (800, 100, 100)
    order = np.argsort(hashes, kind="stable")  # the lowest hashes validate, the next test
    assert split.evaluation.tolist() == sorted(order[:100].tolist())
    assert split.test.tolist() == sorted(order[100:200].tolist())


def test_a_string_column_names_each_rows_part_and_leaves_other_values_out():
    parts = ["TRAIN", "validate", "TEST", "UNASSIGNED", None, "TRAIN"]
    split = automl_split({"data_split_col": "PART"}, pa.table({"part": parts}), np.arange(6))
    assert (split.train.tolist(), split.evaluation.tolist(), split.test.tolist()) == ([0, 5], [1], [2])


def test_a_timestamp_column_trains_on_the_oldest_rows_and_tests_on_the_newest():
    start = datetime.datetime(2024, 1, 1)
    stamps = [start + datetime.timedelta(days=int(d)) for d in np.random.default_rng(1).permutation(20)]
    split = automl_split({"data_split_col": "t"}, pa.table({"t": stamps}), np.arange(20))
    days = np.array([(s - start).days for s in stamps])
    assert sorted(days[split.train]) == list(range(16))
    assert sorted(days[split.evaluation]) == [16, 17]
    assert sorted(days[split.test]) == [18, 19]


def test_a_split_column_of_another_type_or_without_validation_rows_is_refused():
    with pytest.raises(InvalidModelInputError) as caught:
        automl_split({"data_split_col": "n"}, pa.table({"n": [1, 2, 3]}), np.arange(3))
    assert caught.value.message == (
        "data_split_col n must be a STRING of 'TRAIN', 'VALIDATE' and 'TEST', or a DATE or TIMESTAMP (a chronological split); it is int64."
    )
    with pytest.raises(InvalidOptionError) as caught:
        automl_split({"data_split_col": "p"}, pa.table({"p": ["TRAIN", "TEST"]}), np.arange(2))
    assert caught.value.message == "data_split_col p marks no validation rows."
    with pytest.raises(InvalidModelInputError) as caught:
        automl_split({}, pa.table({"x": [1, 2, 3]}), np.arange(3))
    assert caught.value.message == "AutoML's random split of 3 row(s) leaves no validation rows."
