"""Loaded models kept warm per process: a stored model version is read and verified once, then
shared by every ML.* call and served request that names it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlml.errors import CorruptModelError
from sqlml.ml.models.model import Model

if TYPE_CHECKING:
    from sqlml.store.records import VersionRecord
    from sqlml.store.registry import ModelStore


class ModelCache:
    """Loaded models kept warm per process, keyed by store, name, version and file checksums.

    Args:
        capacity: how many models are kept; the oldest loaded is dropped first.
    """

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._models: dict[tuple, Model] = {}
        self._lock = threading.Lock()

    def get(self, store: ModelStore, record: VersionRecord) -> Model:
        """The model of a :class:`~sqlml.store.records.VersionRecord`, loading it once.

        Raises:
            CorruptModelError: a file fails its checksum or cannot be read, naming the model version.
        """
        key = (str(store.root), record.dataset, record.name, record.version, tuple(sorted(record.checksums.items())))
        with self._lock:
            model = self._models.get(key)
        if model is not None:
            return model
        try:
            model = Model.load(store.verified_files(record))
        except CorruptModelError as error:
            error.model, error.version = error.model or record.label, error.version or record.version
            raise
        model.record = record
        with self._lock:
            if len(self._models) >= self.capacity:
                self._models.pop(next(iter(self._models)))
            self._models[key] = model
        return model


#: The process's cache.
CACHE = ModelCache()


def compile_ahead(model: Model) -> Model:
    """Start making a tree model's compiled forest ready (read from the per-user cache, or
    compiled and cached) in a background thread, and return the model:
    what a server does with the models it loads.

    A server scores one model for a long time, a few rows at a time, so the rows LightGBM would
    score before compiling pays off (:meth:`~sqlml.ml.compiled.predictor.BoosterScorer.repay_rows`)
    would take hours to arrive; LightGBM scores until the compiled forest is ready. Other
    models, and ``SQLML_COMPILE=off``, are left alone.
    """
    scorer = getattr(model.estimator, "scorer_", None)
    if scorer is not None:
        scorer.prepare()
    return model


def compile_for_rows(estimator: object, rows: Callable[[], int | None]) -> None:
    """Let a tree estimator's forest start compiling for the rows a statement is about to score
    (``rows()``: DuckDB's estimate, asked only when nothing is compiled or being compiled): in
    this process when they repay the compile within the statement (it overlaps LightGBM's first
    batches), in an idle background process when they only repay its CPU
    (:func:`sqlml.ml.compiled.decision.decide`); other estimators are left alone."""
    scorer = getattr(estimator, "scorer_", None)
    if scorer is not None:
        scorer.prepare(rows)
