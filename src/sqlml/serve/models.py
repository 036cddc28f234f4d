"""The models a server answers with: loaded once, kept warm, following the registry.

A name is ``dataset.model`` (its ``default`` alias), ``dataset.model@3`` or ``dataset.model@production``.
Every ``refresh_seconds`` a background thread re-reads where each served alias points; when it
moved, the new version is loaded and swapped in, and requests already running finish on the
version they started with (they hold their own reference). A traffic split serves one of
several names by weight and says which answered. A tree model's compiled forest is made ready as
soon as the model is loaded (:func:`~sqlml.ml.runtime.model_cache.compile_ahead`), since a server
scores for a long time.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlml.errors import Error, NotFoundError
from sqlml.ml.models.model import Model
from sqlml.ml.runtime.model_cache import CACHE, compile_ahead
from sqlml.store.records import ModelRef, VersionRecord

if TYPE_CHECKING:
    from sqlml.store.registry import ModelStore


@dataclass(frozen=True)
class Served:
    """One model version as a request sees it."""

    name: str
    model: Model
    record: VersionRecord

    @property
    def version(self) -> int:
        return self.record.version


class ModelSet:
    """Resolves names to warm models and keeps them current.

    Args:
        store: the model store.
        pinned: names loaded at start (``--model``); any other name is loaded on first use.
        splits: name → [(target name, weight)], e.g. ``ds.m`` → [(``ds.m@production``, 90), …].
        refresh_seconds: how often aliases are re-read.
    """

    def __init__(
        self, store: ModelStore, pinned: list[str] | None = None, splits: dict | None = None, refresh_seconds: float = 2.0
    ) -> None:
        self.store = store
        self.splits = splits or {}
        self.refresh_seconds = refresh_seconds
        self._served: dict[str, Served] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._random = random.Random()
        for name in pinned or []:
            self.get(name)
        for targets in self.splits.values():
            for target, _ in targets:
                self.get(target)
        self._watcher = threading.Thread(target=self._watch, name="sqlml-model-watch", daemon=True)
        self._watcher.start()

    def get(self, name: str) -> Served:
        """The current model for ``name`` (a split picks one of its targets by weight)."""
        name = self._pick(name)
        with self._lock:
            served = self._served.get(name)
        if served is None:
            served = self._load(name)
            with self._lock:
                self._served.setdefault(name, served)
        return served

    def warm(self, name: str) -> Served | None:
        """The current model for ``name`` if it is loaded already (reads no file), else None;
        without the lock, as every small request asks (a dict lookup is atomic, and the dict is
        only ever changed under the lock)."""
        return self._served.get(self._pick(name))

    def _pick(self, name: str) -> str:
        if name in self.splits:
            targets, weights = zip(*self.splits[name])
            return self._random.choices(targets, weights)[0]
        return name

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._served)

    def close(self) -> None:
        self._stop.set()

    def _load(self, name: str) -> Served:
        record = self.store.resolve(ModelRef.parse(name))
        return Served(name, compile_ahead(CACHE.get(self.store, record)), record)

    def _watch(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            with self._lock:
                current = dict(self._served)
            for name, served in current.items():
                try:
                    record = self.store.resolve(ModelRef.parse(name))
                except Error:
                    continue  # dropped meanwhile: keep answering with the version already loaded
                if record.version != served.version:
                    fresh = Served(name, compile_ahead(CACHE.get(self.store, record)), record)
                    with self._lock:
                        self._served[name] = fresh


def parse_split(text: str) -> tuple[str, list[tuple[str, float]]]:
    """``ds.m@production=90,ds.m@staging=10`` → (``ds.m``, [(``ds.m@production``, 90), (``ds.m@staging``, 10)])."""
    targets = []
    for part in text.split(","):
        target, _, weight = part.strip().partition("=")
        try:
            targets.append((target, float(weight)))
        except ValueError:
            raise NotFoundError(f"Cannot read the split {text!r}.", hint="Write --split ds.m@production=90,ds.m@staging=10.") from None
    base = targets[0][0].split("@", 1)[0]
    return base, targets
