"""Fixtures for project tests: write a small project into a temporary folder and run it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sqlml.project import Runner


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path → text, None to leave out) under ``root``; add a sqlml_project.yml if missing."""
    files = {"sqlml_project.yml": "name: shop\n", **files}
    for relative, text in files.items():
        if text is None:  # leave the file out
            continue
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.fixture
def make_project(tmp_path):
    """``make_project(files) -> Runner`` on a project in tmp_path with its own warehouse and model store."""
    runners = []

    def make(files: dict[str, str], **load) -> Runner:
        write_project(tmp_path, files)
        runner = Runner(tmp_path)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.close()



@pytest.fixture
def project_files():
    """``project_files(root, files)``: write a project's files (for tests that build several)."""
    return write_project
