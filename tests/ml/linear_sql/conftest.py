"""Models and rows the linear-SQL tests share: numbers with NULLs, strings with NULL and an
unseen category, booleans with NULL, and a regressor, a binary and a multiclass classifier."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.models.linear_estimator import LinearModel
from sqlml.ml.models.model import Model
from sqlml.ml.runtime import sql_prediction
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

N_TRAIN, N_FRESH = 300, 120


def rows(n: int, seed: int, categories: tuple) -> pa.Table:
    """``n`` rows: x1 FLOAT64, x2 FLOAT64 with NULLs, k INT64, cat STRING (NULL included), flag
    BOOL (NULL included), the labels y, cls, multi and a non-feature id."""
    rng = np.random.default_rng(seed)
    x1, x2, k = rng.normal(size=n), rng.normal(size=n) * 3 + 1, rng.integers(0, 50, n)
    cat = [categories[i % len(categories)] for i in range(n)]
    flag = [(True, False, None)[i % 3] for i in range(n)]
    y = 2 * x1 - x2 + 0.05 * k + np.arange(n) % 4 + rng.normal(size=n) * 0.3
    return pa.table({
        "id": np.arange(n), "x1": x1, "x2": pa.array([None if i % 7 == 0 else v for i, v in enumerate(x2)], pa.float64()),
        "k": k, "cat": pa.array(cat, pa.string()), "flag": pa.array(flag, pa.bool_()), "y": y,
        "cls": np.where(y > np.median(y), "hi", "lo"),
        "multi": np.array(["r", "g", "b"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))],
    })  # fmt: skip


MODELS = {
    "lin": "OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x1, x2, k, cat, flag, y FROM ds.train",
    "dummy": "OPTIONS(model_type='linear_reg', input_label_cols=['y'], category_encoding_method='DUMMY_ENCODING') AS SELECT x1, x2, k, cat, flag, y FROM ds.train",
    "bin": "OPTIONS(model_type='logistic_reg', input_label_cols=['cls']) AS SELECT x1, x2, k, cat, flag, cls FROM ds.train",
    "multi": "OPTIONS(model_type='logistic_reg', input_label_cols=['multi']) AS SELECT x1, x2, k, cat, flag, multi FROM ds.train",
}


@pytest.fixture(scope="package")
def linear_con(tmp_path_factory):
    """A warehouse with ``ds.train``, ``ds.fresh`` (an unseen category 'zz') and the models of MODELS."""
    root = tmp_path_factory.mktemp("linear_sql")
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        for name, table in {"train": rows(N_TRAIN, 0, ("a", "b", "c", None)), "fresh": rows(N_FRESH, 1, ("a", "zz", None, "c"))}.items():
            con.register(f"{name}_rows", table)
            con.query(f"CREATE TABLE ds.{name} AS SELECT * FROM {name}_rows")
        for name, body in MODELS.items():
            con.query(f"CREATE MODEL ds.{name} {body}")
        yield con


class Paths:
    """Runs a statement through the SQL path (the estimator's Python scoring made to fail) or
    through today's Python path (SQLML_LINEAR_SQL=off), and compares the two."""

    FRESH = "SELECT id, x1, x2, k, cat, flag, y FROM ds.fresh"

    def __init__(self, con: sqlml.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
        self.con, self.monkeypatch = con, monkeypatch

    def model(self, name: str) -> Model:
        return CACHE.get(self.con.models, self.con.models.resolve(ModelRef.parse(name)))

    def python(self, sql: str, con: sqlml.Connection | None = None) -> pa.Table:
        with self.monkeypatch.context() as patch:
            patch.setenv("SQLML_LINEAR_SQL", "off")
            return (con or self.con).query(sql).arrow()

    def sql(self, sql: str, con: sqlml.Connection | None = None) -> pa.Table:
        def refuse(estimator, X):
            raise AssertionError("a linear model was scored in Python")

        with self.monkeypatch.context() as patch:
            patch.setattr(LinearModel, "predict", refuse)
            patch.setattr(sql_prediction, "FEW_ROWS", -1)  # a VALUES list of three rows too
            return (con or self.con).query(sql).arrow()

    def same(self, sql: str, con: sqlml.Connection | None = None) -> pa.Table:
        """The SQL path's rows, checked equal to the Python path's (same schema, 1e-12)."""
        got, expected = self.sql(sql, con), self.python(sql, con)
        assert got.schema == expected.schema
        for name in expected.column_names:
            a, b = got.column(name).combine_chunks(), expected.column(name).combine_chunks()
            if pa.types.is_floating(b.type):
                np.testing.assert_allclose(a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False), rtol=1e-12, atol=1e-12)
            elif pa.types.is_list(b.type):
                assert a.value_lengths() == b.value_lengths() and a.flatten().field("label") == b.flatten().field("label")
                np.testing.assert_allclose(a.flatten().field("prob").to_numpy(), b.flatten().field("prob").to_numpy(), rtol=1e-12, atol=1e-12)
            else:
                assert a == b, name
        return got


@pytest.fixture
def paths(linear_con, monkeypatch) -> Paths:
    """The two prediction paths over :func:`linear_con`."""
    return Paths(linear_con, monkeypatch)
