"""Compiled-forest tests: a private cache directory and fresh per-process compiled state per test."""

from __future__ import annotations

import pytest

from sqlml.ml.compiled import predictor


@pytest.fixture(autouse=True)
def compile_state(tmp_path, monkeypatch):
    """Each test compiles into its own cache directory, from an empty in-process registry, and
    compiles at once whatever the row count."""
    monkeypatch.setenv("SQLML_COMPILE_CACHE", str(tmp_path / "compiled"))
    monkeypatch.delenv("SQLML_COMPILE", raising=False)
    monkeypatch.setattr(predictor, "_ready", {})
    monkeypatch.setattr(predictor, "_rows", {})
    monkeypatch.setattr(predictor, "_compiling", set())
    monkeypatch.setattr(predictor, "_looked_up", set())
    monkeypatch.setattr(predictor, "_used", {})
    monkeypatch.setattr(predictor, "COMPILE_AFTER_ROWS", 0)
    monkeypatch.setattr(predictor, "COMPILE_NOW_ROWS", 0)
    return tmp_path / "compiled"
