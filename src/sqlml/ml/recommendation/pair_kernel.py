"""Machine code for Σ a·s² − b·s over a list of (user, item) pairs, s = x_u·y_i: the stored
pairs' part of the implicit model's training loss (:mod:`sqlml.ml.recommendation.pairs`).

Every iteration's loss needs each stored pair's score, about a million a model. In NumPy that
is two gathers of factor rows into buffers, a product and a row sum per chunk (~25 CPU-ms a pass
at 1M ratings × 32 factors, the floor of that shape); this loop reads each pair's two rows in
place and keeps the score in registers (~7 CPU-ms). It is exact in float64: each factor is
widened to double before the product (a product of two float32 values is exact in double), the
k products are summed in double lanes, and the pairs' terms in one double — so the sum is the
float64 value of the float32 factors' loss to ~1e-14, which no float32 chunk sum gave (those were
within ~1e-8).

The code is generated for one factor count and dtype (the dot product unrolled over vectors of
:data:`LANES`) and JIT-compiled in this process with llvmlite (:mod:`sqlml.ml.compiled.machine`,
~30 ms), once per process and shape; nothing is written to disk, so there is no cache to trust.
The entry point is ``double sqlml_pair_loss(ptr X, ptr Y, ptr users, ptr items, ptr square,
ptr linear, i64 first, i64 last)``: C-ordered (rows, k) factors X and Y, i32 pair rows and columns,
float32 weights; pairs first … last − 1. ctypes releases the GIL while it runs.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

ENTRY = "sqlml_pair_loss"
ENTRY_TYPE = ctypes.CFUNCTYPE(ctypes.c_double, *[ctypes.c_void_p] * 6, ctypes.c_int64, ctypes.c_int64)
#: Factors multiplied per vector instruction: one AVX2 register of doubles (narrower machines split it).
LANES = 4
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


class PairLoss:
    """The compiled loop for ``factors`` factors of ``dtype`` (float32 or float64)."""

    def __init__(self, factors: int, dtype: np.dtype) -> None:
        from sqlml.ml.compiled import machine

        text = pair_loss_ir(factors, _TYPES[np.dtype(dtype)], machine.process_triple())
        self._loaded = machine.Loaded(machine.compile_ir(text), ENTRY, ENTRY_TYPE)  # kept: it owns the code

    def __call__(self, users: np.ndarray, items: np.ndarray, square: np.ndarray, linear: np.ndarray,
                 user_factors: np.ndarray, item_factors: np.ndarray, first: int, last: int) -> float:  # fmt: skip
        """Σ square·s² − linear·s over pairs ``first`` … ``last`` − 1 (the arrays as the module says)."""
        return self._loaded.function(
            user_factors.ctypes.data, item_factors.ctypes.data, users.ctypes.data, items.ctypes.data,
            square.ctypes.data, linear.ctypes.data, first, last,
        )  # fmt: skip


@functools.cache
def pair_loss(factors: int, dtype: np.dtype) -> PairLoss:
    """The process's :class:`PairLoss` for ``factors`` factors of ``dtype`` (compiled on first use)."""
    return PairLoss(factors, np.dtype(dtype))


def pair_loss_ir(factors: int, element: str, triple: str) -> str:
    """The LLVM IR module (text) of the entry point for ``factors`` factors of ``element``
    (``float`` or ``double``)."""
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
        body += [f"  %m{block} = fmul {wide} %x{block}, %y{block}", f"  %a{block} = fadd {wide} {sums[block % 2]}, %m{block}"]
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
        f"define double @{ENTRY}(ptr noalias %X, ptr noalias %Y, ptr noalias %users, ptr noalias %items, "
        "ptr noalias %square, ptr noalias %linear, i64 %first, i64 %last) nounwind {",
        "entry:",
        "  %empty = icmp sge i64 %first, %last",
        "  br i1 %empty, label %done, label %pair",
        "pair:",
        "  %j = phi i64 [%first, %entry], [%next, %pair]",
        "  %total = phi double [0.0, %entry], [%sum, %pair]",
        *_row("x", "users", "X", factors, element),
        *_row("y", "items", "Y", factors, element),
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


def _row(name: str, codes: str, factors_pointer: str, factors: int, element: str) -> list[str]:
    """``%name``: the address of the factors row of pair ``%j``'s code in ``codes``."""
    return [
        f"  %{name}.cp = getelementptr i32, ptr %{codes}, i64 %j", f"  %{name}.c32 = load i32, ptr %{name}.cp",
        f"  %{name}.c = zext i32 %{name}.c32 to i64", f"  %{name}.o = mul i64 %{name}.c, {factors}",
        f"  %{name} = getelementptr {element}, ptr %{factors_pointer}, i64 %{name}.o",
    ]  # fmt: skip


def _weight(name: str) -> list[str]:
    """``%name.d``: pair ``%j``'s float32 weight in array ``%name``, widened to double."""
    return [f"  %{name}.p = getelementptr float, ptr %{name}, i64 %j", f"  %{name}.f = load float, ptr %{name}.p", f"  %{name}.d = fpext float %{name}.f to double"]
