"""data_split_col types as BigQuery allows them, for tuned and untuned models alike."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.store.records import ModelRef

TABLE = """CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x, 2.0 * range + 1 AS y,
    ['TRAIN', 'train', 'Eval', 'TEST'][OFFSET(range % 4)] AS part, ['TRAIN', 'EVAL', 'other'][OFFSET(range % 3)] AS odd,
    range % 5 = 0 AS is_eval, range AS n, 'k' || lpad(CAST(range AS VARCHAR), 3, '0') AS key,
    DATE '2024-01-01' + CAST(range AS INTEGER) AS day, [range] AS arr FROM range(200)"""
CREATE = "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='linear_reg', input_label_cols=['y'], {options}) AS SELECT x, y, {column} FROM ds.t"


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("split")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as connection:
        connection.query(f"CREATE SCHEMA ds; {TABLE}")
        yield connection


def _split(con) -> tuple[int, int, int]:
    split = con.models.resolve(ModelRef("ds", "m")).metadata["split"]
    return split["training_rows"], split["eval_rows"], split["test_rows"]


def test_tuned_custom_split_reads_train_eval_test_strings(con):
    con.query(CREATE.format(options="num_trials=2, data_split_method='CUSTOM', data_split_col='part'", column="part"))
    assert _split(con) == (100, 50, 50)  # TRAIN and train; Eval; TEST — case-insensitive


@pytest.mark.parametrize(
    ("options", "column", "message"),
    [
        ("data_split_method='CUSTOM', data_split_col='part'", "part",
         r"data_split_col part must be a BOOL column for data_split_method='CUSTOM' \(TRUE or NULL = eval, FALSE = training; "
         r"with num_trials, a STRING of 'TRAIN', 'EVAL' and 'TEST'\); it is string\."),
        ("num_trials=2, data_split_method='CUSTOM', data_split_col='n'", "n",
         r"data_split_col n must be a BOOL column for data_split_method='CUSTOM' .*; it is int64\."),
        ("num_trials=2, data_split_method='CUSTOM', data_split_col='odd'", "odd",
         r"data_split_col odd may hold only 'TRAIN', 'EVAL' and 'TEST' for a tuned CUSTOM split; it also has 'other'\."),
        ("data_split_method='SEQ', data_split_col='arr'", "arr",
         r"data_split_col arr must have an orderable type for data_split_method='SEQ' \(a number, STRING, DATE or TIMESTAMP\); it is list<l: int64>\."),
        ("num_trials=2, data_split_method='SEQ', data_split_col='arr'", "arr", r"data_split_col arr must have an orderable type"),
    ],
)
def test_a_split_column_of_the_wrong_type_is_an_error_at_the_column(con, options, column, message):
    sql = CREATE.format(options=options, column=column)
    with pytest.raises(sqlml.InvalidModelInputError, match="^" + message) as info:
        con.query(sql)
    assert info.value.column == column
    assert sql[info.value.location.col - 1 :].startswith(f"{column} FROM ds.t")


@pytest.mark.parametrize("column", ["n", "key", "day", "x"])
def test_seq_split_takes_any_orderable_column(con, column):
    con.query(CREATE.format(options=f"data_split_method='SEQ', data_split_col='{column}', data_split_eval_fraction=0.25", column=column))
    assert _split(con) == (150, 50, 0)
    con.query(CREATE.format(options=f"num_trials=2, data_split_method='SEQ', data_split_col='{column}', "
                                     "data_split_eval_fraction=0.2, data_split_test_fraction=0.1", column=column))  # fmt: skip
    assert _split(con) == (140, 40, 20)


def test_untuned_custom_split_keeps_bool(con):
    con.query(CREATE.format(options="data_split_method='CUSTOM', data_split_col='is_eval'", column="is_eval"))
    assert _split(con) == (160, 40, 0)
