"""BigQuery's data split rules, deterministic for the same data."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.ml.training.split import split_rows


def _table(n):
    return pa.table({"x": np.arange(n), "flag": pa.array([i % 4 == 0 if i % 7 else None for i in range(n)], pa.bool_())})


def _hashes(n, seed=3):
    return np.random.default_rng(seed).integers(0, 2**63, size=n).astype(np.uint64)


@pytest.mark.parametrize(("rows", "eval_rows"), [(499, 0), (500, 100), (50_000, 10_000), (60_000, 10_000)])
def test_auto_split_follows_bigquerys_row_count_rule(rows, eval_rows):
    split = split_rows(_table(rows), _hashes(rows), {"data_split_method": "AUTO_SPLIT"})
    assert len(split.evaluation) == eval_rows
    assert len(split.train) == rows - eval_rows
    assert not set(split.train) & set(split.evaluation)


def test_random_split_uses_the_fraction_and_is_deterministic():
    options = {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.3}
    first = split_rows(_table(1000), _hashes(1000), options)
    second = split_rows(_table(1000), _hashes(1000), options)
    assert len(first.evaluation) == 300
    assert first.evaluation.tolist() == second.evaluation.tolist()
    other = split_rows(_table(1000), _hashes(1000, seed=4), options)
    assert first.evaluation.tolist() != other.evaluation.tolist()


def test_custom_split_sends_true_and_null_to_evaluation():
    table = _table(100)
    split = split_rows(table, _hashes(100), {"data_split_method": "CUSTOM", "data_split_col": "flag"})
    flags = table.column("flag").to_pylist()
    assert sorted(split.evaluation.tolist()) == [i for i, f in enumerate(flags) if f is None or f]
    assert sorted(split.train.tolist()) == [i for i, f in enumerate(flags) if f is False]


def test_seq_split_puts_the_last_rows_in_evaluation_and_nulls_in_training():
    table = pa.table({"t": pa.array([5, None, 1, 3, 2, 4, None, 9, 8, 7], pa.int64())})
    split = split_rows(table, _hashes(10), {"data_split_method": "SEQ", "data_split_col": "t", "data_split_eval_fraction": 0.2})
    assert sorted(table.column("t").take(pa.array(split.evaluation)).to_pylist()) == [8, 9]
    assert set(split.train.tolist()) >= {1, 6}  # the NULL rows


def test_no_split_trains_on_everything(ml_con):
    ml_con.query("CREATE OR REPLACE MODEL ds.ns OPTIONS(model_type='linear_reg', input_label_cols=['target'], data_split_method='NO_SPLIT') AS SELECT x1, target FROM ds.train")
    ml_con.query("CREATE OR REPLACE MODEL ds.auto OPTIONS(model_type='linear_reg', input_label_cols=['target']) AS SELECT x1, target FROM ds.train")
    info = {m: ml_con.models.resolve(__import__("sqlml.store.records", fromlist=["ModelRef"]).ModelRef("ds", m)).metadata["split"] for m in ("ns", "auto")}
    assert info["ns"]["training_rows"] == 1200 and info["ns"]["eval_rows"] == 0
    assert info["auto"]["training_rows"] == 960 and info["auto"]["eval_rows"] == 240
    # with an eval split, eval_loss is recorded; without one it is NULL
    assert ml_con.query("SELECT eval_loss FROM ML.TRAINING_INFO(MODEL ds.auto)").fetchall()[0][0] is not None
    assert ml_con.query("SELECT eval_loss FROM ML.TRAINING_INFO(MODEL ds.ns)").fetchall()[0][0] is None
