"""Compile a forest in a separate process at the lowest priority, filling the per-user cache.

A statement whose rows would not repay a compile within its own wall time still scores with
LightGBM on all its threads; when the rows the process has scored (or this statement will score)
repay the compile's CPU, this process compiles the model for later statements and processes. It
runs ``python -m sqlml.ml.compiled.child`` with the model text on its standard input, and the
child lowers itself to the idle scheduling class before loading anything heavy (Linux
``SCHED_IDLE``, else nice 19): it runs only on a core nothing else wants, and holds no GIL of the
statement's process — the in-process compiler thread did both (bench/README.md, issue 19 part 5).
The child verifies the compiled form against LightGBM on probe rows and writes it to the per-user
cache (:mod:`sqlml.ml.compiled.cache`: keyed by the SHA-256 of the text it read and the compiler
version, owner-only) exactly as an in-process compile does (:func:`predictor.build`); nothing is
written anywhere else, and the model store is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MODULE = "sqlml.ml.compiled.child"
#: What :func:`run` returns for a model the code generator does not reproduce (LightGBM scores it).
NOT_REPRODUCED = "not reproduced"
#: The child's exit status for such a model.
NOT_REPRODUCED_STATUS = 3


def start(text: str) -> subprocess.Popen:
    """Start the child that compiles ``text`` into the cache; the caller writes ``text`` to its
    standard input (:func:`run`). Its environment is this process's (the cache folder's
    variables) with sqlml's own source folder first on its path."""
    source = str(Path(__file__).resolve().parents[3])
    path = os.pathsep.join(filter(None, (source, os.environ.get("PYTHONPATH"))))
    return subprocess.Popen(
        [sys.executable, "-m", MODULE], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip


def run(text: str) -> str | None:
    """Compile ``text`` in a child process and wait for it (no GIL held while waiting): None when
    the compiled form is in the cache, :data:`NOT_REPRODUCED`, else the child's last line of
    error output."""
    child = start(text)
    _, errors = child.communicate(text.encode())
    if child.returncode in (0, NOT_REPRODUCED_STATUS):
        return None if child.returncode == 0 else NOT_REPRODUCED
    lines = errors.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"the compiling process exited with status {child.returncode}"
