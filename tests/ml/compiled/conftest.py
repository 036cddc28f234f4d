"""Compiled-forest tests: a private cache directory and fresh per-process compiled state per test."""

from __future__ import annotations

import hashlib

import pytest

from sqlml.ml.compiled import background, predictor


#: The scorer's own ``compiled``: it starts a build in the background and does not wait for it.
IN_BACKGROUND = predictor.BoosterScorer.compiled
#: The real background compiler (a child process); the tests' fixture compiles in this process.
RUN_ELSEWHERE = background.run


def run_here(text: str) -> str | None:
    """What :func:`background.run` does, in this process (a child costs a second or more): compile,
    check and cache ``text``; the reason on failure as the child's last line of error output."""
    import lightgbm

    try:
        built = predictor.build(lightgbm.Booster(model_str=text), text, hashlib.sha256(text.encode()).hexdigest())
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None if built is not None else background.NOT_REPRODUCED


@pytest.fixture(autouse=True)
def compile_state(tmp_path, monkeypatch):
    """Each test compiles into its own cache directory, from an empty in-process registry, and
    compiles at the first call (or a statement's start) whatever the row count, which waits for it (:func:`in_background`
    lets calls go on with LightGBM while it runs, as outside tests); the background compiler
    runs in this process (:func:`run_here`)."""
    monkeypatch.setenv("SQLML_COMPILE_CACHE", str(tmp_path / "compiled"))
    monkeypatch.delenv("SQLML_COMPILE", raising=False)
    monkeypatch.setattr(predictor, "_ready", {})
    monkeypatch.setattr(predictor, "_rows", {})
    monkeypatch.setattr(predictor, "_compiling", {})
    monkeypatch.setattr(predictor, "_looked_up", set())
    monkeypatch.setattr(predictor, "_used", {})
    monkeypatch.setattr(predictor, "_start_after", {})
    monkeypatch.setattr(predictor, "_cached_elsewhere", set())
    monkeypatch.setattr(predictor.BoosterScorer, "repay_rows", lambda self: 0)
    monkeypatch.setattr(predictor.BoosterScorer, "statement_rows", lambda self, threads: 0)  # a statement compiles here
    monkeypatch.setattr(predictor, "cores_to_spare", lambda: True)  # the tests' machine may be busy
    monkeypatch.setattr(background, "run", run_here)
    monkeypatch.setattr(predictor.BoosterScorer, "compiled", lambda self, rows: IN_BACKGROUND(self, rows) or self.wait())
    return tmp_path / "compiled"


@pytest.fixture
def in_background(monkeypatch):
    """Calls do not wait for a build they start: LightGBM scores until the compiled form is ready."""
    monkeypatch.setattr(predictor.BoosterScorer, "compiled", IN_BACKGROUND)
