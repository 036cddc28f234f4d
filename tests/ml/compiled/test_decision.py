"""The rule deciding when a forest is compiled (pure functions), at its boundaries."""

from __future__ import annotations

import math

import pytest

from sqlml.ml.compiled import decision
from sqlml.ml.compiled.decision import BACKGROUND, NOTHING, NOW, Costs, decide

#: Compiling costs 2 s; LightGBM 5 µs a row, compiled 1 µs: 4 µs saved a row.
COSTS = Costs(compile=2.0, lightgbm=5e-6, compiled=1e-6)


def test_a_compile_repays_its_cpu_from_compile_seconds_over_seconds_saved_a_row():
    assert decision.repay_rows(COSTS) == 500_000  # 2 s / 4 µs


@pytest.mark.parametrize(("threads", "rows"), [(1, 500_000), (2, 900_000), (4, 1_700_000)])
def test_a_statement_repays_a_compile_within_it_after_the_rows_scored_while_compiling(monkeypatch, threads, rows):
    """K/S rows repay the CPU; K(T−1)/c more are scored by LightGBM on the other cores while the
    compile runs (2 s × (T−1) / 5 µs) and save nothing."""
    monkeypatch.setattr(decision, "MARGIN", 1.0)
    assert decision.statement_rows(COSTS, threads) == rows
    monkeypatch.setattr(decision, "MARGIN", 1.5)
    assert decision.statement_rows(COSTS, threads) == math.ceil(1.5 * rows)


def test_the_costs_grow_with_the_leaves_compiled_and_the_levels_a_row_descends():
    small, deep = decision.costs([4] * 10), decision.costs([64] * 10)
    assert deep.compile - small.compile == pytest.approx(decision.COMPILE_SECONDS_PER_LEAF * 600)
    assert deep.lightgbm - small.lightgbm == pytest.approx(decision.LIGHTGBM_SECONDS_PER_ROW_LEVEL * 40)  # 6 − 2 levels a tree
    assert deep.saved > small.saved > 0


@pytest.mark.parametrize(
    ("rounds", "leaves", "measured"),
    [(10, 61.6, 883_050), (50, 61.0, 374_143), (200, 60.3, 239_312)],
)
def test_the_constants_repay_a_compile_no_sooner_than_measured_and_at_most_3x_later(rounds, leaves, measured):
    """``bench_compiled_predict.py --parts threshold`` (bench/README.md, issue 19 status): the rows
    whose savings repaid the compile of depth-6 forests of 10, 50 and 200 rounds (measured CPU
    of the compile, LightGBM and the kernel). The model never compiles before that, nor at more
    than three times it (the per-level constants are the smallest forest's)."""
    modelled = decision.repay_rows(decision.costs([round(leaves)] * rounds))
    assert measured <= modelled <= 3 * measured


@pytest.mark.parametrize(
    ("expected", "counted", "spare", "how"),
    [
        (900, 0, True, NOW),  # the statement's rows repay a compile within it
        (899, 0, True, BACKGROUND),  # one row short: they still repay its CPU (≥ 500)
        (900, 0, False, BACKGROUND),  # no core to spare: never in the statement's process
        (500, 0, True, BACKGROUND),  # exactly the CPU break-even
        (499, 0, True, NOTHING),  # one row short of it
        (300, 200, True, BACKGROUND),  # with the rows this process scored before
        (299, 200, True, NOTHING),
        (None, 500, True, BACKGROUND),  # part-way through scoring (no estimate): only the background
        (None, 499, True, NOTHING),
        (None, 10**9, True, BACKGROUND),  # never NOW without a statement's estimate
    ],
)
def test_decide_compiles_now_in_the_background_or_not_at_all(expected, counted, spare, how):
    assert decide(expected, counted, repay=500, statement=900, spare=spare) == how
