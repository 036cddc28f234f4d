"""Machine code for the two loops of an implicit matrix factorization that NumPy can only do
through large temporaries: the training loss's stored pairs and the ranking metrics' counts.

* :func:`pair_loss` — Σ a·s² − b·s over a list of (user, item) pairs, s = x_u·y_i: the stored
  pairs' part of the training loss (:mod:`sqlml.ml.recommendation.pairs`). Every iteration's loss
  needs each stored pair's score, about a million a model. In NumPy that is two gathers of factor
  rows into buffers, a product and a row sum per chunk (~25 CPU-ms a pass at 1M ratings × 32
  factors, the floor of that shape); this loop reads each pair's two rows in place and keeps the
  score in registers (~7 CPU-ms). It is exact in float64: each factor is widened to double
  before the product (a product of two float32 values is exact in double, so fusing it with its
  sum where the CPU has FMA rounds the same), the k products are summed in double lanes and the
  pairs' terms in one double — the float64 value of the factors' sum to ~1e-14 (the float32
  chunk sums it replaces were within ~1e-8). Entry point: ``double
  sqlml_pair_loss(ptr X, ptr Y, ptr users, ptr items, ptr square, ptr linear, i64 first, i64
  last)``: C-ordered (rows, k) factors X and Y, the pairs' rows and columns (int32, or int64
  past 2³¹ − 1 rows), float32 weights; pairs first … last − 1. Generated for one factor count,
  dtype and index width (the dot product unrolled over vectors of :data:`LANES`); row offsets
  are 64-bit. NaN or infinite factors give a NaN (or infinite) sum, as NumPy's would.
* :func:`rank_counts` — for each row of a C-ordered score matrix and each of its thresholds,
  how many scores are strictly above it (:mod:`sqlml.ml.recommendation.ranking`'s ranks): a
  vector compare and add per 4 scores, ~25 µs a 10,000-item row with 20 relevant items, where
  sorting the row cost ~80 µs. Entry point: ``void sqlml_rank_counts(ptr scores, i64 width,
  i64 rows, ptr thresholds, ptr edges, ptr out)``: row r's thresholds (and i64 counts out) are
  edges[r] … edges[r + 1] − 1. A NaN compares false, as in NumPy: a NaN score is above no
  threshold and nothing is above a NaN threshold.

Both are JIT-compiled in this process with llvmlite (:mod:`sqlml.ml.compiled.machine`, ~15 ms
each after LLVM's ~90 ms start), once per process and shape, under a lock (two statements
training at once compile a loop once; llvmlite serialises its own LLVM calls); nothing is
written to disk, so there is no cache to trust. ctypes releases the GIL while they run, and the
loops only read their inputs and write their own output, so any number of threads may call
one. Where LLVM cannot compile or load code at run time, the same sums are computed by NumPy
(:class:`NumpyPairLoss`, :func:`numpy_rank_counts`; float64 throughout, equal to rounding, a
few times slower) and a warning says why, once per loop: training and ML.EVALUATE still work.
Each call checks its arrays' types and shapes first (a wrong one would read out of bounds).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
from collections.abc import Callable

import numpy as np

PAIR_LOSS = "sqlml_pair_loss"
PAIR_LOSS_TYPE = ctypes.CFUNCTYPE(ctypes.c_double, *[ctypes.c_void_p] * 6, ctypes.c_int64, ctypes.c_int64)
RANK_COUNTS = "sqlml_rank_counts"
RANK_COUNTS_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, *[ctypes.c_void_p] * 3)
#: Factors multiplied per vector instruction: one AVX2 register of doubles (narrower machines split it).
LANES = 4
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_INDEX_TYPES = {np.dtype(np.int32): "i32", np.dtype(np.int64): "i64"}
#: Pairs a NumPy pair loss scores at once (two (pairs, k) float64 gathers: 4 MB at k = 32).
NUMPY_CHUNK = 8_192
_compiling = threading.Lock()
_log = logging.getLogger(__name__)


def index_dtype(rows: int) -> np.dtype:
    """The codes' dtype for factors of ``rows`` rows: int32 while every code fits, else int64."""
    return np.dtype(np.int32 if rows <= np.iinfo(np.int32).max else np.int64)


def _loaded(ir: Callable[[str], str], entry: str, entry_type: type):
    """The IR module ``ir(triple)`` compiled for this machine and loaded (kept by the caller: it owns the code)."""
    from sqlml.ml.compiled import machine

    return machine.Loaded(machine.compile_ir(ir(machine.process_triple())), entry, entry_type)


class PairLoss:
    """The compiled loop for ``factors`` factors of ``dtype`` (float32 or float64) and codes of ``index`` (int32 or int64)."""

    def __init__(self, factors: int, dtype: np.dtype, index: np.dtype = np.dtype(np.int32)) -> None:
        self.factors, self.dtype, self.index = factors, np.dtype(dtype), np.dtype(index)
        ir = functools.partial(pair_loss_ir, factors, _TYPES[self.dtype], index=_INDEX_TYPES[self.index])
        self._loaded = _loaded(ir, PAIR_LOSS, PAIR_LOSS_TYPE)

    def __call__(self, users: np.ndarray, items: np.ndarray, square: np.ndarray, linear: np.ndarray,
                 user_factors: np.ndarray, item_factors: np.ndarray, first: int, last: int) -> float:  # fmt: skip
        """Σ square·s² − linear·s over pairs ``first`` … ``last`` − 1 (the arrays as :func:`pair_loss`
        says; the codes must index the factors' rows, which :class:`~sqlml.ml.recommendation.pairs.PairSums` checks).

        Raises:
            ValueError: an array of another dtype, shape or layout than the loop's, or pairs out of range.
        """
        _check_pairs(self, users, items, square, linear, user_factors, item_factors, first, last)
        return self._loaded.function(
            user_factors.ctypes.data, item_factors.ctypes.data, users.ctypes.data, items.ctypes.data,
            square.ctypes.data, linear.ctypes.data, first, last,
        )  # fmt: skip


class NumpyPairLoss:
    """:class:`PairLoss` in NumPy, where LLVM fails: each chunk of :data:`NUMPY_CHUNK` pairs'
    factor rows gathered as float64, their row products and terms summed in float64."""

    def __init__(self, factors: int, dtype: np.dtype, index: np.dtype = np.dtype(np.int32)) -> None:
        self.factors, self.dtype, self.index = factors, np.dtype(dtype), np.dtype(index)

    def __call__(self, users: np.ndarray, items: np.ndarray, square: np.ndarray, linear: np.ndarray,
                 user_factors: np.ndarray, item_factors: np.ndarray, first: int, last: int) -> float:  # fmt: skip
        """As :meth:`PairLoss.__call__`."""
        _check_pairs(self, users, items, square, linear, user_factors, item_factors, first, last)
        total = 0.0
        for start in range(first, last, NUMPY_CHUNK):
            chunk = slice(start, min(start + NUMPY_CHUNK, last))
            x = user_factors.take(users[chunk], axis=0).astype(np.float64)
            y = item_factors.take(items[chunk], axis=0).astype(np.float64)
            scores = np.einsum("ij,ij->i", x, y)
            total += float(np.sum(square[chunk] * scores * scores - linear[chunk] * scores, dtype=np.float64))
        return total


def _check_pairs(loop: PairLoss | NumpyPairLoss, users, items, square, linear, user_factors, item_factors, first: int, last: int) -> None:
    """Raise ValueError unless the arrays are what ``loop`` reads (see :meth:`PairLoss.__call__`)."""
    for name, factors in (("user_factors", user_factors), ("item_factors", item_factors)):
        if factors.dtype != loop.dtype or factors.ndim != 2 or factors.shape[1] != loop.factors or not factors.flags.c_contiguous:
            raise ValueError(f"{name} must be C-ordered (rows, {loop.factors}) {loop.dtype}, not {factors.dtype} {factors.shape}")
    for name, array, dtype in (("users", users, loop.index), ("items", items, loop.index), ("square", square, np.float32), ("linear", linear, np.float32)):
        if array.dtype != dtype or array.ndim != 1 or not array.flags.c_contiguous or len(array) < last:
            raise ValueError(f"{name} must be a contiguous {np.dtype(dtype)} vector of at least {last} values, not {array.dtype} {array.shape}")
    if first < 0:
        raise ValueError(f"the first pair must be 0 or more, not {first}")


def pair_loss(factors: int, dtype: np.dtype, index: np.dtype = np.dtype(np.int32)) -> PairLoss | NumpyPairLoss:
    """The process's :class:`PairLoss` for ``factors`` factors of ``dtype`` and codes of
    ``index`` (compiled on first use; :class:`NumpyPairLoss` if LLVM fails)."""
    dtype, index = np.dtype(dtype), np.dtype(index)  # one key per dtype, however it is named
    return _once(("pair_loss", factors, dtype.name, index.name), functools.partial(PairLoss, factors, dtype, index),
                 functools.partial(NumpyPairLoss, factors, dtype, index), "the training loss's pairs")  # fmt: skip


_loops: dict[tuple, Callable] = {}


def _once(key: tuple, compiled: Callable, fallback: Callable, what: str) -> Callable:
    """The process's loop ``key``: made by ``compiled()`` on first use, under a lock (once
    however many threads ask at once), else by ``fallback()`` with a warning saying why."""
    with _compiling:
        if key not in _loops:
            try:
                _loops[key] = compiled()
            except Exception as error:  # llvmlite missing or LLVM failing here: NumPy computes the same sums
                _log.warning("sqlml computes %s with NumPy: LLVM could not compile its loop (%s: %s)", what, type(error).__name__, error)
                _loops[key] = fallback()
        return _loops[key]


def pair_loss_ir(factors: int, element: str, triple: str, index: str = "i32") -> str:
    """The LLVM IR module (text) of ``sqlml_pair_loss`` for ``factors`` factors of ``element``
    (``float`` or ``double``) and codes of ``index`` (``i32`` or ``i64``)."""
    vector, wide = f"<{LANES} x {element}>", f"<{LANES} x double>"

    def widened(name: str, row: str, offset: int, lanes: bool) -> list[str]:
        """``%name``: the factors at ``row`` + ``offset`` (a vector of them or one) as double."""
        kind, target = (vector, wide) if lanes else (element, "double")
        address = [f"  %{name}.p = getelementptr {element}, ptr {row}, i64 {offset}"]
        if element == "double":
            return address + [f"  %{name} = load {kind}, ptr %{name}.p, align 8"]
        return address + [f"  %{name}.v = load {kind}, ptr %{name}.p, align 4", f"  %{name} = fpext {kind} %{name}.v to {target}"]

    body, sums = [], ["zeroinitializer", "zeroinitializer"]  # two chains of vector sums, alternating
    for block in range(factors // LANES):
        body += widened(f"x{block}", "%x", block * LANES, True) + widened(f"y{block}", "%y", block * LANES, True)
        body += [f"  %m{block} = fmul contract {wide} %x{block}, %y{block}", f"  %a{block} = fadd contract {wide} {sums[block % 2]}, %m{block}"]
        sums[block % 2] = f"%a{block}"
    body += [f"  %lanes = fadd {wide} {sums[0]}, {sums[1]}"]
    score = "0.0"
    for lane in range(LANES):
        body += [f"  %l{lane} = extractelement {wide} %lanes, i32 {lane}", f"  %s{lane} = fadd double {score}, %l{lane}"]
        score = f"%s{lane}"
    for rest in range(factors - factors % LANES, factors):
        body += widened(f"xr{rest}", "%x", rest, False) + widened(f"yr{rest}", "%y", rest, False)
        body += [f"  %mr{rest} = fmul double %xr{rest}, %yr{rest}", f"  %sr{rest} = fadd double {score}, %mr{rest}"]
        score = f"%sr{rest}"
    return "\n".join([
        f'target triple = "{triple}"',
        f"define double @{PAIR_LOSS}(ptr noalias %X, ptr noalias %Y, ptr noalias %users, ptr noalias %items, "
        "ptr noalias %square, ptr noalias %linear, i64 %first, i64 %last) nounwind {",
        "entry:",
        "  %empty = icmp sge i64 %first, %last",
        "  br i1 %empty, label %done, label %pair",
        "pair:",
        "  %j = phi i64 [%first, %entry], [%next, %pair]",
        "  %total = phi double [0.0, %entry], [%sum, %pair]",
        *_row("x", "users", "X", factors, element, index),
        *_row("y", "items", "Y", factors, element, index),
        *body,
        *_weight("square"), *_weight("linear"),
        f"  %ss = fmul double {score}, {score}",
        "  %as = fmul double %square.d, %ss",
        f"  %bs = fmul double %linear.d, {score}",
        "  %term = fsub double %as, %bs",
        "  %sum = fadd double %total, %term",
        "  %next = add i64 %j, 1",
        "  %more = icmp slt i64 %next, %last",
        "  br i1 %more, label %pair, label %done",
        "done:",
        "  %result = phi double [0.0, %entry], [%sum, %pair]",
        "  ret double %result",
        "}",
    ]) + "\n"  # fmt: skip


def _row(name: str, codes: str, factors_pointer: str, factors: int, element: str, index: str) -> list[str]:
    """``%name``: the address of the factors row of pair ``%j``'s code (of type ``index``) in
    ``codes``; the row's offset is computed in 64 bits (an int32 code times k passes 2³¹)."""
    code = f"%{name}.c" if index == "i64" else f"%{name}.cw"
    load = [f"  %{name}.cp = getelementptr {index}, ptr %{codes}, i64 %j", f"  {code} = load {index}, ptr %{name}.cp"]
    widen = [f"  %{name}.c = zext i32 %{name}.cw to i64"] if index == "i32" else []
    return load + widen + [
        f"  %{name}.o = mul i64 %{name}.c, {factors}", f"  %{name} = getelementptr {element}, ptr %{factors_pointer}, i64 %{name}.o",
    ]  # fmt: skip


def _weight(name: str) -> list[str]:
    """``%name.d``: pair ``%j``'s float32 weight in array ``%name``, widened to double."""
    return [f"  %{name}.p = getelementptr float, ptr %{name}, i64 %j", f"  %{name}.f = load float, ptr %{name}.p", f"  %{name}.d = fpext float %{name}.f to double"]


class RankCounts:
    """The compiled counting loop (see :func:`rank_counts`)."""

    def __init__(self) -> None:
        self._loaded = _loaded(rank_counts_ir, RANK_COUNTS, RANK_COUNTS_TYPE)

    def __call__(self, scores: np.ndarray, thresholds: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """For each threshold of row r of the C-ordered float64 ``scores`` (``thresholds[edges[r]
        : edges[r + 1]]``, float64), the number of that row's scores strictly above it (int64).

        Raises:
            ValueError: ``edges`` are not rows + 1 ascending bounds from 0 to ``len(thresholds)``.
        """
        scores, thresholds, edges = _rank_arrays(scores, thresholds, edges)
        out = np.empty(len(thresholds), dtype=np.int64)
        self._loaded.function(scores.ctypes.data, scores.shape[1], scores.shape[0], thresholds.ctypes.data, edges.ctypes.data, out.ctypes.data)
        return out


def numpy_rank_counts(scores: np.ndarray, thresholds: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """:class:`RankCounts` in NumPy, where LLVM fails: each row with thresholds sorted once, its
    thresholds' counts from ``searchsorted`` (its NaN scores, sorted last, left out)."""
    scores, thresholds, edges = _rank_arrays(scores, thresholds, edges)
    out = np.empty(len(thresholds), dtype=np.int64)
    for row in np.flatnonzero(np.diff(edges)):
        ordered = np.sort(scores[row])
        ordered = ordered[: len(ordered) - np.count_nonzero(np.isnan(ordered))]
        part = slice(edges[row], edges[row + 1])
        out[part] = len(ordered) - np.searchsorted(ordered, thresholds[part], side="right")
    return out


def _rank_arrays(scores, thresholds, edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The counting loops' arrays as they read them, checked (see :meth:`RankCounts.__call__`)."""
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    thresholds = np.ascontiguousarray(thresholds, dtype=np.float64)
    edges = np.ascontiguousarray(edges, dtype=np.int64)
    if scores.ndim != 2 or thresholds.ndim != 1 or edges.shape != (len(scores) + 1,):
        raise ValueError(f"need (rows, items) scores, thresholds and rows + 1 edges, not {scores.shape}, {thresholds.shape}, {edges.shape}")
    if edges[0] != 0 or edges[-1] != len(thresholds) or np.any(np.diff(edges) < 0):
        raise ValueError(f"edges must ascend from 0 to the {len(thresholds)} thresholds")
    return scores, thresholds, edges


def rank_counts() -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The process's :class:`RankCounts` (compiled on first use; :func:`numpy_rank_counts` if LLVM fails)."""
    return _once(("rank_counts",), RankCounts, lambda: numpy_rank_counts, "the ranking metrics' counts")


def rank_counts_ir(triple: str) -> str:
    """The LLVM IR module (text) of ``sqlml_rank_counts``: per threshold, a loop of two vectors of
    :data:`LANES` scores a step (two chains of counts), then the row's last scores one by one."""
    vector, counts = f"<{LANES} x double>", f"<{LANES} x i64>"
    step = 2 * LANES
    horizontal = []
    for lane in range(LANES):
        horizontal += [f"  %h{lane} = extractelement {counts} %both, i32 {lane}"]
    horizontal += ["  %sum1 = add i64 %h0, %h1", "  %sum2 = add i64 %sum1, %h2", "  %vector.count = add i64 %sum2, %h3"]
    chains = []
    for chain in range(2):
        offset = "%i" if chain == 0 else "%i.next.lanes"
        chains += [
            f"  %p{chain} = getelementptr double, ptr %base, i64 {offset}",
            f"  %v{chain} = load {vector}, ptr %p{chain}, align 8",
            f"  %above{chain} = fcmp ogt {vector} %v{chain}, %splat",
            f"  %mask{chain} = sext <{LANES} x i1> %above{chain} to {counts}",
            f"  %c{chain}.next = sub {counts} %c{chain}, %mask{chain}",  # a true lane is −1
        ]
    return "\n".join([
        f'target triple = "{triple}"',
        f"define void @{RANK_COUNTS}(ptr noalias %scores, i64 %width, i64 %rows, ptr noalias %thresholds, "
        "ptr noalias %edges, ptr noalias %out) nounwind {",
        "entry:",
        f"  %vector.end = and i64 %width, -{step}",
        "  %no.rows = icmp sle i64 %rows, 0",
        "  br i1 %no.rows, label %exit, label %row",
        "row:",
        "  %r = phi i64 [0, %entry], [%r.next, %row.end]",
        "  %row.offset = mul i64 %r, %width",
        "  %base = getelementptr double, ptr %scores, i64 %row.offset",
        "  %first.p = getelementptr i64, ptr %edges, i64 %r",
        "  %first = load i64, ptr %first.p",
        "  %r.next = add i64 %r, 1",
        "  %last.p = getelementptr i64, ptr %edges, i64 %r.next",
        "  %last = load i64, ptr %last.p",
        "  %no.thresholds = icmp sge i64 %first, %last",
        "  br i1 %no.thresholds, label %row.end, label %threshold",
        "threshold:",
        "  %t = phi i64 [%first, %row], [%t.next, %threshold.end]",
        "  %th.p = getelementptr double, ptr %thresholds, i64 %t",
        "  %th = load double, ptr %th.p",
        f"  %one = insertelement {vector} poison, double %th, i32 0",
        f"  %splat = shufflevector {vector} %one, {vector} poison, <{LANES} x i32> zeroinitializer",
        "  %no.vectors = icmp eq i64 %vector.end, 0",
        "  br i1 %no.vectors, label %vectors.done, label %vectors",
        "vectors:",
        "  %i = phi i64 [0, %threshold], [%i.next, %vectors]",
        f"  %c0 = phi {counts} [zeroinitializer, %threshold], [%c0.next, %vectors]",
        f"  %c1 = phi {counts} [zeroinitializer, %threshold], [%c1.next, %vectors]",
        f"  %i.next.lanes = add i64 %i, {LANES}",
        *chains,
        f"  %i.next = add i64 %i, {step}",
        "  %more.vectors = icmp ult i64 %i.next, %vector.end",
        "  br i1 %more.vectors, label %vectors, label %vectors.done",
        "vectors.done:",
        f"  %c0.end = phi {counts} [zeroinitializer, %threshold], [%c0.next, %vectors]",
        f"  %c1.end = phi {counts} [zeroinitializer, %threshold], [%c1.next, %vectors]",
        f"  %both = add {counts} %c0.end, %c1.end",
        *horizontal,
        "  %no.rest = icmp uge i64 %vector.end, %width",
        "  br i1 %no.rest, label %threshold.end, label %rest",
        "rest:",
        "  %j = phi i64 [%vector.end, %vectors.done], [%j.next, %rest]",
        "  %rest.count = phi i64 [%vector.count, %vectors.done], [%rest.next, %rest]",
        "  %pj = getelementptr double, ptr %base, i64 %j",
        "  %vj = load double, ptr %pj",
        "  %above.j = fcmp ogt double %vj, %th",
        "  %add.j = zext i1 %above.j to i64",
        "  %rest.next = add i64 %rest.count, %add.j",
        "  %j.next = add i64 %j, 1",
        "  %more.rest = icmp ult i64 %j.next, %width",
        "  br i1 %more.rest, label %rest, label %threshold.end",
        "threshold.end:",
        "  %count = phi i64 [%vector.count, %vectors.done], [%rest.next, %rest]",
        "  %out.p = getelementptr i64, ptr %out, i64 %t",
        "  store i64 %count, ptr %out.p",
        "  %t.next = add i64 %t, 1",
        "  %more.thresholds = icmp slt i64 %t.next, %last",
        "  br i1 %more.thresholds, label %threshold, label %row.end",
        "row.end:",
        "  %more.rows = icmp slt i64 %r.next, %rows",
        "  br i1 %more.rows, label %row, label %exit",
        "exit:",
        "  ret void",
        "}",
    ]) + "\n"  # fmt: skip
