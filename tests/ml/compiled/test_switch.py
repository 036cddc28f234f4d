"""A cold model: a statement that compiles in this process has LightGBM score on one thread fewer
until the compiled form is ready and switches at the first chunk after it with bitwise equal
output; a compile that fails leaves LightGBM scoring; below the rows that repay compiling nothing
is started, and past them a background process compiles while LightGBM keeps every thread."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from sqlml.ml.compiled import background, decision, machine, predictor
from tests.ml.compiled.forests import rows, target, train

X = rows(1500)
BOOSTER = train({"objective": "multiclass", "num_class": 3}, np.digitize(target(X), [0.0, 2.0]), X, rounds=10)
CHUNK = 200
#: The measured cost model (the tests' fixture replaces it with 0 rows).
REPAY_ROWS = predictor.BoosterScorer.repay_rows
#: The machine's load check (the tests' fixture replaces it: the tests' machine may be busy).
CORES_TO_SPARE = predictor.cores_to_spare


class Recording:
    """A booster that records each LightGBM call (rows, threads) but the compiler's probe (256
    rows) and, in the second, waits until the compiler is done, so the switch falls at a known chunk."""

    def __init__(self, booster, on_second_call) -> None:
        self.booster, self.on_second_call, self.calls = booster, on_second_call, []

    def predict(self, data, num_threads):
        if len(data) != 256:
            self.calls.append((len(data), num_threads))
            if len(self.calls) == 2:
                self.on_second_call()
        return self.booster.predict(data, num_threads=num_threads)


@pytest.fixture
def chunked(monkeypatch, in_background):
    """Chunks of 200 rows; a statement's rows (``prepare``) always repay compiling within it."""
    monkeypatch.setattr(predictor, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 0)
    compiled_rows = []
    original = predictor.CompiledForest.predict
    monkeypatch.setattr(predictor.CompiledForest, "predict", lambda self, data, threads: compiled_rows.append(len(data)) or original(self, data, threads))
    return compiled_rows


def test_a_call_switches_to_the_compiled_form_when_it_is_ready_with_identical_output(chunked):
    scorer = predictor.BoosterScorer(None, BOOSTER.model_to_string())
    scorer.booster = Recording(BOOSTER, scorer.wait)
    scorer.prepare(lambda: len(X))  # the statement's estimate: compiled here, from before its first batch
    got = scorer.predict(X, 2)
    np.testing.assert_array_equal(got, BOOSTER.predict(X))  # bitwise, across the switch
    assert scorer.booster.calls == [(CHUNK, 1), (CHUNK, 1)]  # LightGBM on one thread: the compiler had the other
    assert chunked == [256, len(X) - 2 * CHUNK]  # the probe rows, then the rest of the call compiled
    np.testing.assert_array_equal(scorer.predict(X, 2), BOOSTER.predict(X))
    assert chunked[-1] == len(X)


def test_a_compile_that_fails_leaves_lightgbm_scoring_the_call_and_the_next(chunked, monkeypatch, caplog):
    release = threading.Event()

    def failing(text):
        release.wait(30)
        raise RuntimeError("LLVM ERROR: out of memory")

    monkeypatch.setattr(machine, "compile_ir", failing)
    scorer = predictor.BoosterScorer(None, BOOSTER.model_to_string())
    scorer.booster = Recording(BOOSTER, lambda: (release.set(), scorer.wait()))
    scorer.prepare(lambda: len(X))
    np.testing.assert_array_equal(scorer.predict(X, 2), BOOSTER.predict(X))
    assert chunked == []
    assert scorer.booster.calls == [(CHUNK, 1), (CHUNK, 1), (len(X) - 2 * CHUNK, 2)]  # all its threads once the compiler stopped
    assert predictor._ready == {scorer.checksum: None} and predictor._compiling == {}
    assert [r.getMessage() for r in caplog.records] == [
        "Compiled prediction is off for this model (LightGBM scores it): RuntimeError: LLVM ERROR: out of memory"
    ]
    scorer.booster.calls.clear()
    np.testing.assert_array_equal(scorer.predict(X[:CHUNK], 2), BOOSTER.predict(X[:CHUNK]))
    assert scorer.booster.calls == [(CHUNK, 2)]  # whole, on all its threads


def test_below_the_rows_that_repay_compiling_nothing_starts_and_past_them_a_background_process(monkeypatch, in_background):
    monkeypatch.setattr(predictor.BoosterScorer, "repay_rows", lambda self: len(X) + 1)
    version = machine.compiler_version
    loaded, elsewhere = [], []
    monkeypatch.setattr(machine, "compiler_version", lambda: loaded.append(1) or version())
    run = background.run
    monkeypatch.setattr(background, "run", lambda text: elsewhere.append(predictor._compiling.copy()) or run(text))
    scorer = predictor.BoosterScorer(BOOSTER, BOOSTER.model_to_string())
    np.testing.assert_array_equal(scorer.predict(X, 2), BOOSTER.predict(X))
    assert not [t for t in threading.enumerate() if t.name == "sqlml-compile"]
    assert predictor._compiling == {} and scorer.checksum not in predictor._ready
    assert loaded == [] and elsewhere == []  # nothing cached for the model: LLVM not even loaded
    assert scorer.compiled(1) is None  # the next row reaches the threshold: a background process compiles
    assert scorer.wait() is not None and loaded  # no estimate, no statement's end known: loaded when done
    assert elsewhere == [{scorer.checksum: False}]  # no core taken: LightGBM kept every thread meanwhile


def test_the_cost_model_follows_the_leaves_and_depth_of_the_trees():
    for params, rounds in (({"num_leaves": 8}, 10), ({"num_leaves": 8}, 40), ({"num_leaves": 60, "min_data_in_leaf": 2}, 10)):
        booster = train({"objective": "regression", **params}, target(X), X, rounds=rounds)
        leaves = [tree["num_leaves"] for tree in booster.dump_model()["tree_info"]]
        levels = sum(math.log2(max(n, 2)) for n in leaves)
        costs = predictor.BoosterScorer(booster, booster.model_to_string()).costs()
        assert costs.compile == pytest.approx(decision.COMPILE_SECONDS + decision.COMPILE_SECONDS_PER_LEAF * sum(leaves), rel=1e-12)
        assert costs.lightgbm == pytest.approx(decision.LIGHTGBM_SECONDS_PER_ROW_LEVEL * levels, rel=1e-12)
        assert costs.compiled == pytest.approx(decision.COMPILED_SECONDS_PER_ROW_LEVEL * levels, rel=1e-12)
        assert REPAY_ROWS(predictor.BoosterScorer(booster, booster.model_to_string())) == math.ceil(costs.compile / costs.saved)


def test_while_other_work_keeps_the_cores_busy_no_statement_compiles_in_its_process(monkeypatch, in_background):
    monkeypatch.setattr(predictor, "cores_to_spare", lambda: False)
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 0)
    run, elsewhere = background.run, []
    monkeypatch.setattr(background, "run", lambda text: elsewhere.append(predictor._compiling.copy()) or run(text))
    scorer = predictor.BoosterScorer(BOOSTER, BOOSTER.model_to_string())
    scorer.prepare(lambda: len(X))  # rows that repay compiling within the statement, were a core free
    np.testing.assert_array_equal(scorer.predict(X, 2), BOOSTER.predict(X))
    assert scorer.wait() is None  # LightGBM scored the statement, then the idle background process compiled
    assert elsewhere == [{scorer.checksum: False}]
    scorer.prepare(lambda: len(X))  # the next statement loads it
    assert scorer.wait() is not None


@pytest.mark.parametrize(("load", "spare"), [(0.3, True), (2.9, True), (3.0, False), (14.5, False)])
def test_cores_are_to_spare_while_fewer_threads_run_than_cores_plus_one(monkeypatch, load, spare):
    monkeypatch.setattr(predictor.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(predictor.os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert CORES_TO_SPARE() is spare


def test_without_a_load_average_cores_count_as_spare(monkeypatch):
    def unknown():
        raise OSError("load average unobtainable")

    monkeypatch.setattr(predictor.os, "getloadavg", unknown)
    assert CORES_TO_SPARE() is True


def test_a_statement_below_its_rows_starts_the_background_compile_after_its_estimated_rows_and_the_next_statement_loads_it(monkeypatch, in_background):
    """Exact boundary: the child starts after the call that brings the rows counted to the
    statement's estimate, never before; the statement keeps LightGBM to its end (even rows past
    the estimate after the child is done), and the next statement's start loads the cached form."""
    monkeypatch.setattr(predictor.BoosterScorer, "repay_rows", lambda self: 500)
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 10**9)  # never within it
    run, elsewhere, compiled_rows = background.run, [], []
    monkeypatch.setattr(background, "run", lambda text: elsewhere.append(1) or run(text))
    original = predictor.CompiledForest.predict
    monkeypatch.setattr(predictor.CompiledForest, "predict", lambda self, data, threads: compiled_rows.append(len(data)) or original(self, data, threads))
    scorer = predictor.BoosterScorer(BOOSTER, BOOSTER.model_to_string())
    scorer.prepare(lambda: 1000)  # the statement's estimate: repays the compile's CPU, not within it
    assert predictor._start_after == {scorer.checksum: 1000} and predictor._compiling == {}
    np.testing.assert_array_equal(scorer.predict(X[:999], 2), BOOSTER.predict(X[:999]))
    assert predictor._compiling == {} and elsewhere == []  # one row short of the statement's end
    np.testing.assert_array_equal(scorer.predict(X[999:1000], 2), BOOSTER.predict(X[999:1000]))
    assert scorer.wait() is None and elsewhere == [1]  # its rows scored: the child ran, its form not loaded
    assert scorer.checksum in predictor._cached_elsewhere and predictor._start_after == {}
    np.testing.assert_array_equal(scorer.predict(X[1000:], 2), BOOSTER.predict(X[1000:]))  # past the estimate
    assert compiled_rows == [256] and elsewhere == [1]  # the child's probe only: LightGBM to the end, no second child
    scorer.prepare(lambda: 10)  # the next statement's start: loads the cached form
    assert scorer.wait() is not None and elsewhere == [1]
    np.testing.assert_array_equal(scorer.predict(X, 2), BOOSTER.predict(X))
    assert compiled_rows == [256, 256, len(X)]  # the load's probe, then the statement compiled
