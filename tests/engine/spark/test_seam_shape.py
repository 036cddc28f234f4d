"""The Spark implementation has every member of the seam's Protocols with the same signature as
the Protocol declares (checked without starting Spark), as tests/engine/test_seam.py checks DuckDB's."""

from __future__ import annotations

import pytest

from sqlml.engine.base import Cursor, Relation, SqlEngine
from sqlml.engine.spark.cursor import SparkCursor, SparkRelation
from sqlml.engine.spark.engine import SparkEngine
from tests.engine.test_seam import _members, _shape


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [(SqlEngine, SparkEngine), (Cursor, SparkCursor), (Relation, SparkRelation)],
    ids=["SqlEngine", "Cursor", "Relation"],
)
def test_the_spark_implementation_has_every_member_of_the_protocol_with_its_signature(protocol, implementation):
    for name, member in _members(protocol).items():
        assert hasattr(implementation, name), f"{implementation.__name__} lacks {name}"
        assert _shape(getattr(implementation, name)) == _shape(member), f"{implementation.__name__}.{name}"


def test_the_spark_implementation_has_the_seams_abilities_as_members():
    # Spark's own abilities, declared by the seam (DuckDB's answers: tests/engine/test_seam.py)
    assert isinstance(SparkCursor.maps_batches, property) and SparkCursor.maps_batches.fget(None) is True
    assert _shape(SparkRelation.map_batches) == _shape(Relation.map_batches)
    assert _shape(SparkEngine.check_training) == _shape(SqlEngine.check_training)
