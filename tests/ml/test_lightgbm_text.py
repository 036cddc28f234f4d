"""Forged model files never reach LightGBM's parser (or NumPy code) unchecked.

Each forgery also forges the catalog's checksum, so only the validation of the files' content
stands between it and the native library. They are loaded in a subprocess (one for all of them,
each store in turn): a segfault or an abort inside LightGBM then fails the tests instead of
killing pytest.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sqlml
from sqlml.errors import CorruptModelError
from sqlml.ml.models.lightgbm_text import check_model_text

#: Loads ds.m from each store named on the command line; prints what happened, one JSON string a store.
LOAD = """
import json, sys, sqlml
for store in sys.argv[1:]:
    with sqlml.connect(":memory:", store) as con:
        try:
            con.query("SELECT * FROM ML.PREDICT(MODEL ds.m, (SELECT 1.5 AS x, 'a' AS s))").fetchall()
        except sqlml.CorruptModelError as error:
            print(json.dumps(f"{type(error).__name__} {error.model} {error.message}"), flush=True)
        else:
            print(json.dumps("loaded"), flush=True)
"""


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A store with a boosted tree (ds.m) and one with a linear model (ds.m) to copy and forge."""
    root = tmp_path_factory.mktemp("forged")
    made = {}
    for kind in ("boosted_tree_classifier", "linear_reg"):
        with sqlml.connect(":memory:", root / kind) as con:
            con.query("CREATE SCHEMA ds")
            label = "c" if kind.endswith("classifier") else "y"
            con.query(f"CREATE MODEL ds.m OPTIONS(model_type='{kind}', input_label_cols=['{label}'], max_iterations=3) "
                      "AS SELECT CAST(range AS DOUBLE) AS x, ['a', 'b', 'c'][OFFSET(range % 3)] AS s, range % 3 AS c, "
                      "2.0 * range AS y FROM range(90)")  # fmt: skip
        made[kind] = root / kind
    return made


def _forge(source: Path, target: Path, filename: str, change) -> None:
    """Copy the store, rewrite one file of ds.m's version 1 with ``change`` and forge its checksum."""
    shutil.copytree(source, target)
    catalog = sqlite3.connect(target / "catalog.sqlite")
    folder, checksums = catalog.execute("SELECT folder, checksums FROM versions WHERE name = 'm'").fetchone()
    path = target / folder / filename
    path.write_bytes(change(path.read_bytes()))
    checksums = {**json.loads(checksums), filename: hashlib.sha256(path.read_bytes()).hexdigest()}
    catalog.execute("UPDATE versions SET checksums = ? WHERE name = 'm'", (json.dumps(checksums),))
    catalog.commit()
    catalog.close()


def _load_in_subprocess(stores: list[Path]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", LOAD, *map(str, stores)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the process died ({done.returncode}): {done.stderr[-2000:]}"
    return [json.loads(line) for line in done.stdout.splitlines()]


def _replace(old: str, new: str, count: int = 1):
    def change(content: bytes) -> bytes:
        text = content.decode()
        assert old in text, old
        return text.replace(old, new, count).encode()

    return change


def _first(key: str, text: str) -> str:
    start = text.index(f"\n{key}=") + 1
    return text[start : text.index("\n", start)]


def _edit_first_line(key: str, edit):
    def change(content: bytes) -> bytes:
        text = content.decode()
        line = _first(key, text)
        return text.replace(line, edit(line), 1).encode()

    return change


def _first_entry(key: str, value: str):
    """Set the first entry of the first ``key=…`` array line to ``value``."""

    def edit(line: str) -> str:
        entries = line.split("=", 1)[1].split()
        return f"{key}=" + " ".join([value] + entries[1:])

    return _edit_first_line(key, edit)


FORGERIES = {
    "truncated": lambda content: content[: len(content) // 2],
    "wrong num_leaves": _edit_first_line("num_leaves", lambda line: "num_leaves=40"),
    "feature index out of range": _first_entry("split_feature", "99999"),
    "huge counts": _edit_first_line("max_feature_idx", lambda line: "max_feature_idx=2147483646"),
    "children that loop": _first_entry("left_child", "0"),
    "tree sizes past the end": _edit_first_line("tree_sizes", lambda line: "tree_sizes=" + " ".join(["99999999"] * len(line.split()))),
}


def _wrong_shape(content: bytes) -> bytes:
    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["estimator.coef"] = np.zeros(10_000)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def loaded(stores, tmp_path_factory) -> dict[str, str]:
    """What loading each forged store printed: every forgery of the booster, and the linear model
    with arrays of the wrong shape ("arrays"), loaded by one subprocess."""
    root = tmp_path_factory.mktemp("forgeries")
    forged = {}
    for name, change in FORGERIES.items():
        forged[name] = root / f"booster {len(forged)}"
        _forge(stores["boosted_tree_classifier"], forged[name], "booster.txt", change)
    forged["arrays"] = root / "arrays"
    _forge(stores["linear_reg"], forged["arrays"], "arrays.npz", _wrong_shape)
    return dict(zip(forged, _load_in_subprocess(list(forged.values())), strict=True))


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_booster_is_refused_before_lightgbm_reads_it(loaded, forgery):
    output = loaded[forgery]
    assert output.startswith("CorruptModelError ds.m@1 The LightGBM model text is malformed ("), output


def test_forgeries_that_keep_tree_sizes_consistent_are_refused_by_their_own_rule(stores):
    """tree_sizes catches most edits; without it each structural rule must still hold."""
    text = next(stores["boosted_tree_classifier"].rglob("booster.txt")).read_text()
    bare = text.replace(_first("tree_sizes", text) + "\n", "")
    check_model_text(bare, features=3, classes=3)  # the genuine trees pass without tree_sizes
    cases = {
        "num_leaves=40": (_first("num_leaves", bare), r"leaf_value has \d+ entries where 40 are expected"),
        "split_feature=" + " ".join(["7"] * len(_first("split_feature", bare).split("=")[1].split())): (
            _first("split_feature", bare), r"split_feature has an entry outside \[0, 2\]"),
        "num_leaves=2000000000": (_first("num_leaves", bare), r"tree 0 has num_leaves=2000000000"),
        "decision_type=" + " ".join(["13"] * len(_first("decision_type", bare).split("=")[1].split())): (
            _first("decision_type", bare), r"unknown missing-value type"),
    }  # fmt: skip
    for new, (old, reason) in cases.items():
        with pytest.raises(CorruptModelError, match=reason):
            check_model_text(bare.replace(old, new, 1), features=3, classes=3)
    left, right = _first("left_child", bare), _first("right_child", bare)
    with pytest.raises(CorruptModelError, match=r"tree 0 reaches a node twice|tree 0 does not reach"):
        check_model_text(bare.replace(right, right.replace("=", "=" + left.split("=")[1].split()[0] + " ", 1).rsplit(" ", 1)[0], 1), features=3, classes=3)
    with pytest.raises(CorruptModelError, match=r"it reads 3 features but the model has 5"):
        check_model_text(bare, features=5, classes=3)
    with pytest.raises(CorruptModelError, match=r"num_class=3 but the model has 2"):
        check_model_text(bare, features=3, classes=2)


def test_stored_arrays_of_the_wrong_shape_are_refused(loaded):
    output = loaded["arrays"]
    assert output == (
        "CorruptModelError ds.m@1 The model file's array coef is float64 (10000,); the model's description needs float (5,)."
    ), output


def test_an_imported_lightgbm_file_is_checked_too(tmp_path):
    (tmp_path / "bad.txt").write_text("tree\nversion=v4\nnum_class=1\n")
    with sqlml.connect(":memory:", tmp_path / "models") as con:
        con.query("CREATE SCHEMA ds")
        with pytest.raises(sqlml.ModelError, match=r"bad\.txt is not a valid LightGBM text model: The LightGBM model text is malformed \('end of trees' is missing\)"):
            con.query(f"CREATE MODEL ds.x OPTIONS(model_type='LIGHTGBM', model_path='{tmp_path / 'bad.txt'}')")
