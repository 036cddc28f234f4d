"""Generate LLVM IR that scores a LightGBM forest exactly as LightGBM's own predictor does.

The root function works through the rows a block at a time (:func:`block_rows` rows): it copies
the block into a column-major buffer on the stack, runs each tree in turn over the whole block,
:data:`LANES` rows per call, adding its values onto each row's running sum, and writes the sums
out. A tree's code thus stays in the instruction cache across the block, and its rows in the
data cache. A tree of a few nodes per level (:func:`is_branchless`) is scored branch-free on
:data:`LANES` rows at once: every split's decision as a vector comparison, then the leaf chosen
by selects from the bottom up — more work than descending one path, but no mispredicted branch
(a depth-6 tree of 64 leaves, rows in random order: ~4× faster than one branch per level). A
bushier tree is one function per tree whose nodes are branches on constants, as in lleaves
(https://github.com/siboehm/lleaves, MIT), called for each row of the :data:`LANES`.

It differs from lleaves where exactness needs it: each output adds its trees one by one in
LightGBM's order onto a running sum starting at 0.0 (lleaves sums a block of trees first and so
rounds differently), and every decision is LightGBM 4's (``Tree::NumericalDecision``,
``Tree::CategoricalDecision`` in include/LightGBM/tree.h) including the predictor zeroing inputs
with ``|x| <= kZeroThreshold`` (``RowPairFunctionFromDenseMatric`` in src/c_api.cpp). Each split's
decision is one function of the node and the rows it sees (:func:`_decision`), the same for a
branch-free tree's vectors and a branching tree's single row.

The IR is written as text (LLVM 15+ opaque pointers): llvmlite's IR builder costs as much time
per tree as compiling it. The entry point is ``void sqlml_forest(ptr rows, i64 row_stride,
i64 feature_stride, ptr out, i64 start, i64 end)``: feature ``f`` of row ``r`` is the double at
``rows + r·row_stride + f·feature_stride`` (strides in doubles: either layout, or a strided view);
the raw sums of rows [start, end) are written to ``out`` (``outputs`` doubles a row, C-ordered). The output transform (sigmoid,
softmax, averaging) is the caller's.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlml.ml.compiled.forest import Forest, Tree

#: Bumped whenever generated code changes: part of every cache key.
CODEGEN_VERSION = "3"
ENTRY = "sqlml_forest"
#: Rows a tree scores per call: one AVX2 register of doubles (narrower machines split it).
LANES = 4
#: Doubles of a block's column-major buffer (see :func:`block_rows`): 64 KiB (4–64 KiB measured alike).
BLOCK_DOUBLES = 8192
#: A categorical split of at most this many 32-category words picks its word with vector selects.
VECTOR_BITSET_WORDS = 4
#: A tree with at most this many splits per level of depth is scored branch-free.
BRANCHLESS_SPLITS_PER_LEVEL = 16
#: LightGBM's kZeroThreshold: the float constant 1e-35f widened to double.
ZERO = struct.unpack("<f", struct.pack("<f", 1e-35))[0]
_MISSING_ZERO, _MISSING_NAN = 1, 2
_VECTOR = f"<{LANES} x double>"


def forest_ir(forest: Forest, triple: str) -> str:
    """The LLVM IR module (text) scoring ``forest``, for the target ``triple``.

    The code is the same on every target: LightGBM 4 sends a NaN category right before it casts
    the value to int, so the cast's platform-dependent result for NaN never matters.
    """
    block = block_rows(forest.features)
    lines = [
        f'target triple = "{triple}"', "declare double @llvm.fabs.f64(double)",
        f"declare {_VECTOR} @llvm.fabs.v{LANES}f64({_VECTOR})", "declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)",
    ]  # fmt: skip
    for index, tree in enumerate(forest.trees):
        if is_branchless(tree):
            lines += _branchless_tree(index, tree, block)
        else:
            lines += _branching_tree(index, tree, block) + _lanes_of(index, block)
    lines += _root_function(len(forest.trees), forest.features, forest.outputs, block)
    return "\n".join(lines) + "\n"


def block_rows(features: int) -> int:
    """Rows per block: as many as fill :data:`BLOCK_DOUBLES` with ``features`` columns, a
    multiple of :data:`LANES` between 2 and 64 times it."""
    return max(2 * LANES, min(64 * LANES, BLOCK_DOUBLES // max(features, 1) // LANES * LANES))


def is_branchless(tree: Tree) -> bool:
    """Whether evaluating every split of ``tree`` costs less than mispredicted branches down one
    path: at most :data:`BRANCHLESS_SPLITS_PER_LEVEL` splits per level of its depth (a tree of
    one leaf, no splits, always is)."""
    return len(tree.left_child) <= BRANCHLESS_SPLITS_PER_LEVEL * _depth(tree)


def double(value: float) -> str:
    """``value`` as an exact LLVM IR double constant (its bits in hex)."""
    return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]


def _splat(item: str, constant: str, lanes: int) -> str:
    """``constant`` of type ``item`` (a scalar), or a vector of ``lanes`` of it."""
    return constant if lanes == 1 else f"<{', '.join([f'{item} {constant}'] * lanes)}>"


def _type(item: str, lanes: int) -> str:
    return item if lanes == 1 else f"<{lanes} x {item}>"


def _depth(tree: Tree) -> int:
    depth, level = 0, [0] if tree.left_child else []
    while level:
        depth += 1
        level = [child for node in level for child in (tree.left_child[node], tree.right_child[node]) if child >= 0]
    return depth


def _bitset(tree: Tree, node: int) -> list[int]:
    slot = int(tree.threshold[node])
    return tree.cat_threshold[tree.cat_boundaries[slot] : tree.cat_boundaries[slot + 1]] or [0]


def _decision(index: int, tree: Tree, node: int, x: str, lanes: int) -> tuple[list[str], list[str]]:
    """The constants (a categorical split's bitset) and the lines computing ``%go<node>``: whether
    split ``node`` of tree ``index`` sends ``x`` (one row, or a vector of :data:`LANES`) left. A
    categorical split of a few words decides a vector with selects (:func:`_categorical`); of
    more, it looks its bitset up row by row (:func:`_categorical_lanes`)."""
    decision = tree.decision_type[node]
    if not decision & 1:
        return [], _numerical(str(node), x, tree.threshold[node], decision, lanes)
    words = _bitset(tree, node)
    if lanes > 1 and len(words) <= VECTOR_BITSET_WORDS:
        return [], _categorical(str(node), x, words, None, lanes)
    name = f"@t{index}_cats{node}"
    definition = f"{name} = private unnamed_addr constant [{len(words)} x i32] [{', '.join(f'i32 {w}' for w in words)}]"
    lines = _categorical(str(node), x, words, name, 1) if lanes == 1 else _categorical_lanes(str(node), x, words, name)
    return [definition], lines


def _branchless_tree(index: int, tree: Tree, block: int) -> list[str]:
    """``<LANES x double> @tree_<index>(ptr %c)``: the tree's leaf values for the :data:`LANES`
    rows at ``%c`` of a block buffer (feature ``f`` at ``%c + f·block``). Every split's
    ``%go<node>`` is computed, then each node's value is its left or right child's, children
    first: no branches."""
    head = [f"define private {_VECTOR} @tree_{index}(ptr %c) {{", "entry:"]
    if len(tree.leaf_value) == 1:
        return head + [f"  ret {_VECTOR} {_splat('double', double(tree.leaf_value[0]), LANES)}", "}"]
    globals_, body = [], []
    for feature in sorted(set(tree.split_feature)):
        body += [f"  %pf{feature} = getelementptr double, ptr %c, i64 {feature * block}", f"  %f{feature} = load {_VECTOR}, ptr %pf{feature}, align 32"]
    for node, feature in enumerate(tree.split_feature):
        constants, lines = _decision(index, tree, node, f"%f{feature}", LANES)
        globals_ += constants
        body += lines

    def value(child: int) -> str:
        return f"%v{child}" if child >= 0 else _splat("double", double(tree.leaf_value[~child]), LANES)

    for node in _children_first(tree):
        go, left, right = f"%go{node}", value(tree.left_child[node]), value(tree.right_child[node])
        body.append(f"  %v{node} = select <{LANES} x i1> {go}, {_VECTOR} {left}, {_VECTOR} {right}")
    return globals_ + head + body + [f"  ret {_VECTOR} %v0", "}"]


def _children_first(tree: Tree) -> list[int]:
    """The splits of ``tree`` in an order where each comes after both of its children."""
    order, pending = [], [0]
    while pending:
        node = pending.pop()
        order.append(node)
        pending += [child for child in (tree.left_child[node], tree.right_child[node]) if child >= 0]
    return order[::-1]


def _branching_tree(index: int, tree: Tree, block: int) -> list[str]:
    """``double @tree_<index>_row(ptr %row)``: the tree's leaf value for the row at ``%row`` of a
    block buffer (feature ``f`` at ``%row + f·block``), one branch per level, with the constant
    bitsets of its categorical splits before it. (A tree of one leaf is branch-free.)"""
    globals_, body = [], [f"define private double @tree_{index}_row(ptr %row) {{"]
    pending = [0]
    while pending:
        node = pending.pop()
        left, right = tree.left_child[node], tree.right_child[node]
        constants, lines = _decision(index, tree, node, f"%x{node}", 1)
        globals_ += constants
        body += [
            f"n{node}:", f"  %p{node} = getelementptr double, ptr %row, i64 {tree.split_feature[node] * block}",
            f"  %x{node} = load double, ptr %p{node}", *lines,
        ]  # fmt: skip
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


def _lanes_of(index: int, block: int) -> list[str]:
    """``@tree_<index>`` of a branching tree: ``@tree_<index>_row`` on each of the :data:`LANES` rows."""
    lines, vector = [f"define private {_VECTOR} @tree_{index}(ptr %c) {{", "entry:"], "poison"
    for lane in range(LANES):
        lines += [
            f"  %r{lane} = getelementptr double, ptr %c, i64 {lane}", f"  %s{lane} = call double @tree_{index}_row(ptr %r{lane})",
            f"  %v{lane} = insertelement {_VECTOR} {vector}, double %s{lane}, i32 {lane}",
        ]  # fmt: skip
        vector = f"%v{lane}"
    return lines + [f"  ret {_VECTOR} {vector}", "}"]


def _label(child: int) -> str:
    return f"n{child}" if child >= 0 else f"leaf{~child}"


def _numerical(node: str, x: str, threshold: float, decision: int, lanes: int) -> list[str]:
    """``%go<node>``: where ``Tree::NumericalDecision`` goes left, for ``x`` of ``lanes`` rows.
    NaN is 0.0 unless the missing type is NaN; a missing value (NaN, or |x| <= kZeroThreshold for
    missing type Zero) follows ``default_left``; else left when ``x <= threshold``."""
    missing, default_left = (decision >> 2) & 3, bool(decision & 2)
    kind, flags = _type("double", lanes), _type("i1", lanes)
    limit = _splat("double", double(threshold), lanes)
    if missing == _MISSING_ZERO:
        default = _splat("i1", "true" if default_left else "false", lanes)
        return [
            f"  %ge{node} = fcmp uge {kind} {x}, {_splat('double', double(-ZERO), lanes)}",
            f"  %le{node} = fcmp ule {kind} {x}, {_splat('double', double(ZERO), lanes)}",
            f"  %zero{node} = and {flags} %ge{node}, %le{node}", f"  %below{node} = fcmp ole {kind} {x}, {limit}",
            f"  %go{node} = select {flags} %zero{node}, {flags} {default}, {flags} %below{node}",
        ]  # fmt: skip
    lines = []
    if abs(threshold) <= ZERO:  # only here can the predictor's zeroing of tiny inputs change a decision
        fabs = "@llvm.fabs.f64" if lanes == 1 else f"@llvm.fabs.v{lanes}f64"
        lines = [
            f"  %abs{node} = call {kind} {fabs}({kind} {x})",
            f"  %tiny{node} = fcmp ole {kind} %abs{node}, {_splat('double', double(ZERO), lanes)}",
            f"  %z{node} = select {flags} %tiny{node}, {kind} {_splat('double', '0.0', lanes)}, {kind} {x}",
        ]  # fmt: skip
        x = f"%z{node}"
    if missing != _MISSING_NAN:  # NaN compares as 0.0
        default_left = threshold >= 0.0
    return lines + [f"  %go{node} = fcmp {'ule' if default_left else 'ole'} {kind} {x}, {limit}"]


def _categorical_lanes(node: str, x: str, words: list[int], bitset: str) -> list[str]:
    """``%go<node>`` of a categorical split for the :data:`LANES` rows of ``x``: the scalar
    decision on each row (a bitset look-up has no vector form), gathered into a vector."""
    lines, flags = [], "poison"
    for lane in range(LANES):
        name = f"{node}_{lane}"
        lines.append(f"  %x{name} = extractelement {_VECTOR} {x}, i32 {lane}")
        lines += _categorical(name, f"%x{name}", words, bitset, 1)
        gathered = f"%go{node}" if lane == LANES - 1 else f"%gl{name}"
        lines.append(f"  {gathered} = insertelement <{LANES} x i1> {flags}, i1 %go{name}, i32 {lane}")
        flags = gathered
    return lines


def _categorical(node: str, x: str, words: list[int], bitset: str | None, lanes: int) -> list[str]:
    """``%go<node>``: where ``Tree::CategoricalDecision`` goes left for ``x`` of ``lanes`` rows —
    the value truncated to an int is a category in the node's bitset ``words``. NaN, ±inf and
    values whose int is negative (<= -1) or past INT_MAX go right. The bitset's word is loaded
    from the constant ``bitset`` (one row), or, when ``bitset`` is None, chosen by selects among
    the few ``words``."""
    kind, ints, flags = _type("double", lanes), _type("i32", lanes), _type("i1", lanes)
    lines = [
        f"  %gt{node} = fcmp ogt {kind} {x}, {_splat('double', '-1.0', lanes)}",  # false for NaN
        f"  %lt{node} = fcmp olt {kind} {x}, {_splat('double', double(2.0**31), lanes)}",
        f"  %ok{node} = and {flags} %gt{node}, %lt{node}",
        f"  %safe{node} = select {flags} %ok{node}, {kind} {x}, {kind} {_splat('double', '0.0', lanes)}",
        f"  %cat{node} = fptosi {kind} %safe{node} to {ints}",
        f"  %in{node} = icmp ult {ints} %cat{node}, {_splat('i32', str(32 * len(words)), lanes)}",
        f"  %hi{node} = lshr {ints} %cat{node}, {_splat('i32', '5', lanes)}",
    ]  # fmt: skip
    if bitset is None:  # a word past the last is outside the bitset: %in is false there
        word = _splat("i32", str(words[-1]), lanes)
        for position in reversed(range(len(words) - 1)):
            lines += [
                f"  %is{node}_{position} = icmp eq {ints} %hi{node}, {_splat('i32', str(position), lanes)}",
                f"  %word{node}_{position} = select {flags} %is{node}_{position}, {ints} {_splat('i32', str(words[position]), lanes)}, {ints} {word}",
            ]  # fmt: skip
            word = f"%word{node}_{position}"
    else:
        lines += [
            f"  %w{node} = select i1 %in{node}, i32 %hi{node}, i32 0",
            f"  %wp{node} = getelementptr [{len(words)} x i32], ptr {bitset}, i32 0, i32 %w{node}",
            f"  %word{node} = load i32, ptr %wp{node}",
        ]  # fmt: skip
        word = f"%word{node}"
    return lines + [
        f"  %lo{node} = and {ints} %cat{node}, {_splat('i32', '31', lanes)}", f"  %sh{node} = lshr {ints} {word}, %lo{node}",
        f"  %bit{node} = trunc {ints} %sh{node} to {flags}", f"  %okin{node} = and {flags} %ok{node}, %in{node}",
        f"  %go{node} = and {flags} %okin{node}, %bit{node}",
    ]  # fmt: skip


def _root_function(trees: int, features: int, outputs: int, block: int) -> list[str]:
    """``@sqlml_forest``: for each block of rows in [start, end), copy it column-major into
    ``%buf`` (:func:`_copy_block`), add each tree's values onto the running sums in ``%acc``
    (:func:`_sum_trees`), then store the sums into ``out`` (:func:`_write_sums`)."""
    last = f"t{trees - 1}" if trees else "zero"
    return _copy_block(features, outputs, block) + _sum_trees(trees, outputs, block) + _write_sums(outputs, block, last)


def _copy_block(features: int, outputs: int, block: int) -> list[str]:
    """The blocks' loop head: ``%n`` rows from ``%b`` (the last block's ``%lanes`` rounded up to a
    multiple of :data:`LANES`) copied column-major into ``%buf`` — padding rows as zeros, read
    from the buffer rather than past the rows — and ``%acc`` zeroed (LightGBM's sums start at 0.0)."""
    return [
        f"define void @{ENTRY}(ptr %rows, i64 %rs, i64 %fs, ptr %out, i64 %start, i64 %end) {{", "entry:",
        f"  %buf = alloca [{features * block} x double], align 32", f"  %acc = alloca [{outputs * block} x double], align 32",
        "  br label %block",
        "block:", "  %b = phi i64 [%start, %entry], [%bend, %write]", "  %any = icmp slt i64 %b, %end",
        "  br i1 %any, label %size, label %done",
        "size:", "  %rest = sub i64 %end, %b", f"  %full = icmp sgt i64 %rest, {block}",
        f"  %n = select i1 %full, i64 {block}, i64 %rest", "  %bend = add i64 %b, %n",
        f"  %up = add i64 %n, {LANES - 1}", f"  %lanes = and i64 %up, {-LANES}", "  br label %copy",
        "copy:", "  %f = phi i64 [0, %size], [%fnext, %copied]", "  %foff = mul i64 %f, %fs",
        "  %column = getelementptr double, ptr %rows, i64 %foff", f"  %doff = mul i64 %f, {block}",
        "  %dst = getelementptr double, ptr %buf, i64 %doff", "  br label %row",
        "row:", "  %r = phi i64 [0, %copy], [%rnext, %row]", "  %valid = icmp slt i64 %r, %n", "  %srow = add i64 %b, %r",
        "  %soff = mul i64 %srow, %rs", "  %sp = getelementptr double, ptr %column, i64 %soff",
        "  %from = select i1 %valid, ptr %sp, ptr %buf", "  %xv = load double, ptr %from",
        "  %xs = select i1 %valid, double %xv, double 0.0", "  %dp = getelementptr double, ptr %dst, i64 %r", "  store double %xs, ptr %dp",
        "  %rnext = add i64 %r, 1", "  %rmore = icmp slt i64 %rnext, %lanes", "  br i1 %rmore, label %row, label %copied",
        "copied:", "  %fnext = add i64 %f, 1", f"  %fmore = icmp slt i64 %fnext, {features}", "  br i1 %fmore, label %copy, label %zero",
        "zero:", f"  call void @llvm.memset.p0.i64(ptr align 32 %acc, i8 0, i64 {outputs * block * 8}, i1 false)",
    ]  # fmt: skip


def _sum_trees(trees: int, outputs: int, block: int) -> list[str]:
    """For each tree in LightGBM's order (tree ``i`` adds to output ``i % outputs``), a loop over
    the block's rows :data:`LANES` at a time adding its values onto their output's sums."""
    lines, previous = ["  br label %t0" if trees else "  br label %write"], "zero"
    for tree in range(trees):
        t, following = f"%t{tree}_", f"t{tree + 1}" if tree + 1 < trees else "write"
        lines += [
            f"t{tree}:", f"  {t}r = phi i64 [0, %{previous}], [{t}next, %t{tree}]",
            f"  {t}c = getelementptr double, ptr %buf, i64 {t}r", f"  {t}v = call {_VECTOR} @tree_{tree}(ptr {t}c)",
            f"  {t}ai = add i64 {t}r, {tree % outputs * block}", f"  {t}ap = getelementptr double, ptr %acc, i64 {t}ai",
            f"  {t}s = load {_VECTOR}, ptr {t}ap, align 32", f"  {t}sum = fadd {_VECTOR} {t}s, {t}v",
            f"  store {_VECTOR} {t}sum, ptr {t}ap, align 32", f"  {t}next = add i64 {t}r, {LANES}",
            f"  {t}more = icmp slt i64 {t}next, %lanes", f"  br i1 {t}more, label %t{tree}, label %{following}",
        ]  # fmt: skip
        previous = f"t{tree}"
    return lines


def _write_sums(outputs: int, block: int, previous: str) -> list[str]:
    """The block's ``%n`` rows of sums from ``%acc`` (column-major) into ``out`` (row-major),
    after the block ``previous``; then the next block."""
    lines = ["write:", f"  %w = phi i64 [0, %{previous}], [%wnext, %write]", "  %wrow = add i64 %b, %w", f"  %wo = mul i64 %wrow, {outputs}"]
    for output in range(outputs):
        o = f"%o{output}_"
        lines += [
            f"  {o}ai = add i64 %w, {output * block}", f"  {o}ap = getelementptr double, ptr %acc, i64 {o}ai",
            f"  {o}s = load double, ptr {o}ap", f"  {o}oi = add i64 %wo, {output}",
            f"  {o}op = getelementptr double, ptr %out, i64 {o}oi", f"  store double {o}s, ptr {o}op",
        ]  # fmt: skip
    lines += ["  %wnext = add i64 %w, 1", "  %wmore = icmp slt i64 %wnext, %n", "  br i1 %wmore, label %write, label %block"]
    return lines + ["done:", "  ret void", "}"]
