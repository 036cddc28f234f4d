"""Keras 3 on JAX, imported lazily and with a clear error when the ``sqlml[deep]`` extra is missing.

Keras reads ``KERAS_BACKEND`` once, at its first import, so it is set here before that import
(and only when the caller has not chosen a backend for keras already imported elsewhere).
"""

from __future__ import annotations

import os
from types import ModuleType

from sqlml.errors import ModelError

INSTALL_HINT = 'Install them with: pip install "sqlml[deep]"'


def keras(model_type: str = "Neural network") -> ModuleType:
    """The ``keras`` module on the JAX backend.

    Raises:
        ModelError: Keras or JAX is not installed, or keras was already imported on another
            backend (naming ``model_type`` and the extra to install).
    """
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        import jax  # noqa: F401
        import keras as module
    except ImportError:
        raise ModelError(f"{model_type} models need Keras 3 and JAX, which are not installed.", hint=INSTALL_HINT) from None
    if module.backend.backend() != "jax":
        raise ModelError(
            f"{model_type} models need Keras on its JAX backend; keras was imported with KERAS_BACKEND={module.backend.backend()!r}.",
            hint="Unset KERAS_BACKEND (or set it to 'jax') before keras is imported.",
        )
    return module
