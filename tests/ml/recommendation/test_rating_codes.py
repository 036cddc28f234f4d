"""The user and item codes of a matrix factorization's rows: integer keys encoded by a lookup
table over their range give exactly the dictionary encoding's keys and codes (sorted keys of the
training rows, -1 for a key only other rows have), at the ends of each integer type's range."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.ml.recommendation import ratings


@pytest.mark.parametrize(
    ("kind", "low", "high"),
    [(pa.int64(), -(2**62), -(2**62) + 100), (pa.int8(), -128, 128), (pa.uint64(), 2**63, 2**63 + 50), (pa.int32(), -5, 7)],
)
def test_integer_keys_by_range_equal_the_dictionary_encoding(monkeypatch, kind, low, high):
    rng = np.random.default_rng(2)
    values = rng.integers(low, high, 1000, dtype=np.uint64 if kind == pa.uint64() else np.int64)
    column = pa.chunked_array([pa.array(values[:400], kind), pa.array(values[400:], kind)])
    train_rows = np.sort(rng.permutation(1000)[:40])
    codes, dictionary_codes = np.full(1000, 7), np.full(1000, 7)
    keys = ratings._keys_and_codes(column, train_rows, codes)
    expected_keys = np.unique(values[train_rows])
    assert keys.type == kind and keys.to_pylist() == expected_keys.tolist()
    assert np.array_equal(codes, np.where(np.isin(values, expected_keys), np.searchsorted(expected_keys, values), -1))
    monkeypatch.setattr(ratings, "DENSE_SPAN", 0)  # the dictionary encoding
    dictionary_keys = ratings._keys_and_codes(column, train_rows, dictionary_codes)
    assert dictionary_keys.equals(keys) and np.array_equal(dictionary_codes, codes)


def test_rows_of_every_row_in_order_are_the_encoded_arrays_and_other_rows_a_selection():
    table = pa.table({"user": pa.array([5, 3, 5, 9]), "item": pa.array(["b", "a", "a", "c"]), "rating": pa.array([1.0, 2.0, 3.0, 4.0])})
    encoded = ratings.encode({}, table, np.arange(4))
    codes, values = encoded.rows(np.arange(4))
    assert codes is encoded.codes and values is encoded.values  # NO_SPLIT's training rows: not copied
    assert codes.flags.f_contiguous  # each column whole, as the pairs matrix reads it
    assert codes.tolist() == [[1, 1], [0, 0], [1, 0], [2, 2]]
    for positions in (np.array([3, 0]), np.array([1, 0, 2, 3])):  # a part, and every row out of order
        codes, values = encoded.rows(positions)
        assert codes.tolist() == encoded.codes[positions].tolist() and values.tolist() == encoded.values[positions].tolist()
        assert not np.shares_memory(codes, encoded.codes)
