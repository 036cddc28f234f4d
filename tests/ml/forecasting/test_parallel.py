"""Fitting many series on every core (sqlml.ml.forecasting.parallel.map_series): serial for small
work, worker processes for the rest, outcomes in input order, errors reaching the caller."""

from __future__ import annotations

import os
from functools import partial

import numpy as np
import pandas as pd
import pytest

from sqlml.errors import InvalidOptionError, TrainingError
from sqlml.ml.forecasting import parallel
from sqlml.ml.forecasting.parallel import map_series
from sqlml.ml.forecasting.preparation import prepare


def where(item: int) -> tuple[int, int, str | None, str | None]:
    """The item, the process that ran it, and the thread limits it ran under."""
    return item, os.getpid(), os.environ.get("OPENBLAS_NUM_THREADS"), os.environ.get("NUMBA_NUM_THREADS")


def refuse(item: int, *, bad: int) -> int:
    if item == bad:
        raise InvalidOptionError(f"The item {item} is refused.", option="data_frequency", hint="Pick another item.")
    return item


def die(item: int, *, bad: int) -> int:
    if item == bad:
        os._exit(3)
    return item


def seasonal_of(seed: int) -> np.ndarray:
    """The weekly component prepare() finds in a generated daily series."""
    rng = np.random.default_rng(seed)
    values = 50 + 4 * np.sin(2 * np.pi * np.arange(60) / 7) + rng.normal(0, 1, 60)
    return prepare(pd.date_range("2024-01-01", periods=60, freq="D"), values).seasonal["WEEKLY"]


@pytest.fixture
def eager(monkeypatch):
    """The pool used as soon as one item has run (the thresholds are for real fits)."""
    monkeypatch.setattr(parallel, "PROBE_SECONDS", 0.0)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_SECONDS", 0.0)


def test_small_work_stays_in_the_calling_process():
    outcomes = map_series(where, list(range(50)))
    assert [item for item, *_ in outcomes] == list(range(50))
    assert {pid for _, pid, *_ in outcomes} == {os.getpid()}


TWO_CORES = pytest.mark.skipif(parallel.worker_count() < 2, reason="needs two cores")


@pytest.mark.slow
@TWO_CORES
def test_large_work_goes_to_single_threaded_workers_in_order(eager):
    outcomes = map_series(where, list(range(40)))
    assert [item for item, *_ in outcomes] == list(range(40))
    assert outcomes[0][1] == outcomes[1][1] == os.getpid()  # the untimed first item and the probe
    pids = {pid for _, pid, *_ in outcomes[2:]}
    assert os.getpid() not in pids and 1 <= len(pids) <= parallel.worker_count()
    assert {tuple(limits) for _, _, *limits in outcomes[2:]} == {("1", "1")}
    for seed, component in enumerate(map_series(seasonal_of, list(range(8)))):  # the same numbers as here
        np.testing.assert_array_equal(component, seasonal_of(seed))


@pytest.mark.slow
@TWO_CORES
def test_errors_in_workers_reach_the_caller(eager):
    with pytest.raises(InvalidOptionError, match=r"^The item 17 is refused\.") as caught:
        map_series(partial(refuse, bad=17), list(range(30)))
    assert caught.value.option == "data_frequency" and caught.value.hint == "Pick another item."
    with pytest.raises(TrainingError, match=r"A worker process fitting time series in parallel stopped unexpectedly"):
        map_series(partial(die, bad=20), list(range(30)))
    assert map_series(partial(refuse, bad=-1), list(range(30))) == list(range(30))  # a new pool replaces the broken one
