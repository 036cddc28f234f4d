"""Check an XGBoost JSON or UBJSON model in Python before XGBoost's C++ loader reads it.

XGBoost trusts its model files: a tree whose child links point outside its nodes or loop back
makes prediction read out of bounds (SIGSEGV, measured on XGBoost 3.2 for ``left_children`` of
99999, -5 or 0), and a damaged UBJSON document crashes the loader itself (16 of 90 random
truncations and byte flips of a small model killed the process). So every model is decoded here
(JSON by Python's parser, UBJSON by the strict decoder below, whose lengths are checked against
the bytes left) and its trees are walked from their roots: children in range and visited once,
split features below ``num_feature``, one ``tree_info`` entry per tree, numeric splits only.
"""

from __future__ import annotations

import json
import struct

import numpy as np

#: Sizes beyond any real model; larger values are taken as forged.
MAX_FEATURES = 10_000_000
MAX_TREES = 10_000_000
MAX_NODES = 1 << 24
MAX_DEPTH = 64  # nesting of objects and arrays in the document
TREE_BOOSTERS = ("gbtree", "dart")
_TREE_ARRAYS = ("left_children", "right_children", "split_indices", "split_conditions", "default_left", "base_weights")
#: UBJSON scalar markers → their big-endian struct format.
_SCALARS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q", b"d": ">f", b"D": ">d"}
_CONSTANTS = {b"T": True, b"F": False, b"Z": None}


class InvalidModel(Exception):
    """A violation of the format, described for the error message."""


class UnsupportedModel(InvalidModel):
    """A well-formed model sqlml does not import (a linear booster, categorical features)."""


def decode(content: bytes, encoding: str) -> dict:
    """The document of a JSON (``json``) or UBJSON (``ubj``) model.

    Raises:
        InvalidModel: the bytes are not a well-formed document.
    """
    if encoding == "json":
        try:
            document = json.loads(content)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidModel(str(error)) from None
    else:
        document, end = _Ubjson(content).value(0, 0)
        if end != len(content):
            raise InvalidModel(f"{len(content) - end} bytes follow the document")
    if not isinstance(document, dict):
        raise InvalidModel("the document is not an object")
    return document


class _Ubjson:
    """The UBJSON subset XGBoost writes: objects, arrays (typed and counted), strings, numbers."""

    def __init__(self, content: bytes):
        self.content = content

    def take(self, at: int, size: int) -> bytes:
        if size < 0 or at + size > len(self.content):
            raise InvalidModel(f"the document ends inside a value at byte {at}")
        return self.content[at : at + size]

    def text(self, at: int, size: int) -> str:
        try:
            return self.take(at, size).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidModel(f"the string at byte {at} is not UTF-8") from None

    def scalar(self, marker: bytes, at: int) -> tuple[object, int]:
        fmt = _SCALARS[marker]
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(at, size))[0], at + size

    def length(self, at: int) -> tuple[int, int]:
        marker = self.take(at, 1)
        if marker not in (b"i", b"U", b"I", b"l", b"L"):
            raise InvalidModel(f"expected a length at byte {at}")
        value, at = self.scalar(marker, at + 1)
        if value < 0 or value > len(self.content):
            raise InvalidModel(f"a length of {value} at byte {at}")
        return value, at

    def value(self, at: int, depth: int, marker: bytes | None = None) -> tuple[object, int]:
        if depth > MAX_DEPTH:
            raise InvalidModel("the document nests too deeply")
        if marker is None:
            marker, at = self.take(at, 1), at + 1
        if marker in _SCALARS:
            return self.scalar(marker, at)
        if marker in _CONSTANTS:
            return _CONSTANTS[marker], at
        if marker == b"S":
            size, at = self.length(at)
            return self.text(at, size), at + size
        if marker == b"{":
            return self.object(at, depth)
        if marker == b"[":
            return self.array(at, depth)
        raise InvalidModel(f"unknown marker {marker!r} at byte {at - 1}")

    def object(self, at: int, depth: int) -> tuple[dict, int]:
        result = {}
        while self.take(at, 1) != b"}":
            size, at = self.length(at)
            key = self.text(at, size)
            result[key], at = self.value(at + size, depth + 1)
        return result, at + 1

    def array(self, at: int, depth: int) -> tuple[object, int]:
        kind = None
        if self.take(at, 1) == b"$":
            kind, at = self.take(at + 1, 1), at + 2
            if kind not in _SCALARS:
                raise InvalidModel(f"an array of {kind!r} at byte {at - 1}")
        if self.take(at, 1) != b"#":
            if kind is not None:
                raise InvalidModel(f"a typed array without a count at byte {at}")
            items = []
            while self.take(at, 1) != b"]":
                item, at = self.value(at, depth + 1)
                items.append(item)
            return items, at + 1
        count, at = self.length(at + 1)
        if kind is not None:
            size = struct.calcsize(_SCALARS[kind]) * count
            return np.frombuffer(self.take(at, size), dtype=np.dtype(_SCALARS[kind])), at + size
        items = []
        for _ in range(count):
            item, at = self.value(at, depth + 1)
            items.append(item)
        return items, at


def check(document: dict) -> None:
    """Raise unless the document is a tree booster whose trees XGBoost can walk safely.

    Raises:
        InvalidModel: naming the first violation.
    """
    learner = _member(document, "learner", dict)
    booster = _member(learner, "gradient_booster", dict)
    if booster.get("name") not in TREE_BOOSTERS:
        raise UnsupportedModel(f"is a '{booster.get('name')}' booster; sqlml imports tree boosters ({', '.join(TREE_BOOSTERS)})")
    if "c" in (learner.get("feature_types") or []):
        raise UnsupportedModel("has categorical features; sqlml imports XGBoost models with numeric features only")
    model = _member(_member(booster, "gbtree", dict) if booster["name"] == "dart" else booster, "model", dict)
    features = _count(_member(learner, "learner_model_param", dict).get("num_feature"), MAX_FEATURES, "num_feature")
    trees = _member(model, "trees", list)
    if len(trees) > MAX_TREES or _count(_member(model, "gbtree_model_param", dict).get("num_trees"), MAX_TREES, "num_trees") != len(trees):
        raise InvalidModel("num_trees does not match the trees")
    if len(_member(model, "tree_info", list)) != len(trees):
        raise InvalidModel("tree_info does not have one entry per tree")
    for index, tree in enumerate(trees):
        try:
            _check_tree(tree, features)
        except (InvalidModel, ValueError, TypeError, OverflowError) as error:  # NumPy's, for arrays of non-numbers
            raise InvalidModel(f"tree {index}: {error}") from None


def _check_tree(tree: object, features: int) -> None:
    if not isinstance(tree, dict):
        raise InvalidModel("it is not an object")
    nodes = _count(_member(tree, "tree_param", dict).get("num_nodes"), MAX_NODES, "num_nodes")
    arrays = {name: np.asarray(_member(tree, name, (list, np.ndarray))) for name in _TREE_ARRAYS}
    for name, values in arrays.items():
        if values.shape != (nodes,) or not np.issubdtype(values.dtype, np.number if name != "default_left" else np.integer):
            raise InvalidModel(f"{name} does not hold {nodes} numbers")
    if np.any(np.asarray(tree.get("split_type", [])) != 0) or len(tree.get("categories", [])):
        raise InvalidModel("it has categorical splits, but no categorical feature")
    left, right, split = arrays["left_children"], arrays["right_children"], arrays["split_indices"]
    seen, stack = np.zeros(nodes, dtype=bool), [0] if nodes else []
    while stack:
        node = stack.pop()
        if seen[node]:
            raise InvalidModel(f"node {node} is reached twice")
        seen[node] = True
        if left[node] == -1 and right[node] == -1:
            continue
        if not (0 < left[node] < nodes and 0 < right[node] < nodes and 0 <= split[node] < features):
            links = f"nodes {left[node]} and {right[node]} on feature {split[node]}"
            raise InvalidModel(f"node {node} links to {links} (of {nodes} nodes, {features} features)")
        stack += [int(left[node]), int(right[node])]


def _member(container: dict, name: str, kind: type | tuple) -> object:
    value = container.get(name)
    if not isinstance(value, kind):
        raise InvalidModel(f"it has no {name}")
    return value


def _count(value: object, limit: int, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidModel(f"{name} is {value!r}, not a count") from None
    if not 0 <= number <= limit:
        raise InvalidModel(f"{name} is {number}")
    return number
