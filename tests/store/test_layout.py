"""Model and dataset names up to BigQuery's 1,024 characters fit the file system; longer ones are refused."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.store.layout import MAX_FOLDER_NAME, folder_name, model_folder


def test_long_names_map_to_distinct_short_folders():
    assert folder_name("churn_model") == "churn_model"
    long_a, long_b = "m" * 300 + "_a", "m" * 300 + "_b"
    assert folder_name(long_a) != folder_name(long_b)
    assert all(len(folder_name(name).encode()) <= MAX_FOLDER_NAME for name in (long_a, long_b, "x" * 1024))
    assert folder_name(long_a) == folder_name(long_a)  # stable: the same model always lands in one folder
    assert "-" in folder_name(long_a) and "-" not in long_a  # cannot collide with a name as written
    assert str(model_folder("d" * 500, "m")).startswith(folder_name("d" * 500) + "/")


def test_a_model_with_a_name_longer_than_a_file_name_trains_predicts_and_drops(tmp_path):
    dataset, name = "d" * 300, "m" * 1024
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query(f"CREATE SCHEMA {dataset}; CREATE TABLE {dataset}.t AS SELECT CAST(range AS DOUBLE) AS x, 2.0 * range AS y FROM range(30)")
        for _ in range(2):
            con.query(f"CREATE OR REPLACE MODEL {dataset}.{name} OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM {dataset}.t")
        rows = con.query(f"SELECT predicted_y FROM ML.PREDICT(MODEL `{dataset}.{name}@1`, (SELECT 3.0 AS x))").fetchall()
        assert rows[0][0] == pytest.approx(6.0)
        folders = [p for p in (tmp_path / "models").rglob("*") if p.is_dir() and ".staging" not in p.parts]
        assert folders and all(len(p.name.encode()) <= MAX_FOLDER_NAME for p in folders)
        con.query(f"DROP MODEL {dataset}.{name}")
        assert not (tmp_path / "models" / model_folder(dataset, name)).exists()


@pytest.mark.parametrize("long", ["model", "dataset"])
def test_a_name_over_bigquerys_limit_is_refused_before_anything_is_written(tmp_path, long):
    too_long = "n" * 1025
    dataset, name = (too_long, "m") if long == "dataset" else ("ds", too_long)
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        con.query(f"CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT CAST(range AS DOUBLE) AS x, 2.0 * range AS y FROM range(30)")
        with pytest.raises(sqlml.ModelError, match=r"^The dataset or model name 'nnnnnnnnnnnnnnnnnnnn…' has 1025 characters; BigQuery allows at most 1024\.") as info:
            con.query(f"CREATE MODEL {dataset}.{name} OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.t")
        assert (info.value.location.line, info.value.location.col) == (1, 14)
        assert con.models.models() == []
        assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] in ([], [".staging"])
