"""Check a LightGBM text model in Python before LightGBM's C++ parser reads it.

LightGBM trusts its model files: a header whose ``tree_sizes`` do not match the trees, a tree
whose arrays are shorter than ``num_leaves`` says, a split on a feature index past
``max_feature_idx`` or child links that loop make it read out of bounds, abort or recurse
forever. A model file passed its checksum, but a forged catalog can forge that too, and an
imported file has none: so every booster text is parsed here first, against the format
LightGBM writes (``GBDT::SaveModelToString`` and ``Tree::ToString`` in LightGBM 4), and against
what the model's description says (its feature count and number of classes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import CorruptModelError

if TYPE_CHECKING:
    import lightgbm

#: Sizes beyond any model sqlml trains or imports; larger values are taken as forged.
MAX_FEATURES = 10_000_000
MAX_CLASSES = 100_000
MAX_TREES = 10_000_000
MAX_LEAVES = 1 << 20
MAX_CATEGORY_WORDS = 1 << 24

_HEADER_INTS = ("num_class", "num_tree_per_iteration", "max_feature_idx")
_INTERNAL_ARRAYS = ("split_gain", "threshold", "internal_value", "internal_weight", "internal_count")
_LEAF_ARRAYS = ("leaf_value", "leaf_weight", "leaf_count")


class _Invalid(Exception):
    """A violation of the format, described for the error message."""


def check_model_text(text: str, *, features: int | None = None, classes: int | None = None) -> None:
    """Raise unless ``text`` is a well-formed LightGBM text model that fits the description.

    Args:
        text: the model file's content.
        features: the number of features the model must read (None: any).
        classes: the ``num_class`` the model must have (None: any).

    Raises:
        CorruptModelError: naming the first violation found.
    """
    try:
        header, trees = _sections(text)
        max_feature = _check_header(header, features, classes)
        sizes = _ints(header, "tree_sizes", len(trees), low=1) if "tree_sizes" in header else None
        if len(trees) % header["num_tree_per_iteration"]:
            raise _Invalid(f"{len(trees)} trees is not a multiple of num_tree_per_iteration")
        for index, block in enumerate(trees):
            if sizes is not None and len(block.encode()) != sizes[index]:
                raise _Invalid(f"tree {index} has {len(block.encode())} bytes but tree_sizes says {sizes[index]}")
            _check_tree(index, block, max_feature)
    except (_Invalid, ValueError) as problem:
        raise CorruptModelError(
            f"The LightGBM model text is malformed ({problem}); it was not loaded.",
            hint="Re-train the model with CREATE OR REPLACE MODEL, or re-export the LightGBM model.",
        ) from None


def load_booster(text: str, *, features: int | None = None, classes: int | None = None) -> lightgbm.Booster:
    """A LightGBM booster from ``text``, read by LightGBM only after :func:`check_model_text`
    passed it (same arguments).

    Raises:
        CorruptModelError: the text is malformed or does not fit the description.
    """
    from sqlml.ml.models.lightgbm_import import import_lightgbm

    check_model_text(text, features=features, classes=classes)
    return import_lightgbm().Booster(model_str=text)


def _sections(text: str) -> tuple[dict, list[str]]:
    if not text.startswith("tree\n"):
        raise _Invalid("it does not start with the line 'tree'")
    end = text.find("\nend of trees")
    if end < 0:
        raise _Invalid("'end of trees' is missing")
    start = text.find("\nTree=")
    body_start = end if start < 0 or start > end else start
    header = _key_values(text[5:body_start].split("\n"))
    body = text[body_start + 1 : end + 1]
    trees = ["Tree=" + block for block in body.split("Tree=")[1:]] if body.strip() else []
    if len(trees) > MAX_TREES:
        raise _Invalid(f"{len(trees)} trees")
    return header, trees


def _key_values(lines: list[str]) -> dict:
    """``key=value`` lines as a dict; a bare word (the header's ``average_output``) is a flag."""
    values = {}
    for line in lines:
        if line.strip():
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def _check_header(header: dict, features: int | None, classes: int | None) -> int:
    for key in _HEADER_INTS:
        if key not in header:
            raise _Invalid(f"the header has no {key}")
        header[key] = _int(header[key], key)
    limits = {"num_class": MAX_CLASSES, "num_tree_per_iteration": MAX_CLASSES, "max_feature_idx": MAX_FEATURES - 1}
    for key, high in limits.items():
        if not (0 if key == "max_feature_idx" else 1) <= header[key] <= high:
            raise _Invalid(f"{key}={header[key]} is out of range")
    count = header["max_feature_idx"] + 1
    for key in ("feature_names", "feature_infos"):
        if len(header.get(key, "").split()) != count:
            raise _Invalid(f"{key} does not list max_feature_idx + 1 = {count} entries")
    if features is not None and count != features:
        raise _Invalid(f"it reads {count} features but the model has {features}")
    if classes is not None and header["num_class"] != classes:
        raise _Invalid(f"num_class={header['num_class']} but the model has {classes}")
    return header["max_feature_idx"]


def _check_tree(index: int, block: str, max_feature: int) -> None:
    first, _, rest = block.partition("\n")
    if first != f"Tree={index}":
        raise _Invalid(f"tree {index} is headed {first[:20]!r}")
    tree = _key_values(rest.split("\n"))
    leaves = _int(tree.get("num_leaves", ""), "num_leaves")
    if not 1 <= leaves <= MAX_LEAVES:
        raise _Invalid(f"tree {index} has num_leaves={leaves}")
    _floats(tree, "leaf_value", leaves)
    if leaves > 1:  # a single-leaf tree leaves its other arrays empty, and LightGBM reads none of them
        for key in _LEAF_ARRAYS[1:]:
            if key in tree:
                _floats(tree, key, leaves)
        _check_splits(index, tree, leaves, max_feature)
    if _int(tree.get("is_linear", "0"), "is_linear"):
        _check_linear(index, tree, leaves, max_feature)


def _check_splits(index: int, tree: dict, leaves: int, max_feature: int) -> None:
    nodes = leaves - 1
    for key in _INTERNAL_ARRAYS:
        if key in tree or key == "threshold":
            _floats(tree, key, nodes)
    _ints(tree, "split_feature", nodes, low=0, high=max_feature)
    decisions = _ints(tree, "decision_type", nodes, low=0, high=15)
    if any((d >> 2) & 3 > 2 for d in decisions):
        raise _Invalid(f"tree {index} has an unknown missing-value type in decision_type")
    left = _ints(tree, "left_child", nodes, low=-leaves, high=nodes - 1)
    right = _ints(tree, "right_child", nodes, low=-leaves, high=nodes - 1)
    _check_links(index, left, right, leaves)
    categorical = [node for node, d in enumerate(decisions) if d & 1]
    categories = _int(tree.get("num_cat", "0"), "num_cat")
    if categories != len(categorical):
        raise _Invalid(f"tree {index} has num_cat={categories} but {len(categorical)} categorical splits")
    if categories:
        bounds = _ints(tree, "cat_boundaries", categories + 1, low=0, high=MAX_CATEGORY_WORDS)
        if bounds[0] != 0 or any(b > a for a, b in zip(bounds[1:], bounds)):
            raise _Invalid(f"tree {index} has cat_boundaries that do not rise from 0")
        _ints(tree, "cat_threshold", bounds[-1], low=0, high=2**32 - 1)
        thresholds = [float(v) for v in tree["threshold"].split()]
        if any(thresholds[node] != int(thresholds[node]) or not 0 <= thresholds[node] < categories for node in categorical):
            raise _Invalid(f"tree {index} has a categorical split outside cat_boundaries")


def _check_links(index: int, left: list[int], right: list[int], leaves: int) -> None:
    """Child links form one tree from node 0: each node and leaf reached exactly once."""
    seen, stack = {0}, [0]  # nodes as their index, leaves as their negative child link
    while stack:
        node = stack.pop()
        for child in (left[node], right[node]):
            if child in seen:
                raise _Invalid(f"tree {index} reaches a node twice (its child links loop or merge)")
            seen.add(child)
            if child >= 0:
                stack.append(child)
    if len(seen) != 2 * leaves - 1:
        raise _Invalid(f"tree {index} does not reach all of its {leaves} leaves")


def _check_linear(index: int, tree: dict, leaves: int, max_feature: int) -> None:
    _floats(tree, "leaf_const", leaves)
    counts = _ints(tree, "num_features", leaves, low=0, high=max_feature + 1)
    total = sum(counts)
    _ints(tree, "leaf_features", total, low=0, high=max_feature)
    _floats(tree, "leaf_coeff", total)


def _int(text: str, key: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _Invalid(f"{key}={text.strip()[:20]!r} is not an integer") from None


def _ints(values: dict, key: str, length: int, low: int, high: int | None = None) -> list[int]:
    items = values.get(key, "").split()
    if len(items) != length:
        raise _Invalid(f"{key} has {len(items)} entries where {length} are expected")
    try:
        numbers = list(map(int, items))  # map: a 500-tree model has ~300,000 entries to read
    except ValueError:
        numbers = [_int(item, key) for item in items]  # names the entry
    if numbers and (min(numbers) < low or (high is not None and max(numbers) > high)):
        raise _Invalid(f"{key} has an entry outside [{low}, {high}]")
    return numbers


def _floats(values: dict, key: str, length: int) -> None:
    items = values.get(key, "").split()
    if len(items) != length:
        raise _Invalid(f"{key} has {len(items)} entries where {length} are expected")
    list(map(float, items))  # a ValueError is reported as malformed
