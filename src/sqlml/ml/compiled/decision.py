"""When a forest gets compiled: the cost model (constants measured on this project's bench machine)
and the rule, as pure functions of a forest's shape and the rows a statement scores.

Costs are CPU seconds of one thread: compiling a forest of ``L`` leaves takes ``K = k0 + k1·L``
(the whole build: LLVM's setup, the IR text, O2 code generation, loading and the probe check), and
scoring a row that descends ``D`` tree levels in all (a tree of ``n`` leaves counted log2 ``n``
deep) takes ``c = c1·D`` in LightGBM and ``v = v1·D`` compiled; ``S = c − v`` is what a compiled
row saves. ``bench/bench_compiled_predict.py --parts threshold`` measures them on boosted
trees of 10–500 rounds (bench/README.md, issue 19 part 5).

* :func:`repay_rows` — ``K / S``: the rows whose savings repay the compile's CPU. Once a process
  has scored that many rows of a model (or a statement is about to), compiling it for later
  statements is worth its CPU (ski rental), so a compile starts *in the background*: a separate
  process at idle priority (:mod:`sqlml.ml.compiled.background`), started once the statement's
  estimated rows are scored, whose result the next statement loads — so it takes nothing from
  the statement that starts it, in CPU or wall time.
* :func:`statement_rows` — the rows a statement must score for compiling *within it* to cost it
  neither wall nor CPU time on ``T`` threads. While the compile's ``K`` seconds run on one core,
  LightGBM scores ``K(T−1)/c`` rows on the others, and only the rows after them save ``S`` each:
  ``R ≥ K/S + K(T−1)/c`` (the wall-time and CPU conditions coincide when the statement keeps every
  core busy), times :data:`MARGIN` for what the model leaves out (DuckDB's share of each row, the
  compile's cache traffic, load changing during the statement).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Compile CPU seconds: a fixed part and per leaf. Measured with the block kernel (CODEGEN_VERSION 2,
#: 2026-12-03, load 4–14, ``--parts threshold``): 0.27 s for 616 leaves (10 rounds), 1.01 s for
#: 3,050 (50), 4.12 s for 12,064 (200) — a fit of 0.06 s + 0.34 ms a leaf, rounded up.
COMPILE_SECONDS = 0.1
COMPILE_SECONDS_PER_LEAF = 350e-6
#: LightGBM's and the compiled forest's CPU seconds a row and tree level descended. Measured on one
#: thread in the same run: 7.9, 10.7 and 16.3 ns (10, 50, 200 rounds: LightGBM's tree arrays leave
#: the caches as the forest grows; 12–24 ns at load 13–20 before) and 2.6, 1.6, 1.7 ns (the block
#: copy weighs more on a small forest). The constants are the smallest forest's, so that no forest
#: compiles sooner than it repays, and the larger ones, which save more, compile late by at most
#: ~3× (tests/ml/compiled/test_decision.py holds the model to these measurements).
LIGHTGBM_SECONDS_PER_ROW_LEVEL = 8e-9
COMPILED_SECONDS_PER_ROW_LEVEL = 2.5e-9
#: Factor on the rows a statement must score to compile within it (see the module's docstring).
MARGIN = 1.5

#: What a statement does about a forest that is neither compiled nor cached.
NOW, BACKGROUND, NOTHING = "now", "background", "nothing"


@dataclass(frozen=True)
class Costs:
    """A forest's costs in CPU seconds: compiling it, and scoring one row with LightGBM and compiled."""

    compile: float
    lightgbm: float
    compiled: float

    @property
    def saved(self) -> float:
        """CPU seconds a row scored compiled saves."""
        return self.lightgbm - self.compiled


def costs(leaves: Sequence[int]) -> Costs:
    """The cost model's costs for a forest whose trees have ``leaves`` leaves each (counted one
    level deep at least, so that a forest of no trees costs a row something)."""
    levels = max(sum(math.log2(max(count, 2)) for count in leaves), 1.0)
    return Costs(
        compile=COMPILE_SECONDS + COMPILE_SECONDS_PER_LEAF * sum(leaves),
        lightgbm=LIGHTGBM_SECONDS_PER_ROW_LEVEL * levels, compiled=COMPILED_SECONDS_PER_ROW_LEVEL * levels,
    )  # fmt: skip


def repay_rows(cost: Costs) -> int:
    """Rows whose savings repay the compile's CPU: ``K / S``."""
    return math.ceil(cost.compile / cost.saved)


def statement_rows(cost: Costs, threads: int) -> int:
    """Rows one statement on ``threads`` threads must score for a compile within it to repay in
    its own wall and CPU time: :data:`MARGIN` × ``(K/S + K(T−1)/c)``."""
    return math.ceil(MARGIN * (cost.compile / cost.saved + cost.compile * (threads - 1) / cost.lightgbm))


def decide(expected: int | None, counted: int, repay: int, statement: int, spare: bool) -> str:
    """What to do for a forest with nothing compiled or cached: :data:`NOW` (compile in this
    process, overlapping the statement), :data:`BACKGROUND` (LightGBM scores the statement on
    all its threads, then a separate idle process fills the cache for the statements after it)
    or :data:`NOTHING`.

    Args:
        expected: the rows the statement about to run will score (DuckDB's estimate), or None
            part-way through scoring, where only the background may start.
        counted: the rows of this forest scored in this process so far (before ``expected``).
        repay: :func:`repay_rows`; statement: :func:`statement_rows`.
        spare: whether the machine has a core to spare for the compiler
            (:func:`sqlml.ml.compiled.predictor.cores_to_spare`).
    """
    if expected is not None and spare and expected >= statement:
        return NOW
    return BACKGROUND if counted + (expected or 0) >= repay else NOTHING
