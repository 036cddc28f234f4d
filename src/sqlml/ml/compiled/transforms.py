"""LightGBM's output transforms — sigmoid, exp, softmax — computed as LightGBM computes them, with
the C library's ``exp``, so a compiled forest's outputs equal ``Booster.predict``'s bit for bit.

NumPy's ``exp`` is not the C library's on every CPU: on AVX-512 hosts NumPy runs its own
vectorised ``exp``, which rounds some values one unit in the last place away from glibc's (a
3-class softmax differed from ``Booster.predict`` in 83 of 4,500 values, by 2.2e-16).
LightGBM's ``ConvertOutput`` calls ``std::exp``; the function below calls the same ``exp`` in the
same order of operations (``BinaryLogloss``/``MulticlassOVA``: ``1 / (1 + exp(-sigmoid * x))``;
the log-link objectives: ``exp(x)``; ``Common::Softmax``: the running maximum, then the
exponentials and their sum in class order, then the divisions). It is a few dozen lines of IR
compiled once per process (no model data in it, so nothing is cached on disk).
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

from sqlml.ml.compiled.machine import Loaded, compile_ir, process_triple

ENTRY = "sqlml_transform"
#: ``void sqlml_transform(double* scores, i64 rows, i64 outputs, i32 kind, double slope)``, in place.
ENTRY_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int32, ctypes.c_double)
KINDS = {"sigmoid": 1, "exp": 2, "softmax": 3}

_IR = """
declare double @exp(double)

define void @sqlml_transform(ptr %s, i64 %rows, i64 %k, i32 %kind, double %slope) {
entry:
  %n = mul i64 %rows, %k
  %negslope = fneg double %slope
  %is_softmax = icmp eq i32 %kind, 3
  br i1 %is_softmax, label %row, label %elem

elem:
  %i = phi i64 [0, %entry], [%i1, %elem_next]
  %elem_done = icmp sge i64 %i, %n
  br i1 %elem_done, label %exit, label %elem_body
elem_body:
  %p = getelementptr double, ptr %s, i64 %i
  %v = load double, ptr %p
  %is_sigmoid = icmp eq i32 %kind, 1
  br i1 %is_sigmoid, label %sigmoid, label %exponential
sigmoid:
  %t = fmul double %negslope, %v
  %e = call double @exp(double %t)
  %d = fadd double 1.0, %e
  %r = fdiv double 1.0, %d
  store double %r, ptr %p
  br label %elem_next
exponential:
  %x = call double @exp(double %v)
  store double %x, ptr %p
  br label %elem_next
elem_next:
  %i1 = add i64 %i, 1
  br label %elem

row:
  %row_index = phi i64 [0, %entry], [%row_next, %row_end]
  %rows_done = icmp sge i64 %row_index, %rows
  br i1 %rows_done, label %exit, label %row_body
row_body:
  %base = mul i64 %row_index, %k
  %p0 = getelementptr double, ptr %s, i64 %base
  %first = load double, ptr %p0
  br label %max
max:
  %j = phi i64 [1, %row_body], [%j1, %max_body]
  %m = phi double [%first, %row_body], [%m1, %max_body]
  %max_done = icmp sge i64 %j, %k
  br i1 %max_done, label %sum, label %max_body
max_body:
  %pj = getelementptr double, ptr %p0, i64 %j
  %vj = load double, ptr %pj
  %below = fcmp olt double %vj, %m
  %m1 = select i1 %below, double %m, double %vj
  %j1 = add i64 %j, 1
  br label %max
sum:
  %q = phi i64 [0, %max], [%q1, %sum_body]
  %w = phi double [0.0, %max], [%w1, %sum_body]
  %sum_done = icmp sge i64 %q, %k
  br i1 %sum_done, label %divide, label %sum_body
sum_body:
  %pq = getelementptr double, ptr %p0, i64 %q
  %vq = load double, ptr %pq
  %shifted = fsub double %vq, %m
  %eq = call double @exp(double %shifted)
  store double %eq, ptr %pq
  %w1 = fadd double %w, %eq
  %q1 = add i64 %q, 1
  br label %sum
divide:
  %u = phi i64 [0, %sum], [%u1, %divide_body]
  %divide_done = icmp sge i64 %u, %k
  br i1 %divide_done, label %row_end, label %divide_body
divide_body:
  %pu = getelementptr double, ptr %p0, i64 %u
  %vu = load double, ptr %pu
  %xu = fdiv double %vu, %w
  store double %xu, ptr %pu
  %u1 = add i64 %u, 1
  br label %divide
row_end:
  %row_next = add i64 %row_index, 1
  br label %row

exit:
  ret void
}
"""


@functools.cache
def _loaded() -> Loaded:
    """The transform function, compiled and loaded once per process (kept alive by the cache)."""
    return Loaded(compile_ir(f'target triple = "{process_triple()}"\n{_IR}'), ENTRY, ENTRY_TYPE)


def transform(scores: np.ndarray, kind: str, slope: float = 1.0) -> np.ndarray:
    """``scores`` (rows × outputs, C-ordered float64) transformed in place by ``kind`` (``sigmoid``
    with LightGBM's ``slope``, ``exp`` or ``softmax`` over each row); returned for chaining."""
    if not scores.flags.c_contiguous or scores.dtype != np.float64:
        raise ValueError("transform() needs C-ordered float64 scores")
    rows, outputs = scores.shape if scores.ndim == 2 else (scores.shape[0], 1)
    _loaded().function(scores.ctypes.data, rows, outputs, KINDS[kind], float(slope))
    return scores
