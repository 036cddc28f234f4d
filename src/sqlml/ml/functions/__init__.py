"""The ML table functions: each takes a :class:`~sqlml.ml.functions.call.Call` and returns its rows.

A function returns an Arrow table (a small result: metrics, weights) or a record-batch reader
(row-wise results streamed batch by batch, such as ML.PREDICT), which the executor registers in
DuckDB so that the rest of the statement can read it — or a
:class:`~sqlml.execution.sources.SqlOutput`, a query over its data arguments that the statement
runs in the call's place (ML.PREDICT of a linear model, scored by DuckDB itself). Each module below marks its functions with
:func:`~sqlml.ml.functions.call.function`; :data:`FUNCTIONS` is read from the modules listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from sqlml.ml.functions import (
    arima_inspect,
    data_checks,
    describe_data,
    detect_anomalies,
    evaluate,
    explain,
    explain_forecast,
    fairness,
    features_at_time,
    forecast,
    generate_embedding,
    get_insights,
    inspect,
    predict,
    recommend,
    reconstruction_loss,
    tfdv_describe,
    trials,
    versions,
)
from sqlml.ml.functions.call import Call, Implementation, Output
from sqlml.sql.expressions import MLFunction, unsupported_function_error

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor
    from sqlml.execution.sources import DataInput

_MODULES: tuple[ModuleType, ...] = (predict, evaluate, inspect, trials, versions, explain, fairness, forecast, explain_forecast, detect_anomalies,
    arima_inspect, recommend, generate_embedding, reconstruction_loss, data_checks, describe_data, tfdv_describe, get_insights,
    features_at_time)


def _marked(modules: tuple[ModuleType, ...]) -> dict[str, Implementation]:
    return {
        value.ml_function_name: value
        for module in modules
        for value in vars(module).values()
        if callable(value) and isinstance(getattr(value, "ml_function_name", None), str)
    }


#: ``NAME`` (after ``ML.``) → implementation.
FUNCTIONS: dict[str, Implementation] = _marked(_MODULES)


def run(executor: Executor, node: MLFunction, inputs: list[DataInput], params: Mapping | None = None) -> Output:
    """Evaluate one ML table-function call node.

    Raises:
        UnsupportedStatementError: sqlml has no implementation of the function.
        ModelNotFoundError: the call's ``MODEL`` argument names no model, whether or not the
            function reads the model (ML.VALIDATE_DATA_DRIFT only asks for a link with it).
    """
    implementation = FUNCTIONS.get(node.function_name)
    if implementation is None:
        raise unsupported_function_error(node)
    call = Call(executor, node, inputs, params)
    if node.model is not None:
        call.resolve()
    return implementation(call)
