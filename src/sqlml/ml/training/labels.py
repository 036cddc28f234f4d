"""The label column: found, validated and encoded as BigQuery ML requires.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create — a NULL
label fails CREATE MODEL; regressors need a finite numeric label; classifiers take any groupable
type, keep it in predictions, and treat the higher value as the positive class of a binary model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.columns import column_named
from sqlml.ml.models.base import Target
from sqlml.ml.models.catalog import family_of
from sqlml.ml.preprocessing.automatic.preprocessor import is_numeric_type


def resolve_column(table: pa.Table, wanted: str, role: str) -> str:
    """The actual name of ``wanted`` in ``table`` (column names are case-insensitive)."""
    found = column_named(table.column_names, wanted)
    if found is not None:
        return found
    hint = f"Columns: {', '.join(table.column_names)}."
    if role == "label":
        hint = f"Name the label with OPTIONS(input_label_cols=['…']) or alias a column AS label. {hint}"
    raise InvalidModelInputError(f"The training query has no {role} column '{wanted}'.", column=wanted, hint=hint)


@dataclass
class Label:
    """The encoded label.

    Attributes:
        name: the column name.
        kind: ``regression``, ``binary`` or ``multiclass``.
        arrow_type: the column's Arrow type (predictions keep it).
        classes: class values in ascending order (classifiers).
        codes: float64 label values (regression) or class indices.
    """

    name: str
    kind: str
    arrow_type: pa.DataType
    classes: list
    codes: np.ndarray

    def describe(self) -> dict:
        """JSON-able description stored with the model."""
        return {"name": self.name, "arrow_type": str(self.arrow_type), "classes": [_jsonable(c) for c in self.classes]}

    def class_weights(self, options: dict) -> np.ndarray | None:
        """Per-class weights from ``auto_class_weights`` or ``class_weights``, in class order."""
        k = len(self.classes)
        if options.get("auto_class_weights"):
            counts = np.bincount(self.codes.astype(np.int64), minlength=k).astype(np.float64)
            return len(self.codes) / (np.maximum(counts, 1) * k)
        pairs = options.get("class_weights")
        if not pairs:
            return None
        given = {str(key): float(weight) for key, weight in pairs}
        names = [_class_key(c) for c in self.classes]
        missing = [n for n in names if n not in given]
        unknown = [key for key in given if key not in names]
        if missing or unknown:
            raise InvalidOptionError(
                "class_weights must give a weight for every class and only for classes "
                f"({', '.join(names)}); missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}.",
                option="class_weights",
            )
        return np.array([given[n] for n in names])


def encode_label(model_type: str, name: str, column: pa.Array) -> Label:
    """Validate the label column and encode it for ``model_type``."""
    if column.null_count:
        raise InvalidModelInputError(
            f"The label column {name} has {column.null_count} NULL value(s) in {len(column)} rows; "
            "BigQuery ML does not train on NULL labels.",
            column=name,
            hint=f"Filter them out: add WHERE {name} IS NOT NULL to the training query.",
        )
    if family_of(model_type).target(model_type) is Target.REGRESSION:
        return _regression_label(model_type, name, column)
    return _classification_label(model_type, name, column)


def _regression_label(model_type: str, name: str, column: pa.Array) -> Label:
    if not is_numeric_type(column.type):
        raise InvalidModelInputError(
            f"{model_type} needs a numeric label, but {name} is {column.type}.",
            column=name,
            hint=f"Use a classifier for a categorical label, or CAST({name} AS FLOAT64).",
        )
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if not np.all(np.isfinite(values)):
        raise InvalidModelInputError(f"The label column {name} has infinite or NaN values.", column=name, hint="Filter them out.")
    return Label(name, "regression", column.type, [], values)


def _classification_label(model_type: str, name: str, column: pa.Array) -> Label:
    classes = pc.unique(column).sort()
    count = len(classes)
    if count < 2:
        value = classes[0].as_py() if count else None
        raise InvalidModelInputError(
            f"The label column {name} has only one class ({value!r}); a classifier needs at least two.",
            column=name,
            hint="Check the training query's filter, or train a regressor.",
        )
    limit = family_of(model_type).max_classes(model_type)
    if count > limit:
        raise InvalidModelInputError(f"{model_type} supports at most {limit} classes; {name} has {count}.", column=name)
    codes = pc.index_in(column, value_set=classes).to_numpy(zero_copy_only=False).astype(np.float64)
    return Label(name, "binary" if count == 2 else "multiclass", column.type, classes.to_pylist(), codes)


def _jsonable(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def _class_key(value) -> str:
    """How a class is written in class_weights: BOOL as true/false, others as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
