"""ML.PREDICT and ML.EVALUATE through SQL score a stored boosted tree or random forest through
its compiled form, equal to LightGBM's Booster.predict on the same rows; SQLML_COMPILE=off and
a connection's compile=False keep LightGBM."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import sqlml
from sqlml.ml.compiled import background, machine, predictor
from sqlml.ml.functions import predict
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef

QUERY = "SELECT * FROM ML.PREDICT(MODEL ds.{name}, (SELECT x1, x2, plan, active, {label} FROM ds.fresh))"
MODELS = {
    "bt_reg": ("boosted_tree_regressor", "target", "max_iterations=8"),
    "bt_class": ("boosted_tree_classifier", "tier", "max_iterations=8"),
    "rf_class": ("random_forest_classifier", "churned", "num_parallel_tree=6"),
}


@pytest.fixture(scope="module")
def tree_models(ml_con):
    for name, (model_type, label, option) in MODELS.items():
        ml_con.query(
            f"CREATE OR REPLACE MODEL ds.{name} OPTIONS(model_type='{model_type}', input_label_cols=['{label}'], "
            f"max_tree_depth=3, {option}) AS SELECT x1, x2, plan, active, {label} FROM ds.train"
        )  # fmt: skip
    return ml_con


@pytest.fixture
def compiled_calls(monkeypatch):
    calls = []
    original = predictor.CompiledForest.predict
    monkeypatch.setattr(predictor.CompiledForest, "predict", lambda self, X, threads: calls.append(len(X)) or original(self, X, threads))
    return calls


def lightgbm_scores(con, name: str, table) -> np.ndarray:
    """Booster.predict on the model's own feature matrix of the rows ML.PREDICT returned."""
    model = CACHE.get(con.models, con.models.resolve(ModelRef.parse(f"ds.{name}")))
    return model.estimator.booster_.predict(model.features(table.to_batches()[0]))


@pytest.mark.parametrize("name", MODELS)
def test_ml_predict_scores_through_the_compiled_forest_and_equals_lightgbm(tree_models, compiled_calls, name):
    label = MODELS[name][1]
    table = tree_models.query(QUERY.format(name=name, label=label)).arrow().combine_chunks()
    assert compiled_calls[-1:] == [300]  # after the probe rows compiling checks
    expected = lightgbm_scores(tree_models, name, table)
    if name == "bt_reg":
        np.testing.assert_allclose(table.column("predicted_target").to_numpy(), expected, rtol=0, atol=1e-12)
        return
    probabilities = np.array([[p["prob"] for p in row] for row in table.column(f"predicted_{label}_probs").to_pylist()])
    classes = [p["label"] for p in table.column(f"predicted_{label}_probs").to_pylist()[0]]
    stored = CACHE.get(tree_models.models, tree_models.models.resolve(ModelRef.parse(f"ds.{name}"))).label["classes"]
    expected = np.column_stack([1 - expected, expected]) if expected.ndim == 1 else expected
    order = [list(map(str, stored)).index(str(c)) for c in classes]
    np.testing.assert_allclose(probabilities, expected[:, order], rtol=0, atol=1e-12)


def test_ml_evaluate_scores_through_the_compiled_forest(tree_models, compiled_calls):
    compiled = tree_models.query("SELECT mean_squared_error FROM ML.EVALUATE(MODEL ds.bt_reg, (SELECT * FROM ds.fresh))").fetchone()[0]
    assert compiled_calls[-1:] == [300]
    table = tree_models.query(QUERY.format(name="bt_reg", label="target")).arrow().combine_chunks()
    errors = lightgbm_scores(tree_models, "bt_reg", table) - table.column("target").to_numpy()
    assert compiled == pytest.approx(np.mean(errors**2), abs=1e-12)


def test_sqlml_compile_off_keeps_lightgbm(tree_models, compiled_calls, monkeypatch):
    monkeypatch.setenv("SQLML_COMPILE", "off")
    table = tree_models.query(QUERY.format(name="bt_reg", label="target")).arrow().combine_chunks()
    assert compiled_calls == []
    np.testing.assert_array_equal(table.column("predicted_target").to_numpy(), lightgbm_scores(tree_models, "bt_reg", table))


def test_a_connection_opened_with_compile_false_keeps_lightgbm_while_another_compiles(tree_models, compiled_calls):
    query = QUERY.format(name="bt_reg", label="target")
    with sqlml.connect(tree_models.warehouse_path, tree_models.models_path, idle_release=0, compile=False) as off:
        result = off.query(query)  # read after query() returns, on DuckDB's side: still off
        table = result.arrow().combine_chunks()
        with off.cursor() as session:  # its sessions too
            session.query(query).arrow()
        assert compiled_calls == []
        np.testing.assert_array_equal(table.column("predicted_target").to_numpy(), lightgbm_scores(off, "bt_reg", table))
        shared = tree_models.query(query).arrow().combine_chunks()  # the same model, a connection with the default
        assert compiled_calls[-1:] == [300]
        np.testing.assert_allclose(shared.column("predicted_target").to_numpy(), table.column("predicted_target").to_numpy(), rtol=0, atol=1e-12)
        calls = len(compiled_calls)
        off.query(query).arrow()
        assert len(compiled_calls) == calls


def test_below_the_row_threshold_lightgbm_scores_until_the_rows_add_up(tree_models, compiled_calls, monkeypatch, in_background):
    """Statements whose rows DuckDB cannot bound (no estimate): rows are counted across them."""
    monkeypatch.setattr(predictor.BoosterScorer, "repay_rows", lambda self: 500)
    monkeypatch.setattr(predict, "estimated_rows", lambda data: None)
    query = QUERY.format(name="bt_class", label="tier")

    def predict_and_wait_for_the_compiler() -> pa.Table:
        table = tree_models.query(query).arrow()
        for thread in [t for t in threading.enumerate() if t.name == "sqlml-compile"]:
            thread.join()
        return table

    first = predict_and_wait_for_the_compiler()  # 300 rows: only a cached form is looked for
    assert compiled_calls == []
    assert predict_and_wait_for_the_compiler().equals(first)  # 600 rows: compiled in the background
    assert compiled_calls[-1:] == [256]  # the probe rows compiling checks
    assert predict_and_wait_for_the_compiler().equals(first)
    assert compiled_calls[-1:] == [300]


def test_an_imported_lightgbm_model_scores_through_the_compiled_forest(ml_con, compiled_calls, tmp_path):
    from tests.ml.compiled.forests import rows, target, train

    X = rows(400, features=3)
    booster = train({"objective": "multiclass", "num_class": 3}, np.digitize(target(X), [0.0, 2.0]), X)
    (tmp_path / "booster.txt").write_text(booster.model_to_string())
    ml_con.query(f"CREATE OR REPLACE MODEL ds.imported_lgb OPTIONS(model_type='LIGHTGBM', model_path='{tmp_path / 'booster.txt'}')")
    ml_con.register("imported_rows", pa.table({f"Column_{i}": X[:, i] for i in range(3)}))
    table = ml_con.query("SELECT * FROM ML.PREDICT(MODEL ds.imported_lgb, TABLE imported_rows)").arrow()
    assert compiled_calls[-1:] == [400]
    got = np.array(table.column("predicted_label").to_pylist())
    X_back = np.column_stack([table.column(f"Column_{i}").to_numpy(zero_copy_only=False) for i in range(3)])
    np.testing.assert_allclose(got, booster.predict(X_back), rtol=0, atol=1e-12)


def test_a_statement_whose_estimated_rows_repay_compiling_within_it_compiles_here_else_in_the_background(tree_models, monkeypatch, in_background):
    started = []  # per build started: (before a batch of the statement was scored?, compiled in this process?)
    batches = []
    original_start, original_compiled = predictor.BoosterScorer._start, predictor.BoosterScorer.compiled
    monkeypatch.setattr(predictor.BoosterScorer, "_start", lambda self, key, compile_here=False, elsewhere=False, load=True: started.append((not batches, compile_here, elsewhere)) or original_start(self, key, compile_here, elsewhere, load))
    monkeypatch.setattr(predictor.BoosterScorer, "compiled", lambda self, rows: batches.append(rows) or original_compiled(self, rows))
    # ds.fresh's 300 rows, as DuckDB estimates them, repay compiling in the statement's wall time
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 300)
    table = tree_models.query(QUERY.format(name="bt_reg", label="target")).arrow().combine_chunks()
    scorer = CACHE.get(tree_models.models, tree_models.models.resolve(ModelRef.parse("ds.bt_reg"))).estimator.scorer_
    assert started == [(True, True, False)] and scorer.wait() is not None  # before the first batch, in this process
    np.testing.assert_array_equal(table.column("predicted_target").to_numpy(), lightgbm_scores(tree_models, "bt_reg", table))
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 301)  # one row short
    started.clear(), batches.clear()
    query = QUERY.format(name="bt_class", label="tier")
    first = tree_models.query(query).arrow()
    # its rows repay the compile's CPU (repay_rows: 0 here) but not within it: a background
    # process, started once the statement's 300 estimated rows are scored; its form is not loaded
    assert started == [(False, False, True)] and sum(batches) == 300
    scorer = CACHE.get(tree_models.models, tree_models.models.resolve(ModelRef.parse("ds.bt_class"))).estimator.scorer_
    assert scorer.wait() is None and scorer.checksum in predictor._cached_elsewhere
    started.clear(), batches.clear()
    assert tree_models.query(query).arrow().equals(first)  # the next statement's start loads it
    assert started == [(True, False, False)] and scorer.wait() is not None


def test_nothing_executable_is_written_to_the_model_store(tree_models, compile_state):
    for name, (_, label, _) in MODELS.items():
        tree_models.query(QUERY.format(name=name, label=label)).arrow()  # compiled (the fixture: at the first call)
    cached = sorted(compile_state.glob("*.o"))
    assert len(cached) == len(MODELS) and all(path.read_bytes().startswith(b"sqlml-compiled-forest 1\n") for path in cached)
    stored = [path for path in Path(tree_models.models_path).rglob("*") if path.is_file()]
    assert stored, "the model store is empty"
    for path in stored:
        content = path.read_bytes()
        assert not content.startswith((b"\x7fELF", b"sqlml-compiled-forest")), f"machine code in the model store: {path}"
        assert path.suffix not in (".o", ".so") and not path.stat().st_mode & 0o111, f"an executable file in the model store: {path}"


@pytest.mark.slow
def test_a_background_process_fills_the_cache_and_the_next_statement_and_process_use_it(tree_models, compile_state, compiled_calls, monkeypatch, in_background):
    """The real child process (the fixture otherwise compiles in this one): a statement whose rows
    repay the compile's CPU but not within it scores with LightGBM on all its threads, then an idle
    process compiles into the cache; the next statement loads it, the one after scores compiled,
    and so does a new process
    (its registry empty) that loads the cached form without compiling."""
    from tests.ml.compiled.conftest import RUN_ELSEWHERE

    monkeypatch.setattr(background, "run", RUN_ELSEWHERE)
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 10**9)  # never within a statement
    query = QUERY.format(name="rf_class", label="churned")
    first = tree_models.query(query).arrow()
    assert compiled_calls == []  # LightGBM scored the statement
    scorer = CACHE.get(tree_models.models, tree_models.models.resolve(ModelRef.parse("ds.rf_class"))).estimator.scorer_
    assert scorer.wait() is None  # the child compiled after the statement's rows; left to the next statement
    [entry] = compile_state.glob("*.o")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and stat.S_IMODE(compile_state.stat().st_mode) == 0o700
    assert tree_models.query(query).arrow().equals(first)  # its start loads the cached form while LightGBM scores
    assert scorer.wait() is not None
    assert tree_models.query(query).arrow().equals(first) and compiled_calls[-1:] == [300]
    for name, empty in (("_ready", {}), ("_rows", {}), ("_looked_up", set()), ("_used", {}), ("_cached_elsewhere", set())):  # a new process
        monkeypatch.setattr(predictor, name, empty)
    monkeypatch.setattr(background, "run", lambda text: pytest.fail("compiled again despite the cache"))
    monkeypatch.setattr(machine, "compile_ir", lambda text: pytest.fail("compiled again despite the cache"))
    tree_models.query(query).arrow()  # its first statement loads the cached form while LightGBM scores
    assert scorer.wait() is not None
    assert tree_models.query(query).arrow().equals(first) and compiled_calls[-1:] == [300]


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux's idle scheduling class")
def test_the_background_compiler_runs_in_the_idle_scheduling_class():
    child = subprocess.run(
        [sys.executable, "-c", "import os; from sqlml.ml.compiled import child; child.lower_priority(); print(os.sched_getscheduler(0) == os.SCHED_IDLE)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert child.stdout.strip() == "True"
