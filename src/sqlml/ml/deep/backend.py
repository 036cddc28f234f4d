"""Keras 3 on JAX, imported lazily and with a clear error when the ``sqlml[deep]`` extra is missing.

Keras reads ``KERAS_BACKEND`` once, at its first import, so it is set here before that import
(and only when the caller has not chosen a backend for keras already imported elsewhere).

Compiling a network's training epoch takes XLA seconds — most of a small model's CREATE MODEL.
XLA's executables are kept in the per-user cache of compiled code
(:func:`sqlml.ml.compiled.cache.cache_dir`, subfolder ``xla``: owner-only, never the model store),
so training or predicting with the same shapes again (a retrain, tuning trials, a new process)
skips it; JAX keys each entry by the computation, its shapes and the JAX/XLA version.
``SQLML_COMPILE=off`` (or a connection's ``compile=False`` when keras is first loaded) leaves it
off, as it does the compiled forests.
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
    _cache_compiled_code()
    return module


_CACHE_SET = False


def _cache_compiled_code() -> None:
    """Point JAX's persistent compilation cache at sqlml's compiled-code cache, once per process
    (unless the user configured one, or turned compiling off)."""
    global _CACHE_SET
    if _CACHE_SET:
        return
    _CACHE_SET = True
    import jax

    from sqlml.ml.compiled.cache import cache_dir
    from sqlml.ml.compiled.switch import enabled

    folder = cache_dir()
    if folder is None or not enabled() or jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir", str(folder / "xla"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
