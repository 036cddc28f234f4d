"""One ML table-function call as its implementation sees it: the model, the settings, the data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sqlml.errors import InvalidOptionError, ModelError, UnsupportedStatementError
from sqlml.ml.models.catalog import supporting
from sqlml.ml.models.model import Model
from sqlml.ml.models.options import option_value
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.sql.expressions import MLFunction
from sqlml.store.records import ModelRef, VersionRecord

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor
    from sqlml.execution.sources import DataInput, SqlOutput

#: What an ML table function returns: a small result whole, row-wise results batch by batch, or
#: a query over its data arguments that the statement runs in its place.
Output = "pa.Table | pa.RecordBatchReader | SqlOutput"
#: An ML table function's implementation.
Implementation = Callable[["Call"], Output]


class Call:
    """An ``ML.<NAME>(MODEL m, data…, STRUCT(settings))`` being evaluated.

    Args:
        executor: the executor running the statement (its model store, its warehouse).
        node: the syntax-tree node of the call.
        inputs: the call's data arguments as :class:`~sqlml.execution.sources.DataInput` objects.
        params: the statement's parameter values.
    """

    def __init__(self, executor: Executor, node: MLFunction, inputs: list[DataInput], params: Mapping | None = None) -> None:
        self.executor = executor
        self.node = node
        self.inputs = inputs
        self.params = params or {}
        # as written: AI.GENERATE_EMBEDDING is ML.GENERATE_EMBEDDING spelled with the AI. prefix
        self.name = f"{node.meta.get('prefix') or 'ML'}.{node.function_name}"
        self._model: Model | None = None
        self._record: VersionRecord | None = None

    @property
    def ref(self) -> ModelRef:
        """The model reference written in the call."""
        return ModelRef.from_table(self.node.model)

    @property
    def record(self) -> VersionRecord:
        """The catalog record of the model version the call names."""
        if self._record is None:
            self.resolve()
        return self._record

    def resolve(self) -> None:
        """Look the ``MODEL`` argument up in the model store (:attr:`record` keeps it).

        Raises:
            ModelNotFoundError: no such model, version or alias.
        """
        self._record = self.executor.models.resolve(self.ref)

    @property
    def model(self) -> Model:
        """The loaded model (checksums verified, cached per process)."""
        if self._model is None:
            self._model = CACHE.get(self.executor.models, self.record)
        return self._model

    def require(self, what: str | None = None) -> Model:
        """The model, or a clear error if its family does not support this function.

        Args:
            what: the models the function takes, for the message (default: their types).
        """
        model = self.model
        function = self.node.function_name
        if not model.family.supports(function, model.model_type):
            allowed = what or ", ".join(supporting(function))
            instead = model.family.instead_of(function, model.model_type)
            raise ModelError(
                f"{self.name} does not support {model.model_type} models; it needs {allowed}. "
                f"{self.record.dataset}.{self.record.name} is {model.model_type}.",
                model=str(self.ref),
                hint=f"Ask ML.{instead}(MODEL {self.ref}) instead." if instead else None,
            )
        return model

    def trained_without(self, what: str, hint: str) -> ModelError:
        """The error for a model that lacks what this function needs from its training."""
        return ModelError(
            f"{self.name} needs a model trained with {what}; {self.record.dataset}.{self.record.name} was not.",
            model=str(self.ref),
            hint=hint,
        )

    def settings(self, allowed: dict[str, type | tuple]) -> dict:
        """The trailing STRUCT's fields, checked against ``allowed`` (name → Python type)."""
        struct = self.node.settings
        values = {}
        if struct is None:
            return values
        for field in struct.expressions:
            if isinstance(field, (exp.PropertyEQ, exp.Alias)):
                key = (field.this.name if isinstance(field, exp.PropertyEQ) else field.alias).lower()
                value = option_value(field.expression if isinstance(field, exp.PropertyEQ) else field.this, self.params)
            else:
                raise InvalidOptionError(f"Write each {self.name} setting as STRUCT(<value> AS <name>).")
            if key not in allowed:
                raise InvalidOptionError(
                    f"{self.name} has no setting '{key}'.",
                    option=key,
                    hint=f"Settings: {', '.join(sorted(allowed)) or 'none'}.",
                )
            expected = allowed[key]
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
                raise InvalidOptionError(f"The {self.name} setting '{key}' has the wrong type: {value!r}.", option=key)
            values[key] = value
        return values

    def data(self, index: int = 0, required: bool = True) -> DataInput | None:
        """The ``index``-th data argument, or None when absent and not required."""
        if index < len(self.inputs):
            return self.inputs[index]
        if required:
            raise UnsupportedStatementError(f"{self.name} needs input data: TABLE <name> or (SELECT …).")
        return None


def function(name: str) -> Callable[[Implementation], Implementation]:
    """Mark an implementation as the one of ``ML.<name>``; :data:`sqlml.ml.functions.FUNCTIONS`
    reads the marks of the modules it lists."""

    def mark(implementation: Implementation) -> Implementation:
        implementation.ml_function_name = name
        return implementation

    return mark
