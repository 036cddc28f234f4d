"""The ML table functions: each takes a :class:`~sqlml.ml.functions.call.Call` and returns Arrow.

A function returns an Arrow table (a small result: metrics, weights) or a record-batch reader
(row-wise results streamed batch by batch, such as ML.PREDICT), which the executor registers in
DuckDB so that the rest of the statement can read it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlml.errors import UnsupportedStatementError
from sqlml.ml.functions.call import Call

#: ``NAME`` (after ``ML.``) → implementation; filled by the submodules below.
FUNCTIONS: dict[str, Callable[[Call], object]] = {}


def function(name: str):
    """Register an ML table-function implementation under ``ML.<name>``."""

    def register(implementation):
        FUNCTIONS[name] = implementation
        return implementation

    return register


def run(executor, node, inputs, params=None):
    """Evaluate one ML table-function call node.

    Raises:
        ModelNotFoundError: the call's ``MODEL`` argument names no model, whether or not the
            function reads the model (ML.VALIDATE_DATA_DRIFT only asks for a link with it).
    """
    _load()
    implementation = FUNCTIONS.get(node.function_name)
    if implementation is None:
        raise UnsupportedStatementError(f"ML.{node.function_name} is not supported by sqlml yet.")
    call = Call(executor, node, inputs, params)
    if node.model is not None:
        call.resolve()
    return implementation(call)


_MODULES = ("predict", "evaluate", "inspect", "trials", "versions", "explain", "fairness", "data_checks", "describe", "tfdv")


def _load() -> None:
    import importlib

    for module in _MODULES:
        importlib.import_module(f"sqlml.ml.functions.{module}")
