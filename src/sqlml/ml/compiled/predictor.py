"""Score a LightGBM booster through its compiled form once that pays, else through LightGBM.

A :class:`BoosterScorer` wraps one booster and its text. Its compiled form is shared per process
by the text's SHA-256 (for a stored model, the checksum the catalog verified for booster.txt)
and across processes by the disk cache (:mod:`sqlml.ml.compiled.cache`). When neither has it,
:func:`sqlml.ml.compiled.decision.decide` chooses, from a cost model measured on the bench: a
statement whose estimated rows repay a compile within its own wall and CPU time
(:meth:`BoosterScorer.statement_rows`) compiles in this process from before its first batch, while
LightGBM scores in chunks of :data:`CHUNK_ROWS` on one thread fewer than it was given — the
compiler has that core — switching to the compiled form at the first chunk after it is ready (the
two give bitwise equal output, so where the switch falls changes nothing); a statement whose rows
do not, but whose rows with those this process scored before repay the compile's CPU
(:meth:`BoosterScorer.repay_rows`), is scored by LightGBM on all its threads alone: once its
estimated rows are scored, a separate process at idle priority compiles the model into the cache
(:mod:`sqlml.ml.compiled.background`), and the *next* statement's start loads the cached form —
never the statement that started it, mid-way (the child beside the statement and the load's
GIL-taking steps made a first 1M-row, 50-round CTAS 1.08× the wall time of LightGBM alone:
bench/README.md, issue 19 parts 5–6). Rows scored without an estimate (no statement's end known)
are counted, and reaching :meth:`BoosterScorer.repay_rows` starts the background process, whose
form is loaded as soon as it is cached. No statement compiles in this process while other work keeps the
machine's cores busy (:func:`cores_to_spare`).

The compiling thread runs at normal priority: a thread at the lowest priority still takes the
GIL for its Python steps (the IR text, the imports), and on a loaded machine the OS then left the
statement's own thread waiting for it (a cold first statement took 1.23× LightGBM's wall time
for equal CPU). A cache entry is looked for without loading LLVM when there is none
(:func:`sqlml.ml.compiled.cache.has`), and loaded off the calling thread when there is one; a
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
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sqlml.ml.compiled import cache, decision
from sqlml.ml.compiled.forest import Forest, probe_rows, read_forest
from sqlml.ml.compiled.switch import enabled
from sqlml.ml.compiled.transforms import transform

if TYPE_CHECKING:
    import lightgbm
    import scipy.sparse

    from sqlml.ml.compiled.machine import Loaded

#: While the compiler runs, LightGBM scores a call's rows in chunks of this many, so a large call
#: switches to the compiled form as soon as it is ready.
CHUNK_ROWS = 32_768
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
_compiling: dict[str, bool] = {}  # models being made ready: True while compiling (it takes a core)
_looked_up: set[str] = set()  # models whose disk cache entry was looked for
_start_after: dict[str, int] = {}  # models whose background compile starts once this many rows are counted
_cached_elsewhere: set[str] = set()  # models a background process cached: loaded at the next statement
_used: dict[str, int] = {}  # when each entry of _ready was last asked for (a tick of _clock)
_clock = itertools.count()
_MISSING = object()
_pool: list[concurrent.futures.ThreadPoolExecutor] = []
_LEAVES = re.compile(r"^num_leaves=(\d+)$", re.MULTILINE)
_FEATURES = re.compile(r"^max_feature_idx=(\d+)$", re.MULTILINE)


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
        rows = X if X.dtype == np.float64 and not any(stride % 8 for stride in X.strides) else np.ascontiguousarray(X, np.float64)
        out = np.empty((len(rows), self.outputs))
        function, data, target, count = self.loaded.function, rows.ctypes.data, out.ctypes.data, len(rows)
        strides = [stride // 8 for stride in rows.strides]  # either layout: the preprocessor's is column-major
        if threads <= 1 or count < PARALLEL_MIN_ROWS:
            function(data, *strides, target, 0, count)
            return out
        step = max(PARALLEL_MIN_ROWS // 2, math.ceil(count / (threads * CHUNKS_PER_THREAD)))
        starts = iter(range(0, count, step))  # shared: next() on it is atomic under the GIL

        def work() -> None:
            for start in starts:
                function(data, *strides, target, start, min(start + step, count))

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
        if self.transform != "identity":  # LightGBM's ConvertOutput, with its exp (NumPy's differs on some CPUs)
            transform(scores, self.transform, self.sigmoid)
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
        self.features = int(_FEATURES.search(text).group(1)) + 1  # the columns of a row
        self._checksum: str | None = None
        self._costs: decision.Costs | None = None

    @property
    def checksum(self) -> str:
        """SHA-256 of the model text: the compiled form's identity."""
        if self._checksum is None:
            self._checksum = hashlib.sha256(self.text.encode()).hexdigest()
        return self._checksum

    def costs(self) -> decision.Costs:
        """The cost model's costs of this forest (:mod:`sqlml.ml.compiled.decision`), from the
        ``num_leaves=`` line of each tree in the text."""
        if self._costs is None:
            self._costs = decision.costs([int(count) for count in _LEAVES.findall(self.text)])
        return self._costs

    def repay_rows(self) -> int:
        """The rows whose scoring compiled saves the CPU a compile costs
        (:func:`sqlml.ml.compiled.decision.repay_rows`): from here on a compile for later
        statements is worth starting, in the background."""
        return decision.repay_rows(self.costs())

    def statement_rows(self, threads: int) -> int:
        """The rows one statement must score on ``threads`` threads for compiling while it runs
        to cost it no wall or CPU time (:func:`sqlml.ml.compiled.decision.statement_rows`)."""
        return decision.statement_rows(self.costs(), threads)

    def predict(self, X: np.ndarray | scipy.sparse.spmatrix, threads: int) -> np.ndarray:
        """``booster.predict(X)`` on ``threads`` threads, compiled when available (dense ``X``);
        while this process compiles, LightGBM in chunks on ``threads - 1`` threads until it is ready.
        Rows of another width than the model's are LightGBM's (its error), never the compiled
        code's (it would read past them)."""
        if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == self.features and enabled()):
            return self.booster.predict(X, num_threads=threads)
        compiled = self.compiled(X.shape[0])
        if compiled is not None:
            return compiled.predict(X, threads)
        scores = self._lightgbm(X, threads)
        self._after_scoring()
        return scores

    def _lightgbm(self, X: np.ndarray, threads: int) -> np.ndarray:
        """LightGBM's scores of ``X``, in chunks on one thread fewer while this process compiles,
        switching to the compiled form at the first chunk after it is ready."""
        parts, start = [], 0
        while start < len(X) and _compiling.get(self.checksum):
            parts.append(self.booster.predict(X[start : start + CHUNK_ROWS], num_threads=max(threads - 1, 1)))
            start += CHUNK_ROWS
        if start < len(X):  # the build is done: compiled, or failed and LightGBM has every thread again
            compiled = _ready.get(self.checksum)
            rest = X[start:] if start else X
            parts.append(compiled.predict(rest, threads) if compiled is not None else self.booster.predict(rest, num_threads=threads))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _after_scoring(self) -> None:
        """Start the background compile a statement decided on (:meth:`prepare`) once the rows
        counted reach the end of its estimated rows: the statement's scoring is done, so the
        idle child shares no core with it; its result waits for the next statement."""
        key = self.checksum
        target = _start_after.get(key)
        if target is None or _rows.get(key, 0) < target:
            return
        with _lock:
            if _start_after.pop(key, None) is not None and key not in _compiling and key not in _ready:
                self._start(key, elsewhere=True, load=False)

    def compiled(self, rows: int) -> CompiledForest | None:
        """The compiled forest when ready, after counting ``rows`` towards compiling it; None
        while LightGBM should score. The first call looks for a cached form (loaded in a
        background thread when there is one: a tenth of a second), and once the rows counted
        reach :meth:`repay_rows` a background process compiles it (never this process: a call
        part-way through a statement cannot know that a compile would repay within it) — unless
        a statement's estimate already scheduled it (:meth:`prepare`) or a background process
        cached it for the next statement to load."""
        key = self.checksum
        ready = _ready.get(key, _MISSING)  # without the lock: a served row pays for none
        if ready is not _MISSING:
            _used[key] = next(_clock)
            return ready
        with _lock:
            if key in _ready:
                return _ready[key]
            counted = _rows.get(key, 0) + rows
            _rows[key] = counted
            if key in _compiling or key in _start_after or key in _cached_elsewhere:
                return None
            if key not in _looked_up:
                _looked_up.add(key)
                if cache.has(key):  # loaded in a thread (nothing cached: no thread, no LLVM)
                    self._start(key)
                    return None
            if decision.decide(None, counted, self.repay_rows(), 0, False) == decision.BACKGROUND:
                self._start(key, elsewhere=True)
            return None

    def wait(self) -> CompiledForest | None:
        """The compiled forest once the build in progress (if any) is done; None when LightGBM
        scores. What a caller that must know (a benchmark, a test) waits on."""
        for thread in [t for t in threading.enumerate() if t.name == "sqlml-compile"]:
            thread.join()
        return _ready.get(self.checksum)

    def prepare(self, rows: Callable[[], int | None] | None = None) -> None:
        """Start making the compiled form ready before rows arrive, in the background.

        Without ``rows``, what a server does with a model it loads (its few rows at a time would
        take hours to reach :meth:`repay_rows`): read from the disk cache, else compiled in this
        process and cached. With ``rows`` (a statement's estimate of the rows it is about to
        score, asked only when nothing is ready or being made), what
        :func:`sqlml.ml.compiled.decision.decide` says: compile in this process when the rows
        repay it within the statement (:meth:`statement_rows`, on this machine's cores, while
        :func:`cores_to_spare`) — the compile overlaps LightGBM's first batches — else, when the
        rows counted with these repay its CPU, in a background process started once these rows
        are scored (:meth:`_after_scoring`), else nothing. A statement's start (with an estimate
        or not) loads a form a background process cached since the last; a cached form is looked
        for first (loaded, never compiled again). Nothing happens when compiling is off or the
        form is ready or being made."""
        key = self.checksum
        if not enabled() or key in _ready or key in _compiling:
            return
        with _lock:
            if key in _cached_elsewhere and key not in _compiling:  # cached by a child since the last statement
                _cached_elsewhere.discard(key)
                self._start(key)
                return
        expected = None if rows is None else rows()
        if rows is not None and expected is None:
            return
        with _lock:
            if key in _ready or key in _compiling:
                return
            cached = key not in _looked_up and cache.has(key)
            _looked_up.add(key)
            if expected is None or cached:  # a server's model, or a cached form: loaded (else compiled) here
                self._start(key, compile_here=expected is None)
                return
            how = decision.decide(expected, _rows.get(key, 0), self.repay_rows(), self.statement_rows(os.cpu_count() or 1), cores_to_spare())
            _start_after.pop(key, None)
            if how == decision.NOW:
                self._start(key, compile_here=True)
            elif how == decision.BACKGROUND:  # once this statement's rows are scored
                _start_after[key] = _rows.get(key, 0) + expected

    def _start(self, key: str, compile_here: bool = False, elsewhere: bool = False, load: bool = True) -> None:
        """Start (the lock held) a thread that makes the form ready: it loads a cached form, and
        when there is none compiles it here if ``compile_here`` (the compiler takes a core: a
        call scores with LightGBM on one thread fewer meanwhile), or has a background process
        compile it if ``elsewhere`` — loading its result when done if ``load``, else leaving it
        to the next statement (:meth:`prepare`)."""
        _compiling[key] = compile_here
        target, args = (self._build_elsewhere, (key, load)) if elsewhere else (self._build, (key, compile_here))
        threading.Thread(target=target, args=args, daemon=True, name="sqlml-compile").start()

    def _build(self, key: str, compile_missing: bool) -> CompiledForest | None:
        try:
            compiled = build(self.booster, self.text, key, compile_missing)
        except Exception as error:  # llvmlite missing or LLVM failing: LightGBM keeps scoring
            self._give_up(key, f"{type(error).__name__}: {error}")
            return None
        with _lock:
            if compiled is not None or compile_missing:
                _ready[key], _used[key] = compiled, next(_clock)
                _drop_least_used()
            _compiling.pop(key, None)
        return compiled

    def _build_elsewhere(self, key: str, load: bool) -> None:
        """Compile in a background process (:mod:`sqlml.ml.compiled.background`), waiting for it
        without the GIL, then load what it cached (``load``) or mark it for the next statement to
        load; LightGBM scores meanwhile on every thread. Without a usable cache folder the
        child's work could not reach this process: the thread compiles here instead."""
        from sqlml.ml.compiled import background

        if cache.cache_dir() is None:  # a child's work could not reach this process: compile here
            self._build(key, True)
            return
        try:
            failure = background.run(self.text)
        except OSError as error:  # no process could be started
            failure = f"{type(error).__name__}: {error}"
        if failure == background.NOT_REPRODUCED:  # LightGBM scores this model, as for an in-process build
            with _lock:
                _ready[key] = None
                _compiling.pop(key, None)
            return
        if failure is None and not load:
            with _lock:
                _cached_elsewhere.add(key)
                _compiling.pop(key, None)
            return
        if failure is None:
            if self._build(key, False) is not None or key in _ready:
                return
            failure = "the compiled form was not in the cache after compiling it (the cache folder is not usable)"
        self._give_up(key, failure)

    def _give_up(self, key: str, reason: str) -> None:
        """LightGBM scores this model in this process from now on (logged once)."""
        _log.warning("Compiled prediction is off for this model (LightGBM scores it): %s", reason)
        with _lock:
            _ready[key], _used[key] = None, next(_clock)
            _compiling.pop(key, None)


def cores_to_spare() -> bool:
    """Whether the machine runs fewer threads than its cores plus one (the 1-minute load average):
    the statement's own scoring threads may fill the cores, nothing else waits for them.
    :meth:`BoosterScorer.statement_rows` gives the compiler one of the statement's cores; on a
    machine other work keeps busy it takes its time from the statement instead (measured before
    this check: a first 1M-row, 50-round CTAS took 1.19× the wall time of LightGBM alone for equal
    CPU at load 13–15 on 2 cores). True where the load average is unknown."""
    try:
        return os.getloadavg()[0] < (os.cpu_count() or 1) + 1
    except (AttributeError, OSError):
        return True


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

