"""Fixtures of the ML function tests that train on tables a test module generates."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import sqlml
from sqlml.ml.models.model import Model
from sqlml.store.records import ModelRef


@pytest.fixture(scope="module")
def tables_con(request, tmp_path_factory):
    """A warehouse whose dataset ``ds`` holds the test module's ``TABLES`` (name → Arrow table),
    with its ``MODELS`` (CREATE MODEL statements) trained on them."""
    root = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        for name, table in request.module.TABLES.items():
            con.register(f"{name}_rows", table)
            con.query(f"CREATE TABLE ds.{name} AS SELECT * FROM {name}_rows")
        for statement in getattr(request.module, "MODELS", ()):
            con.query(statement)
        yield con


@pytest.fixture
def store_without_arrays() -> Callable[..., None]:
    """Publish a stored model's files as another model without some of its arrays: what CREATE
    MODEL stored before a change added them."""

    def publish(con: sqlml.Connection, source: str, target: str, names: tuple[str, ...]) -> None:
        store = con.models
        record = store.resolve(ModelRef.parse(source))
        model = Model.load(store.verified_files(record))
        for name in names:
            del model.arrays[name]
        with store.staging() as folder:
            model.save(folder)
            store.commit(ModelRef.parse(target), folder, record.metadata, replace=True)

    return publish
