"""sqlml.sql.uris: the one rule for "local path or remote storage" that every file statement uses."""

from __future__ import annotations

import pytest

from sqlml.sql.uris import local_path_of


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("/data/part-*.csv", "/data/part-*.csv"),
        ("relative/model.onnx", "relative/model.onnx"),
        ("file:///data/part-*.csv", "/data/part-*.csv"),
        ("file://relative/x", "relative/x"),
        ("C:\\data\\x.csv", "C:\\data\\x.csv"),
    ],
)
def test_local_path_of_returns_the_path_a_local_uri_names(uri, path):
    assert local_path_of(uri) == path


@pytest.mark.parametrize("uri", ["gs://bucket/x-*.csv", "s3://bucket/m.onnx", "https://host/m.onnx", "http://h/x", "hdfs://nn/x", "abfss://c@a/x"])
def test_local_path_of_refuses_every_remote_scheme(uri):
    assert local_path_of(uri) is None
