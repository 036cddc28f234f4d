"""LightGBM, imported without its scikit-learn wrappers.

``import lightgbm`` imports scikit-learn when it is installed (``lightgbm.compat``, for the
``LGBMModel`` estimators), and scikit-learn imports SciPy's statistics: about half of LightGBM's
import time (2.6 s -> 1.4 s of CPU at load 15), paid by every process that trains or loads a
boosted tree or forest (``sqlml serve``, ``sqlml run``, the compiled predictor's child). sqlml
calls ``lightgbm.train`` and ``Booster`` alone, which need none of it, so the first import here
hides scikit-learn from LightGBM. A process that already imported scikit-learn imports LightGBM
as usual.

The hiding lasts the import (``sys.modules['sklearn'] = None``): a thread importing scikit-learn
for the first time in that window would fail, so processes that load both at once from several
threads (none in sqlml: scikit-learn comes in with a k-means, PCA or forecast regressor fit, in
the statement's thread) should import one first.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

_lock = threading.Lock()
_imported: list[ModuleType] = []  # the module once an import here finished


def import_lightgbm() -> ModuleType:
    """The ``lightgbm`` module, imported without scikit-learn unless that is already imported."""
    # Not sys.modules["lightgbm"]: it is there from the start of an import, so a thread that read it
    # while another imported got a partly initialized module (parallel tuning trials: "partially
    # initialized module 'lightgbm' has no attribute 'Dataset'"). The import statement waits instead.
    if _imported:
        return _imported[0]
    with _lock:
        if _imported:
            return _imported[0]
        hide = "sklearn" not in sys.modules
        if hide:
            sys.modules["sklearn"] = None  # type: ignore[assignment]  # lightgbm.compat: ImportError, no wrappers
        try:
            import lightgbm as module
        finally:
            if hide and sys.modules.get("sklearn", ModuleType("absent")) is None:
                del sys.modules["sklearn"]
        _imported.append(module)
    return module
