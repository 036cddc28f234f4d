"""Score a LightGBM booster through its compiled form once that pays, else through LightGBM.

A :class:`BoosterScorer` wraps one booster and its text. Its compiled form is shared per process
by the text's SHA-256 (for a stored model, the checksum the catalog verified for booster.txt)
and across processes by the disk cache (:mod:`sqlml.ml.compiled.cache`). When neither has it,
LightGBM scores while the rows scored so far are too few to repay compiling (~0.02 s a tree):
past :data:`COMPILE_AFTER_ROWS` rows a background thread compiles (rent until renting has cost
what buying does), and a single call of :data:`COMPILE_NOW_ROWS` rows or more compiles first.
Compiled code is looked for and loaded off the calling thread, so no call waits for it; a
server calls :meth:`BoosterScorer.prepare` when it loads a model. At most :data:`MAX_LOADED`
compiled forests stay loaded per process: the least recently used beyond it are dropped, and their
machine code is freed once no call is using it (the disk cache brings them back).
``SQLML_COMPILE=off`` or a connection's ``compile=False`` (:mod:`sqlml.ml.compiled.switch`) uses
LightGBM; so does any model the generator does not reproduce exactly, a sparse input, or a
compiler that fails (logged once).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import itertools
import logging
import math
import os
import sys
import threading
from typing import TYPE_CHECKING

import numpy as np

from sqlml.ml.compiled import cache
from sqlml.ml.compiled.forest import Forest, read_forest
from sqlml.ml.compiled.switch import enabled

if TYPE_CHECKING:
    import lightgbm
    import scipy.sparse

    from sqlml.ml.compiled.machine import Loaded

#: Rows scored by LightGBM (per model, per process) before compiling in the background: the rows
#: whose LightGBM time equals compiling's (ski rental: ~0.02 s a tree to compile over ~30 ns a
#: tree and row to score, on a quiet 2-core machine; both scale with the trees).
COMPILE_AFTER_ROWS = 500_000
#: A single call with at least this many rows compiles first: compiling costs less than the
#: time it saves on these rows.
COMPILE_NOW_ROWS = 1_000_000
#: Below this many rows a call runs on the calling thread (a served single row: microseconds).
PARALLEL_MIN_ROWS = 2_000
#: Compiled forests kept loaded per process (see the module's docstring).
MAX_LOADED = 32
#: Chunks of rows per scoring thread (see :meth:`CompiledForest.raw`).
CHUNKS_PER_THREAD = 8

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_ready: dict[str, CompiledForest | None] = {}  # None: failed or not compilable; LightGBM scores
_rows: dict[str, int] = {}
_compiling: set[str] = set()
_looked_up: set[str] = set()  # models whose disk cache entry was looked for
_used: dict[str, int] = {}  # when each entry of _ready was last asked for (a tick of _clock)
_clock = itertools.count()
_MISSING = object()
_pool: list[concurrent.futures.ThreadPoolExecutor] = []


class CompiledForest:
    """A forest's machine code with LightGBM's output transform: ``predict`` equals
    ``Booster.predict`` (default arguments) on dense float rows."""

    def __init__(self, forest: Forest, loaded: Loaded) -> None:
        self.features, self.outputs = forest.features, forest.outputs
        self.iterations = len(forest.trees) // max(forest.outputs, 1) if forest.average else 0
        self.transform, self.sigmoid = forest.transform, forest.sigmoid
        self.loaded = loaded

    def raw(self, X: np.ndarray, threads: int) -> np.ndarray:
        """The per-output sums of tree values, shape (rows, outputs).

        With several threads the rows are cut into :data:`CHUNKS_PER_THREAD` chunks per thread
        that the calling thread and ``threads - 1`` pool threads take in turn (the ctypes call
        releases the GIL): on a busy machine a thread the OS holds back leaves its remaining
        chunks to the others instead of making the whole batch wait for its half.
        """
        rows = np.ascontiguousarray(X, dtype=np.float64)
        out = np.zeros((len(rows), self.outputs))
        function, data, target, count = self.loaded.function, rows.ctypes.data, out.ctypes.data, len(rows)
        if threads <= 1 or count < PARALLEL_MIN_ROWS:
            function(data, target, 0, count)
            return out
        step = max(PARALLEL_MIN_ROWS // 2, math.ceil(count / (threads * CHUNKS_PER_THREAD)))
        starts = iter(range(0, count, step))  # shared: next() on it is atomic under the GIL

        def work() -> None:
            for start in starts:
                function(data, target, start, min(start + step, count))

        helpers = [_executor().submit(work) for _ in range(threads - 1)]
        work()
        for helper in helpers:
            helper.result()
        return out

    def predict(self, X: np.ndarray, threads: int) -> np.ndarray:
        """What ``Booster.predict(X)`` returns: 1-D for one output, else (rows, outputs)."""
        scores = self.raw(X, threads)
        if self.iterations:
            scores /= self.iterations  # GBDT::Predict averages a random forest's sums
        if self.transform == "sigmoid":
            scores = 1.0 / (1.0 + np.exp(-self.sigmoid * scores))
        elif self.transform == "exp":
            scores = np.exp(scores)
        elif self.transform == "softmax":  # Common::Softmax
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores /= scores.sum(axis=1, keepdims=True)
        return scores[:, 0] if self.outputs == 1 else scores


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    with _lock:
        if not _pool:
            _pool.append(concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="sqlml-forest"))
        return _pool[0]


class BoosterScorer:
    """Predicts like ``booster.predict(X)``, through the compiled forest when there is one.

    Args:
        booster: the LightGBM booster.
        text: its model text (what is compiled and hashed).
    """

    def __init__(self, booster: lightgbm.Booster, text: str) -> None:
        self.booster, self.text = booster, text
        self._checksum: str | None = None

    @property
    def checksum(self) -> str:
        """SHA-256 of the model text: the compiled form's identity."""
        if self._checksum is None:
            self._checksum = hashlib.sha256(self.text.encode()).hexdigest()
        return self._checksum

    def predict(self, X: np.ndarray | scipy.sparse.spmatrix, threads: int) -> np.ndarray:
        """``booster.predict(X)`` on ``threads`` threads, compiled when available (dense ``X``)."""
        compiled = self.compiled(X.shape[0]) if isinstance(X, np.ndarray) and enabled() else None
        if compiled is None:
            return self.booster.predict(X, num_threads=threads)
        return compiled.predict(X, threads)

    def compiled(self, rows: int) -> CompiledForest | None:
        """The compiled forest when ready, after counting ``rows`` towards compiling it; None
        while LightGBM should score. The first call looks for a cached form in the background
        (loading it costs a third of a second), later ones compile once the rows repay it."""
        key = self.checksum
        ready = _ready.get(key, _MISSING)  # without the lock: a served row pays for none
        if ready is not _MISSING:
            _used[key] = next(_clock)
            return ready
        with _lock:
            if key in _ready:
                return _ready[key]
            seen = _rows[key] = _rows.get(key, 0) + rows
            now = rows >= COMPILE_NOW_ROWS
            compile_missing = now or seen >= COMPILE_AFTER_ROWS
            if key in _compiling or (key in _looked_up and not compile_missing):
                return None
            _compiling.add(key)
            _looked_up.add(key)
        if now:
            return self._build(key, compile_missing=True)
        threading.Thread(target=self._build_in_background, args=(key, compile_missing), daemon=True, name="sqlml-compile").start()
        return None

    def prepare(self) -> None:
        """Start making the compiled form ready before rows arrive — read from the disk cache,
        else compiled and cached — in a background thread at the lowest priority; LightGBM scores
        until it is ready. What a server does with a model it loads: its few rows at a time would
        take hours to reach :data:`COMPILE_AFTER_ROWS`. Nothing happens when compiling is off or
        the form is ready or being made."""
        key = self.checksum
        if not enabled():
            return
        with _lock:
            if key in _ready or key in _compiling:
                return
            _compiling.add(key)
            _looked_up.add(key)
        threading.Thread(target=self._build_in_background, args=(key, True), daemon=True, name="sqlml-compile").start()

    def _build_in_background(self, key: str, compile_missing: bool) -> None:
        """:meth:`_build` at the lowest CPU priority (Linux sets it per thread), so compiling uses
        the cores LightGBM and DuckDB leave idle rather than slowing the statement that scores."""
        if hasattr(os, "setpriority") and sys.platform.startswith("linux"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            except OSError:
                pass
        self._build(key, compile_missing)

    def _build(self, key: str, compile_missing: bool) -> CompiledForest | None:
        try:
            compiled = build(self.booster, self.text, key, compile_missing)
        except Exception as error:  # llvmlite missing or LLVM failing: LightGBM keeps scoring
            _log.warning("Compiled prediction is off for this model (LightGBM scores it): %s: %s", type(error).__name__, error)
            compiled, compile_missing = None, True
        with _lock:
            _compiling.discard(key)
            if compiled is not None or compile_missing:
                _ready[key], _used[key] = compiled, next(_clock)
                _drop_least_used()
        return compiled


def _drop_least_used() -> None:
    """Keep :data:`MAX_LOADED` compiled forests (the lock held): forget the least recently used
    others, as a new process would not know them. A call scoring through one keeps it alive."""
    loaded = [key for key, compiled in _ready.items() if compiled is not None]
    for key in sorted(loaded, key=lambda key: _used.get(key, -1))[: max(len(loaded) - MAX_LOADED, 0)]:
        del _ready[key]
        _used.pop(key, None), _rows.pop(key, None)
        _looked_up.discard(key)


def build(booster: lightgbm.Booster, text: str, key: str, compile_missing: bool = True) -> CompiledForest | None:
    """The compiled forest of ``text`` from the disk cache, or compiled now (and cached) when
    ``compile_missing``; None when the generator does not reproduce this model or there is
    nothing cached. A compiled form that disagrees with ``booster`` on probe rows is refused.

    Raises:
        ImportError, RuntimeError: llvmlite is missing or LLVM fails.
    """
    from sqlml.ml.compiled import machine
    from sqlml.ml.compiled.codegen import forest_ir

    forest = read_forest(text)
    if forest is None:
        return None
    version = machine.compiler_version()
    objectcode = cache.read(key, version)
    fresh = objectcode is None
    if fresh and not compile_missing:
        return None
    if fresh:
        objectcode = machine.compile_ir(forest_ir(forest, machine.process_triple()))
    compiled = CompiledForest(forest, machine.Loaded(objectcode))
    probe = probe_rows(forest)
    if not np.allclose(compiled.predict(probe, 1), booster.predict(probe, num_threads=1), rtol=0, atol=1e-12):
        raise RuntimeError("the compiled forest disagrees with LightGBM on probe rows")
    if fresh:
        cache.write(key, version, objectcode)
    return compiled


def probe_rows(forest: Forest, rows: int = 256) -> np.ndarray:
    """Rows that exercise each split's edge: values at, just below and just above thresholds,
    NaN, zeros, tiny values, negatives and categories, drawn per feature."""
    pools: list[set[float]] = [{0.0, -0.0, 1e-36, -1e-36, -0.5, float("nan"), 2.0**31, -(2.0**31) - 2} for _ in range(forest.features)]
    for tree in forest.trees:
        for feature, threshold, decision in zip(tree.split_feature, tree.threshold, tree.decision_type):
            if decision & 1:  # the node's categories (a few), the first past its bitset, and fractions
                words = tree.cat_threshold[tree.cat_boundaries[int(threshold)] : tree.cat_boundaries[int(threshold) + 1]]
                members = [32 * i + bit for i, word in enumerate(words) for bit in range(32) if word >> bit & 1][:8]
                pools[feature].update([*members, 32 * len(words), *(m + 0.5 for m in members)])
            else:
                pools[feature].update((threshold, np.nextafter(threshold, -np.inf), np.nextafter(threshold, np.inf)))
    generator = np.random.default_rng(0)
    columns = [generator.choice(np.array(sorted(pool, key=repr)), rows) for pool in pools]
    return np.column_stack(columns) if columns else np.zeros((rows, 0))
