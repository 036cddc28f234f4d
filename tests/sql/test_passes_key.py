"""The key the generated DuckDB text and the typed date arithmetic are remembered by: equal for
equal trees, different wherever the text generated from them may differ."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from sqlml.sql.passes_key import tree_key


def _key(sql: str):
    return tree_key(sqlglot.parse_one(sql, read="bigquery"))


def test_equal_trees_have_equal_keys_whichever_objects_they_share():
    tree = sqlglot.parse_one("SELECT x, 'x' AS y FROM ds.t WHERE x = 1", read="bigquery")
    assert tree_key(tree) == tree_key(tree.copy()) == _key("SELECT x, 'x' AS y FROM ds.t WHERE x = 1")
    assert isinstance(tree_key(tree), bytes)


def test_what_the_generated_text_depends_on_changes_the_key():
    base = _key("SELECT x FROM ds.t WHERE x = 1")
    others = [
        "SELECT X FROM ds.t WHERE x = 1",  # case
        "SELECT `x` FROM ds.t WHERE x = 1",  # quoting
        "SELECT x FROM ds.t WHERE x = '1'",  # a string, not a number
        "SELECT x FROM ds.t WHERE x = 1.0",
        "SELECT x FROM ds.t WHERE x = 1 -- note",  # comments are generated
        "SELECT x FROM ds.u WHERE x = 1",
    ]
    keys = [_key(sql) for sql in others]
    assert base not in keys and len(set(keys)) == len(keys)
    marked = sqlglot.parse_one("SELECT x FROM ds.t WHERE x = 1", read="bigquery")
    marked.find(exp.EQ).meta["sqlml_mark"] = True  # a pass's mark on a node is part of the tree
    assert tree_key(marked) != base


def test_a_value_marshal_cannot_write_falls_back_to_its_repr():
    tree = exp.Literal(this="1", is_string=False)
    tree.meta["odd"] = range(3)  # marshal writes no range
    key = tree_key(tree)
    assert isinstance(key, str) and "range(0, 3)" in key
