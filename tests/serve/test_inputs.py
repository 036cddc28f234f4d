"""Served instances typed ahead per model and built into one Arrow batch per micro-batch: the
batch is Arrow's own conversion of the same values, whatever the mix of types and nulls."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sqlml.errors import InvalidModelInputError
from sqlml.serve.inputs import InputColumns

SCHEMA = pa.schema([
    pa.field("a", pa.float64()), pa.field("n", pa.int64()), pa.field("s", pa.string()),
    pa.field("b", pa.float64()), pa.field("flag", pa.bool_()), pa.field("m", pa.int64()),
])  # fmt: skip


def columns() -> InputColumns:
    return InputColumns.of(SCHEMA)


def test_a_batch_of_several_requests_is_arrows_conversion_of_their_rows_in_order():
    requests = [
        [{"a": 0.5, "n": 3, "s": "x", "b": 2, "flag": True, "m": -(2**63)}],
        [{"a": None, "n": None, "s": None, "b": 1e300, "flag": None, "m": 2**63 - 1},
         {"a": -0.0, "n": 7, "s": "é", "b": None, "flag": False, "m": None}],
        [{"a": 2**53, "n": -1, "s": "", "b": 0.1, "flag": True, "m": 0}],
    ]  # fmt: skip
    cols = columns()
    batch = cols.batch([cols.typed(instances) for instances in requests])
    expected = pa.RecordBatch.from_pylist([row for instances in requests for row in instances], schema=SCHEMA)
    assert batch.schema == SCHEMA
    assert batch.equals(expected)
    assert batch.column("a").null_count == 1 and batch.column("m").to_pylist() == [-(2**63), 2**63 - 1, None, 0]
    assert str(batch.column("a")[2].as_py()) == "-0.0"  # the sign of zero is kept, as Arrow keeps it


def test_values_arrow_converts_are_taken_as_arrow_takes_them_and_others_refused_with_the_column():
    cols = columns()
    row = {"a": True, "n": 4.0, "s": "y", "b": 1, "flag": False, "m": 5}  # a bool for a FLOAT64, an exact float for an INT64
    batch = cols.batch([cols.typed([row])])
    assert batch.equals(pa.RecordBatch.from_arrays([pa.array([v], f.type) for v, f in zip(row.values(), SCHEMA)], schema=SCHEMA))
    with pytest.raises(InvalidModelInputError, match=r"^The column n has a value that is not int64: "):
        cols.typed([{**row, "n": "4"}])
    with pytest.raises(InvalidModelInputError, match=r"^The column a has a value that is not double: "):
        cols.typed([{**row, "a": "abc"}])


@pytest.mark.parametrize("fraction", [4.5, float("nan"), float("inf")])
def test_a_number_with_a_fraction_for_an_int64_column_is_refused_not_truncated(fraction):
    cols = columns()
    row = {"a": 1.0, "n": fraction, "s": "y", "b": 1, "flag": False, "m": 5}
    with pytest.raises(InvalidModelInputError, match=rf"^The column n has a value that is not int64: {fraction!r} is not a whole number\.\nSend n as a whole number"):
        cols.typed([row])
    assert cols.typed([{**row, "n": 4.0}])[0][1] == 4  # a whole float is its integer
