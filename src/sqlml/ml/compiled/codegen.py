"""Generate LLVM IR that scores a LightGBM forest exactly as LightGBM's own predictor does.

The design follows lleaves (https://github.com/siboehm/lleaves, MIT): one function per tree whose
nodes are branches on constants, a root function looping over rows, and trees cache-blocked (a
block of trees runs over all rows before the next block) so the code in use stays in the
instruction cache. It differs where exactness needs it: each output adds its trees one by one
in LightGBM's order onto the running sum kept in ``out`` (lleaves sums a block first and so
rounds differently), and every decision is LightGBM 4's (``Tree::NumericalDecision``,
``Tree::CategoricalDecision`` in include/LightGBM/tree.h) including the predictor zeroing inputs
with ``|x| <= kZeroThreshold`` (``RowPairFunctionFromDenseMatric`` in src/c_api.cpp).

The IR is written as text (LLVM 15+ opaque pointers): llvmlite's IR builder costs as much time
per tree as compiling it. The entry point is ``void sqlml_forest(ptr rows, ptr out, i64 start,
i64 end)``: rows are C-ordered ``features`` doubles each, ``out`` holds ``outputs``
zero-initialised raw sums per row. The output transform (sigmoid, softmax, averaging) is the
caller's.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlml.ml.compiled.forest import Forest, Tree

#: Bumped whenever generated code changes: part of every cache key.
CODEGEN_VERSION = "1"
ENTRY = "sqlml_forest"
#: Trees per cache block (lleaves' default, 34, measured on its benchmarks).
TREES_PER_BLOCK = 34
#: LightGBM's kZeroThreshold: the float constant 1e-35f widened to double.
ZERO = struct.unpack("<f", struct.pack("<f", 1e-35))[0]
_MISSING_ZERO, _MISSING_NAN = 1, 2


def forest_ir(forest: Forest, triple: str) -> str:
    """The LLVM IR module (text) scoring ``forest``, for the target ``triple``.

    On x86 LightGBM's ``static_cast<int>`` of NaN is INT_MIN, so a NaN category goes right; on
    other targets it is 0, and a NaN then goes right only for missing type NaN (else category 0).
    """
    nan_is_category_zero = not triple.startswith(("x86_64", "i386", "i686"))
    lines = [f'target triple = "{triple}"', "declare double @llvm.fabs.f64(double)"]
    for index, tree in enumerate(forest.trees):
        lines += _tree_function(index, tree, nan_is_category_zero)
    lines += _root_function(len(forest.trees), forest.features, forest.outputs)
    return "\n".join(lines) + "\n"


def double(value: float) -> str:
    """``value`` as an exact LLVM IR double constant (its bits in hex)."""
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]


def _tree_function(index: int, tree: Tree, nan_is_category_zero: bool) -> list[str]:
    """``double @tree_<index>(ptr %row)``: the tree's leaf value for one row, with the constant
    bitsets of its categorical splits before it."""
    globals_, body = [], [f"define private double @tree_{index}(ptr %row) {{"]
    if len(tree.leaf_value) == 1:
        return body + ["n0:", f"  ret double {double(tree.leaf_value[0])}", "}"]
    pending = [0]
    while pending:
        node = pending.pop()
        body.append(f"n{node}:")
        left, right = tree.left_child[node], tree.right_child[node]
        body += [f"  %p{node} = getelementptr double, ptr %row, i64 {tree.split_feature[node]}", f"  %x{node} = load double, ptr %p{node}"]
        if tree.decision_type[node] & 1:
            name = f"@t{index}_cats{node}"
            words = _bitset(tree, node)
            globals_.append(f"{name} = private unnamed_addr constant [{len(words)} x i32] [{', '.join(f'i32 {w}' for w in words)}]")
            body += _categorical(node, name, len(words), (tree.decision_type[node] >> 2) & 3, nan_is_category_zero)
        else:
            body += _numerical(node, tree.threshold[node], tree.decision_type[node])
        if left < 0 and right < 0:
            leaf_left, leaf_right = double(tree.leaf_value[~left]), double(tree.leaf_value[~right])
            body += [f"  %v{node} = select i1 %go{node}, double {leaf_left}, double {leaf_right}", f"  ret double %v{node}"]
            continue
        body.append(f"  br i1 %go{node}, label %{_label(left)}, label %{_label(right)}")
        for child in (left, right):
            if child >= 0:
                pending.append(child)
            else:
                body += [f"{_label(child)}:", f"  ret double {double(tree.leaf_value[~child])}"]
    return globals_ + body + ["}"]


def _label(child: int) -> str:
    return f"n{child}" if child >= 0 else f"leaf{~child}"


def _bitset(tree: Tree, node: int) -> list[int]:
    slot = int(tree.threshold[node])
    return tree.cat_threshold[tree.cat_boundaries[slot] : tree.cat_boundaries[slot + 1]] or [0]


def _numerical(node: int, threshold: float, decision: int) -> list[str]:
    """``%go<node>``: where ``Tree::NumericalDecision`` goes left. NaN is 0.0 unless the missing
    type is NaN; a missing value (NaN, or |x| <= kZeroThreshold for missing type Zero) follows
    ``default_left``; else left when ``x <= threshold``."""
    missing, default_left = (decision >> 2) & 3, bool(decision & 2)
    limit, x = double(threshold), f"%x{node}"
    if missing == _MISSING_ZERO:
        return [
            f"  %ge{node} = fcmp uge double {x}, {double(-ZERO)}", f"  %le{node} = fcmp ule double {x}, {double(ZERO)}",
            f"  %zero{node} = and i1 %ge{node}, %le{node}", f"  %below{node} = fcmp ole double {x}, {limit}",
            f"  %go{node} = select i1 %zero{node}, i1 {'true' if default_left else 'false'}, i1 %below{node}",
        ]  # fmt: skip
    lines = []
    if abs(threshold) <= ZERO:  # only here can the predictor's zeroing of tiny inputs change a decision
        lines = [
            f"  %abs{node} = call double @llvm.fabs.f64(double {x})", f"  %tiny{node} = fcmp ole double %abs{node}, {double(ZERO)}",
            f"  %z{node} = select i1 %tiny{node}, double 0.0, double {x}",
        ]  # fmt: skip
        x = f"%z{node}"
    if missing != _MISSING_NAN:  # NaN compares as 0.0
        default_left = threshold >= 0.0
    return lines + [f"  %go{node} = fcmp {'ule' if default_left else 'ole'} double {x}, {limit}"]


def _categorical(node: int, bitset: str, words: int, missing: int, nan_is_category_zero: bool) -> list[str]:
    """``%go<node>``: where ``Tree::CategoricalDecision`` goes left — the value truncated to an
    int is a category in the node's bitset; a negative int (NaN, on x86) goes right."""
    x, lines = f"%x{node}", []
    if nan_is_category_zero and missing != _MISSING_NAN:
        lines = [f"  %nan{node} = fcmp uno double {x}, 0.0", f"  %y{node} = select i1 %nan{node}, double 0.0, double {x}"]
        x = f"%y{node}"
    return lines + [
        f"  %gt{node} = fcmp ogt double {x}, -1.0", f"  %lt{node} = fcmp olt double {x}, {double(2.0**31)}",
        f"  %ok{node} = and i1 %gt{node}, %lt{node}", f"  %safe{node} = select i1 %ok{node}, double {x}, double 0.0",
        f"  %cat{node} = fptosi double %safe{node} to i32", f"  %in{node} = icmp ult i32 %cat{node}, {32 * words}",
        f"  %hi{node} = lshr i32 %cat{node}, 5", f"  %w{node} = select i1 %in{node}, i32 %hi{node}, i32 0",
        f"  %wp{node} = getelementptr [{words} x i32], ptr {bitset}, i32 0, i32 %w{node}",
        f"  %word{node} = load i32, ptr %wp{node}", f"  %lo{node} = and i32 %cat{node}, 31",
        f"  %sh{node} = lshr i32 %word{node}, %lo{node}", f"  %bit{node} = trunc i32 %sh{node} to i1",
        f"  %okin{node} = and i1 %ok{node}, %in{node}", f"  %go{node} = and i1 %okin{node}, %bit{node}",
    ]  # fmt: skip


def _root_function(trees: int, features: int, outputs: int) -> list[str]:
    """``@sqlml_forest``: for each block of trees, for each row in [start, end), add each tree's
    value to its output's running sum in ``out``, in tree order."""
    starts = list(range(0, trees, TREES_PER_BLOCK))
    heads = [f"block{b}" for b in range(len(starts))] + ["done"]
    lines = [f"define void @{ENTRY}(ptr %rows, ptr %out, i64 %start, i64 %end) {{", "entry:", "  %any = icmp slt i64 %start, %end"]
    lines.append(f"  br i1 %any, label %{heads[0]}, label %done")
    for number, first in enumerate(starts):
        b, previous = f"b{number}_", "entry" if number == 0 else heads[number - 1]
        lines += [f"{heads[number]}:", f"  %{b}row = phi i64 [%start, %{previous}], [%{b}next, %{heads[number]}]"]
        lines += [f"  %{b}at = mul i64 %{b}row, {features}", f"  %{b}r = getelementptr double, ptr %rows, i64 %{b}at"]
        lines.append(f"  %{b}o = mul i64 %{b}row, {outputs}")
        sums = {}
        for tree in range(first, min(first + TREES_PER_BLOCK, trees)):
            output = tree % outputs
            if output not in sums:
                lines += [f"  %{b}oi{output} = add i64 %{b}o, {output}", f"  %{b}op{output} = getelementptr double, ptr %out, i64 %{b}oi{output}"]
                lines.append(f"  %{b}s{output}_ = load double, ptr %{b}op{output}")
                sums[output] = f"%{b}s{output}_"
            lines += [f"  %{b}t{tree} = call double @tree_{tree}(ptr %{b}r)", f"  %{b}a{tree} = fadd double {sums[output]}, %{b}t{tree}"]
            sums[output] = f"%{b}a{tree}"
        lines += [f"  store double {value}, ptr %{b}op{output}" for output, value in sums.items()]
        lines += [f"  %{b}next = add i64 %{b}row, 1", f"  %{b}more = icmp slt i64 %{b}next, %end"]
        lines.append(f"  br i1 %{b}more, label %{heads[number]}, label %{heads[number + 1]}")
    return lines + ["done:", "  ret void", "}"]
