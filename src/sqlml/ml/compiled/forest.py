"""Read a LightGBM text model into the plain arrays the code generator compiles.

Only text that :func:`sqlml.ml.models.lightgbm_text.check_model_text` passed reaches here (every
booster sqlml loads goes through it first), so the format is not re-checked: this module decides
only whether the model is one the generator reproduces exactly. It does not for linear trees
(``is_linear=1``, which sqlml never trains) or an objective whose output transform is not listed
in :data:`TRANSFORMS`; for those :func:`read_forest` returns None and LightGBM scores the model.
:func:`probe_rows` draws the rows on which a compiled form is checked against LightGBM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The output transform of each objective LightGBM 4 writes in the model's ``objective=`` line
#: (``ObjectiveFunction::ConvertOutput``): regression objectives return the raw score, binary and
#: cross-entropy a sigmoid, multiclass a softmax, multiclassova a sigmoid per class, and the
#: log-link objectives exp.
TRANSFORMS = {
    **dict.fromkeys(("regression", "regression_l1", "huber", "fair", "quantile", "mape"), "identity"),
    **dict.fromkeys(("lambdarank", "rank_xendcg"), "identity"),
    "binary": "sigmoid",
    "cross_entropy": "sigmoid",
    "multiclass": "softmax",
    "multiclassova": "sigmoid",
    **dict.fromkeys(("poisson", "gamma", "tweedie"), "exp"),
}

#: The widest rows compiled: the generated code copies a block of at least 8 rows onto its thread's
#: stack (:func:`sqlml.ml.compiled.codegen.block_rows`), 1 MiB at this width.
MAX_FEATURES = 16_384


@dataclass(frozen=True)
class Tree:
    """One tree's arrays as LightGBM stores them (children < 0 are leaves ``~child``)."""

    leaf_value: list[float]
    split_feature: list[int]
    threshold: list[float]
    decision_type: list[int]
    left_child: list[int]
    right_child: list[int]
    cat_boundaries: list[int]
    cat_threshold: list[int]


@dataclass(frozen=True)
class Forest:
    """A LightGBM model: its trees in prediction order and how their sums become outputs.

    Attributes:
        features: how many columns a row has.
        outputs: scores per row (``num_tree_per_iteration``: the classes of a multiclass model).
        trees: tree ``i`` adds to output ``i % outputs``.
        average: divide each sum by the number of iterations (a random forest).
        transform: ``identity``, ``sigmoid``, ``softmax`` or ``exp``.
        sigmoid: the sigmoid's slope (LightGBM's ``sigmoid`` parameter).
    """

    features: int
    outputs: int
    trees: list[Tree]
    average: bool
    transform: str
    sigmoid: float = 1.0


def read_forest(text: str) -> Forest | None:
    """The forest of a checked LightGBM text model, or None when it is not one the generator
    reproduces exactly (linear trees, an unlisted objective, ``regression sqrt``) or has more
    than :data:`MAX_FEATURES` features."""
    head, _, body = text.partition("\nTree=")
    header = _pairs(head.split("\n"))
    if int(header["max_feature_idx"]) >= MAX_FEATURES:
        return None
    objective = header.get("objective", "regression").split()
    transform = TRANSFORMS.get(objective[0]) if objective else None
    if transform is None or "sqrt" in objective:
        return None
    sigmoid = next((float(word.split(":")[1]) for word in objective if word.startswith("sigmoid:")), 1.0)
    trees = []
    if body:
        blocks = body.split("\nend of trees")[0].split("\nTree=")
        for block in blocks:
            tree = _tree(_pairs(block.split("\n")[1:]))
            if tree is None:
                return None
            trees.append(tree)
    return Forest(
        features=int(header["max_feature_idx"]) + 1, outputs=int(header["num_tree_per_iteration"]), trees=trees,
        average="average_output" in header, transform=transform, sigmoid=sigmoid,
    )  # fmt: skip


def _pairs(lines: list[str]) -> dict[str, str]:
    pairs = {}
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip():
            pairs[key.strip()] = value.strip()
    return pairs


def _tree(values: dict[str, str]) -> Tree | None:
    if values.get("is_linear", "0").strip() != "0":
        return None

    def numbers(key: str, kind: type) -> list:
        return [kind(item) for item in values.get(key, "").split()]

    leaves = numbers("leaf_value", float)
    if len(leaves) == 1:
        return Tree(leaves, [], [], [], [], [], [0], [])
    return Tree(
        leaf_value=leaves, split_feature=numbers("split_feature", int), threshold=numbers("threshold", float),
        decision_type=numbers("decision_type", int), left_child=numbers("left_child", int),
        right_child=numbers("right_child", int), cat_boundaries=numbers("cat_boundaries", int) or [0],
        cat_threshold=numbers("cat_threshold", int),
    )  # fmt: skip


def probe_rows(forest: Forest, rows: int = 256) -> np.ndarray:
    """Rows that exercise each split's edge: values at, just below and just above thresholds,
    NaN, zeros, tiny values, negatives and categories, drawn per feature."""
    pools: list[set[float]] = [{0.0, -0.0, 1e-36, -1e-36, -0.5, float("nan"), 2.0**31, -(2.0**31) - 2} for _ in range(forest.features)]
    for tree in forest.trees:
        for feature, threshold, decision in zip(tree.split_feature, tree.threshold, tree.decision_type):
            if decision & 1:  # the node's categories (a few), the first past its bitset, and fractions
                words = tree.cat_threshold[tree.cat_boundaries[int(threshold)] : tree.cat_boundaries[int(threshold) + 1]]
                members = [32 * i + bit for i, word in enumerate(words) for bit in range(32) if word >> bit & 1][:8]
                pools[feature].update([*members, 32 * len(words), *(m + 0.5 for m in members)])
            else:
                pools[feature].update((threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)))
    generator = np.random.default_rng(0)
    columns = [generator.choice(np.array(sorted(pool, key=repr)), rows) for pool in pools]
    return np.column_stack(columns) if columns else np.zeros((rows, 0))
