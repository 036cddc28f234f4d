"""AutoML's training rows: tests/ml's generated frame with a split column ``part`` (TRAIN,
VALIDATE, TEST by a fingerprint of x1)."""

from __future__ import annotations

import pytest

import sqlml
from sqlml.ml.automl.family import AutoMLFamily
from tests.ml.conftest import make_frame

SPLIT = (
    "CASE MOD(ABS(FARM_FINGERPRINT(CAST(x1 AS STRING))), 10) WHEN 0 THEN 'VALIDATE' WHEN 1 THEN 'TEST' ELSE 'TRAIN' END"
)


@pytest.fixture(scope="module")
def automl_root(tmp_path_factory):
    """The folder of :func:`automl_con`'s warehouse and model store."""
    return tmp_path_factory.mktemp("automl")


@pytest.fixture(scope="module")
def automl_con(automl_root):
    """A connection with ds.train (1,200 rows, columns of make_frame plus part) and ds.fresh
    (300 unseen rows)."""
    root = automl_root
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        con.register("train_frame", make_frame())
        con.register("fresh_frame", make_frame(300, seed=11))
        con.query(
            f"CREATE TABLE ds.train AS SELECT *, {SPLIT} AS part FROM train_frame; "
            "CREATE TABLE ds.fresh AS SELECT * FROM fresh_frame"
        )
        yield con


@pytest.fixture
def only_families(monkeypatch):
    """``only_families(*model_types)``: this test's searches try only these model types — every
    default is trained and cross-validated whatever the budget, and a test about something else
    need not pay for every family's."""

    def only(*model_types: str) -> None:
        monkeypatch.setattr(AutoMLFamily, "searched", lambda self, model_type: [(name, self.lookup(name)) for name in model_types])

    return only
