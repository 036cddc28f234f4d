"""Fitting many series: the one place that decides how the per-series work is spread out.

CREATE MODEL with ``time_series_id_col`` fits thousands of independent series; :func:`map_series`
applies the per-series fitting function to each and returns the outcomes in input order, on every
core when the work is worth it.

How (joblib's loky process pool, which scikit-learn already brings in):

- Worker processes are started by fork + exec, so they inherit nothing of the DuckDB-holding
  process (no open warehouse, no threads), and unlike ``multiprocessing``'s spawn/forkserver
  they do not re-run the user's ``__main__`` script. The pool is kept warm between statements
  and ends with the process (or after five idle minutes).
- Each worker runs one series at a time with its BLAS/OpenMP/numba pools limited to one thread,
  so two workers use the two cores without oversubscription.
- The series go out in chunks, at most two chunks per worker in flight: a worker holds a few
  series, never the table, and the parent holds only the outcomes on top of its input.
- The first series run in the calling process until a second has passed (the very first, which
  imports the libraries, untimed); the rest go to the pool only when they would take several
  seconds more, so small models never pay for starting it.
- A worker's exception reaches the caller as itself (sqlml errors keep their class and message);
  a worker that dies is a :class:`~sqlml.errors.TrainingError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from sqlml.errors import TrainingError

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

#: The calling process fits series on its own until this many seconds have passed…
PROBE_SECONDS = 1.0
#: …and hands the rest to the pool only when they would take at least this long there alone (a
#: cold pool takes ≈2-3 s to import statsforecast and statsmodels in each worker; two workers
#: save half the time, so below this the pool would not pay for itself).
MIN_PARALLEL_SECONDS = 6.0
#: The seconds of work each chunk sent to a worker should hold (fewer round trips, steady load).
CHUNK_SECONDS = 0.5
#: The idle seconds after which the pool's workers exit.
IDLE_SECONDS = 300


def map_series(function: Callable[[Item], Outcome], items: Sequence[Item]) -> list[Outcome]:
    """``[function(item) for item in items]``, in input order, on every core when worth it.

    Args:
        function: a top-level function (or a ``functools.partial`` of one) fitting one series;
            it and the items must pickle.
        items: the series.

    Raises:
        Whatever ``function`` raises (from a worker as from the calling process), and
        TrainingError: a worker process died.
    """
    outcomes, per_item = _probe(function, items)
    rest = items[len(outcomes) :]
    workers = worker_count()
    if workers < 2 or len(rest) < 2 * workers or per_item * len(rest) < MIN_PARALLEL_SECONDS:
        return outcomes + [function(item) for item in rest]
    chunk = max(1, min(round(CHUNK_SECONDS / max(per_item, 1e-6)), len(rest) // (4 * workers)))
    return outcomes + _in_workers(function, rest, workers, chunk)


def _probe(function: Callable[[Item], Outcome], items: Sequence[Item]) -> tuple[list[Outcome], float]:
    # The first items fitted here, and the seconds each took. The first one is not timed: it
    # pays for importing the statistics libraries, which would make every model look large.
    outcomes = [function(item) for item in items[:1]]
    started, timed = time.perf_counter(), 0
    for item in items[1:]:
        outcomes.append(function(item))
        timed += 1
        if time.perf_counter() - started >= PROBE_SECONDS:
            break
    return outcomes, (time.perf_counter() - started) / max(timed, 1)


def worker_count() -> int:
    """The cores this process may use (affinity and container limits included)."""
    from joblib import cpu_count

    return int(cpu_count())


def run_chunk(function: Callable[[Item], Outcome], chunk: Sequence[Item]) -> list[Outcome]:
    """``function`` over one chunk, in a worker."""
    return [function(item) for item in chunk]


def _in_workers(function: Callable[[Item], Outcome], items: Sequence[Item], workers: int, chunk: int) -> list[Outcome]:
    from joblib import Parallel, delayed, parallel_config
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    tasks = (delayed(run_chunk)(function, part) for part in _chunks(items, chunk))
    try:
        with parallel_config(backend="loky", inner_max_num_threads=1):
            parallel = Parallel(n_jobs=workers, pre_dispatch="2*n_jobs", max_nbytes=None, idle_worker_timeout=IDLE_SECONDS)
            return [outcome for part in parallel(tasks) for outcome in part]
    except TerminatedWorkerError as error:
        raise TrainingError(
            f"A worker process fitting time series in parallel stopped unexpectedly ({error.__class__.__name__}).",
            hint="The machine may be out of memory: fit fewer series per CREATE MODEL, or free memory and retry.",
        ) from None


def _chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
