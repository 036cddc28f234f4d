"""The disk cache: owner-only, keyed by model checksum and compiler version, never trusted when
damaged; and the fallbacks to LightGBM (switched off, compiler missing or failing)."""

from __future__ import annotations

import builtins
import gc
import stat
import threading
import weakref

import numpy as np
import pytest

from sqlml.ml.compiled import cache, machine, predictor
from tests.ml.compiled.forests import rows, target, train

X = rows(1500)
BOOSTER = train({"objective": "binary"}, (target(X) > 1).astype(int), X, rounds=6)
TEXT = BOOSTER.model_to_string()


def scorer() -> predictor.BoosterScorer:
    return predictor.BoosterScorer(BOOSTER, TEXT)


def cached_files(folder) -> list:
    return sorted(folder.glob("*.o"))


def test_compiling_writes_one_owner_only_file_keyed_by_checksum_and_version(compile_state):
    assert scorer().compiled(len(X)) is not None
    [entry] = cached_files(compile_state)
    assert stat.S_IMODE(compile_state.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert entry == cache.entry_path(compile_state, scorer().checksum, machine.compiler_version())
    assert cache.read(scorer().checksum, machine.compiler_version()) is not None
    assert cache.read("0" * 64, machine.compiler_version()) is None
    assert cache.read(scorer().checksum, machine.compiler_version() + "x") is None


def test_a_new_process_loads_the_cached_code_without_compiling(compile_state, monkeypatch):
    scorer().compiled(len(X))
    monkeypatch.setattr(predictor, "_ready", {})
    monkeypatch.setattr(machine, "compile_ir", lambda text: pytest.fail("compiled again despite the cache"))
    fresh = scorer()
    np.testing.assert_allclose(fresh.predict(X, 2), BOOSTER.predict(X), rtol=0, atol=1e-12)
    assert predictor._ready[fresh.checksum] is not None


def test_once_a_cached_form_is_loaded_single_rows_score_through_it(compile_state, monkeypatch, in_background):
    scorer().compiled(len(X))
    scorer().wait()
    for name, empty in (("_ready", {}), ("_rows", {}), ("_looked_up", set())):  # a new process
        monkeypatch.setattr(predictor, name, empty)
    monkeypatch.setattr(predictor.BoosterScorer, "repay_rows", lambda self: 10**9)  # a server's few rows never compile
    monkeypatch.setattr(machine, "compile_ir", lambda text: pytest.fail("compiled again despite the cache"))
    calls = []
    original = predictor.CompiledForest.predict
    monkeypatch.setattr(predictor.CompiledForest, "predict", lambda self, rows, threads: calls.append(len(rows)) or original(self, rows, threads))
    fresh = scorer()
    assert fresh.predict(X[:1], 1) == BOOSTER.predict(X[:1])  # LightGBM, while the cached form loads
    for thread in [t for t in threading.enumerate() if t.name == "sqlml-compile"]:
        thread.join()
    assert calls == [256]  # the probe rows loading checks
    for row in range(5):
        np.testing.assert_allclose(fresh.predict(X[row : row + 1], 1), BOOSTER.predict(X[row : row + 1]), rtol=0, atol=1e-12)
    assert calls == [256, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "other key", "group writable"])
def test_a_damaged_cache_file_is_rebuilt_not_trusted(compile_state, monkeypatch, damage):
    scorer().compiled(len(X))
    [entry] = cached_files(compile_state)
    content = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(content[: len(content) // 2])
    elif damage == "flipped byte":
        entry.write_bytes(content[:-100] + bytes([content[-100] ^ 0xFF]) + content[-99:])
    elif damage == "other key":
        entry.write_bytes(content.replace(scorer().checksum.encode(), b"f" * 64, 1))
    else:
        entry.chmod(0o664)
    assert cache.read(scorer().checksum, machine.compiler_version()) is None
    monkeypatch.setattr(predictor, "_ready", {})
    compiles = []
    original = machine.compile_ir
    monkeypatch.setattr(machine, "compile_ir", lambda text: compiles.append(1) or original(text))
    np.testing.assert_allclose(scorer().predict(X, 2), BOOSTER.predict(X), rtol=0, atol=1e-12)
    assert compiles == [1]
    assert entry.read_bytes() == content if damage != "group writable" else stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_a_changed_compiler_version_compiles_again_into_its_own_file(compile_state, monkeypatch):
    scorer().compiled(len(X))
    monkeypatch.setattr(predictor, "_ready", {})
    monkeypatch.setattr(machine, "compiler_version", lambda: "another llvmlite")
    assert scorer().compiled(len(X)) is not None
    assert len(cached_files(compile_state)) == 2


def test_a_cache_directory_others_can_write_is_not_used(compile_state, monkeypatch):
    compile_state.mkdir(mode=0o700)
    monkeypatch.setattr("os.getuid", lambda: 12345)  # the directory belongs to someone else
    assert cache.cache_dir() is None
    assert scorer().compiled(len(X)) is not None  # compiled, just not cached
    assert cached_files(compile_state) == []


def test_sqlml_compile_off_scores_through_lightgbm(monkeypatch):
    monkeypatch.setenv("SQLML_COMPILE", "off")
    monkeypatch.setattr(predictor.CompiledForest, "predict", lambda *a: pytest.fail("compiled path used"))
    np.testing.assert_array_equal(scorer().predict(X, 2), BOOSTER.predict(X))
    assert predictor._ready == {}


def test_without_llvmlite_lightgbm_scores_and_the_failure_is_logged_once(monkeypatch, caplog):
    real_import = builtins.__import__

    def no_llvmlite(name, *args, **kwargs):
        if name.startswith("llvmlite"):
            raise ImportError("No module named 'llvmlite'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(machine, "target_machine", machine.target_machine.__wrapped__)
    monkeypatch.setattr(machine, "compiler_version", machine.compiler_version.__wrapped__)
    monkeypatch.setattr(builtins, "__import__", no_llvmlite)
    first = scorer()
    np.testing.assert_array_equal(first.predict(X, 2), BOOSTER.predict(X))
    np.testing.assert_array_equal(first.predict(X, 2), BOOSTER.predict(X))
    assert predictor._ready == {first.checksum: None}
    assert [r.getMessage() for r in caplog.records] == [
        "Compiled prediction is off for this model (LightGBM scores it): ImportError: No module named 'llvmlite'"
    ]


def test_a_compiled_form_that_disagrees_with_lightgbm_is_refused(monkeypatch, caplog):
    monkeypatch.setattr(predictor.CompiledForest, "raw", lambda self, X, threads: np.zeros((len(X), 1)))
    first = scorer()
    np.testing.assert_array_equal(first.predict(X, 2), BOOSTER.predict(X))
    assert predictor._ready == {first.checksum: None}
    assert "disagrees with LightGBM on probe rows" in caplog.text


def join_compilers() -> None:
    for thread in [t for t in threading.enumerate() if t.name == "sqlml-compile"]:
        thread.join()


def test_past_max_loaded_the_least_recently_used_forest_is_dropped_and_its_code_freed(compile_state, monkeypatch):
    monkeypatch.setattr(predictor, "MAX_LOADED", 2)
    boosters = [train({"objective": "regression"}, target(X) + shift, X, rounds=3) for shift in range(3)]
    scorers = [predictor.BoosterScorer(booster, booster.model_to_string()) for booster in boosters]
    first, second = (weakref.ref(scorer.compiled(len(X)).loaded) for scorer in scorers[:2])
    assert scorers[0].compiled(1) is not None  # used again: the second is now the least recently used
    assert scorers[2].compiled(len(X)) is not None
    gc.collect()
    assert set(predictor._ready) == {scorers[0].checksum, scorers[2].checksum}
    assert second() is None, "the dropped forest's machine code is still loaded"
    assert first() is not None
    monkeypatch.setattr(machine, "compile_ir", lambda text: pytest.fail("compiled again despite the cache"))
    np.testing.assert_allclose(scorers[1].predict(X, 2), boosters[1].predict(X), rtol=0, atol=1e-12)  # back from the disk cache
    assert scorers[1].checksum in predictor._ready and len(predictor._ready) == 2


def test_forests_loaded_and_freed_many_times_keep_predicting_like_lightgbm(compile_state):
    """An execution engine frees the target machine it is made with: each gets its own, so freeing
    one leaves compiling and the others working (a shared one crashed the next engine made, so a
    few rounds of making and freeing show it; each costs ~0.5 s)."""
    objectcode = cache.read(scorer().checksum, machine.compiler_version()) if scorer().compiled(len(X)) else None
    forest = predictor.read_forest(TEXT)
    for _ in range(4):
        compiled = predictor.CompiledForest(forest, machine.Loaded(objectcode))
        np.testing.assert_allclose(compiled.predict(X, 2), BOOSTER.predict(X), rtol=0, atol=1e-12)
        del compiled
        gc.collect()
    assert machine.compile_ir is not None and scorer().compiled(len(X)) is not None


def test_prepare_makes_the_compiled_form_ready_in_the_background(compile_state, monkeypatch, in_background):
    monkeypatch.setattr(predictor.BoosterScorer, "repay_rows", lambda self: 10**9)  # no row count would compile it
    monkeypatch.setenv("SQLML_COMPILE", "off")
    scorer().prepare()
    join_compilers()
    assert predictor._ready == {}
    monkeypatch.delenv("SQLML_COMPILE")
    scorer().prepare()
    join_compilers()
    assert predictor._ready[scorer().checksum] is not None
    assert cached_files(compile_state)
    np.testing.assert_allclose(scorer().predict(X[:1], 1), BOOSTER.predict(X[:1]), rtol=0, atol=1e-12)
