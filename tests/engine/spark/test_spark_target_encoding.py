"""Boosted trees' TARGET_ENCODING learned by Spark (:mod:`sqlml.ml.spark_training.statistics`)
is the encoder one process fits on the same rows: each category's mean label (each class's share
for a multiclass label), the overall mean for an unseen category, NULL as its own category — and
the feature vector Spark builds from it is ``Preprocessor.transform``'s."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor
from sqlml.ml.spark_training import statistics

# 60 rows: a STRING category with a NULL, a BOOL one; a numeric, a binary and a 3-class label (as codes)
TABLE = pa.table({
    "s": [None if i % 13 == 0 else f"c{i % 4}" for i in range(60)],
    "b": [i % 3 == 0 for i in range(60)],
    "y": [i * 0.37 + (i % 4) * 2.5 for i in range(60)],
    "yes": [float(i % 4 < 2 and i % 5 != 0) for i in range(60)],
    "band": [float(min(i // 20, 2)) for i in range(60)],
})  # fmt: skip


@pytest.mark.parametrize(("label", "classes"), [("y", 0), ("yes", 2), ("band", 3)], ids=["regression", "binary", "multiclass"])
def test_spark_learns_one_process_target_encoding(spark, label, classes):
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(TABLE)
    codes = TABLE.column(label).to_numpy()
    if classes > 2:
        target, columns = np.eye(classes)[codes.astype(int)], [(F.col(label) == F.lit(float(c))).cast("double") for c in range(classes)]
    else:
        target, columns = codes, [F.col(label)]
    expected = Preprocessor.fit(TABLE, ["s", "b"], standardize=False, categorical="target", target=target)
    learned, info = statistics.learn(frame, TABLE.schema, ["s", "b"], standardize=False, categorical="target", target=columns)
    for got, want in zip(learned.encoders, expected.encoders, strict=True):
        got, want = got.state(), want.state()
        assert got.keys() == want.keys() and got["vocabulary"] == want["vocabulary"] == sorted(got["vocabulary"])
        np.testing.assert_allclose(got["target_values"], want["target_values"], rtol=1e-12)
        np.testing.assert_allclose(got["prior"], want["prior"], rtol=1e-12)
    assert learned.feature_names == expected.feature_names
    assert [row["null_count"] for row in info] == [5, 0]
    # the feature vector Spark computes, with a category the rows never had (the prior)
    unseen = TABLE.slice(0, 3).set_column(0, "s", pa.array(["c9", None, "c1"]))
    vectors = spark.createDataFrame(unseen).select(vector_to_array(statistics.feature_vector(learned)).alias("x")).toArrow()
    np.testing.assert_allclose(np.array(vectors.column("x").to_pylist()), expected.transform(unseen), rtol=1e-12)
