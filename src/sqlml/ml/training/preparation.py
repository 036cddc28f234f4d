"""Training rows made ready for an estimator: the label, the data split, the automatic
preprocessing fitted on the training rows, and the datasets — shared by one training run and by
every trial of hyperparameter tuning (which fits many estimators on one :class:`Prepared`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.models.base import Target
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.estimator import Dataset, Estimator, Monitor, Task
from sqlml.ml.preprocessing.automatic.feature_matrix import check_dense_size, wants_sparse
from sqlml.ml.preprocessing.automatic.input_statistics import feature_info
from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor, flatten_structs
from sqlml.ml.training.labels import Label, encode_label, resolve_column
from sqlml.ml.training.split import Split
from sqlml.ml.training.split_checks import split_for


def excluded_columns(options: dict, label: str | None) -> set[str]:
    """Columns that are not features: the label and the special columns BigQuery auto-excludes."""
    names = {label} if label else set()
    for key in ("data_split_col", "kmeans_init_col", "instance_weight_col"):
        if options.get(key):
            names.add(options[key])
    return {n.lower() for n in names}



@dataclass
class Prepared:
    """Everything a model needs before an estimator is fitted: label, split, features, data.

    Hyperparameter tuning fits many estimators on one :class:`Prepared`.
    """

    model_type: str
    options: dict
    label: Label | None
    features: list[str]
    split: Split
    preprocessor: Preprocessor
    task: Task
    train_set: Dataset
    eval_set: Dataset | None
    test_set: Dataset | None
    feature_info: list[dict]
    init_rows: np.ndarray | None = None
    #: the replaced version's estimator that a warm start continues from (warm_start=TRUE)
    previous: Estimator | None = None
    #: what a family that encodes its own rows adds to the model's description and arrays
    #: (a matrix factorization's columns, users and items)
    extra_spec: dict = field(default_factory=dict)
    extra_arrays: dict = field(default_factory=dict)

    @property
    def scored(self) -> Dataset:
        """The rows stored metrics are computed on: eval split, else the training rows."""
        return self.eval_set if self.eval_set is not None else self.train_set


def prepare(model_type: str, options: dict, table: pa.Table, hashes: np.ndarray, split: Split | None = None) -> Prepared:
    """Resolve the label, split the rows, fit the automatic preprocessing, build the datasets."""
    if family_of(model_type).target(model_type) is Target.RECOMMENDATION:
        return _prepare_ratings(model_type, options, table, hashes, split)
    table = flatten_structs(table)
    label = resolve_label(model_type, options, table)
    excluded = excluded_columns(options, label.name if label else None)
    features = [c for c in table.column_names if c.lower() not in excluded]
    if not features:
        raise InvalidModelInputError(
            "The training query has no feature columns besides the label.",
            hint="Select at least one column to learn from.",
        )
    if split is None:
        split = split_for(model_type, options, table, hashes)
    y = label.codes if label else None
    weights = _row_weights(model_type, options, table, label)
    train_rows = _rows(table, split.train)
    family = family_of(model_type)
    defaults = family.preprocessing(model_type, options)
    preprocessor = Preprocessor.fit(
        train_rows, features, standardize=defaults.standardize,
        categorical=defaults.categorical, target=_target_for(label, split),
    )  # fmt: skip
    sparse = wants_sparse(family.estimator_class(model_type), preprocessor)
    if not sparse:
        check_dense_size(preprocessor, table.num_rows)
    task = Task(
        kind=label.kind if label else family.target(model_type).value,
        n_classes=len(label.classes) if label and label.kind != "regression" else 0,
        feature_names=preprocessor.feature_names,
        categorical_features=preprocessor.categorical_indices if defaults.native_categorical else [],
        sparse=sparse,
    )
    part = lambda rows: _dataset(preprocessor, table, rows, y, weights, sparse) if len(rows) else None  # noqa: E731
    custom = options.get("kmeans_init_method") == "CUSTOM"
    return Prepared(
        model_type, options, label, features, split, preprocessor, task,
        _dataset(preprocessor, table, split.train, y, weights, sparse), part(split.evaluation), part(split.test),
        _input_statistics(train_rows, excluded), _custom_centroids(preprocessor, table, options) if custom else None,
    )  # fmt: skip


def _prepare_ratings(model_type: str, options: dict, table: pa.Table, hashes: np.ndarray, split: Split | None) -> Prepared:
    """(user, item, rating) rows as user and item codes of the training rows' users and items
    (:mod:`sqlml.ml.recommendation.ratings`), in place of the automatic preprocessing."""
    from sqlml.ml.recommendation import ratings as rating_rows

    rating_rows.rating_columns(options, table)  # the columns are checked before the split reads its own
    split = split or split_for(model_type, options, table, hashes)
    encoded = rating_rows.encode(options, table, split.train)
    part = lambda rows: Dataset(*encoded.rows(rows)) if len(rows) else None  # noqa: E731
    task = Task(kind=Target.RECOMMENDATION.value, feature_names=list(encoded.columns[:2]))
    return Prepared(
        model_type, options, None, list(encoded.columns[:2]), split, None, task,
        part(split.train), part(split.evaluation), part(split.test), encoded.feature_info(),
        extra_spec={"recommendation": encoded.describe()}, extra_arrays=encoded.key_arrays(),
    )  # fmt: skip


def fit_estimator(prepared: Prepared, options: dict, monitor: Monitor) -> Estimator:
    """Fit one estimator of the prepared model with ``options`` (a tuning trial's, or the model's)."""
    estimator = family_of(prepared.model_type).estimator_class(prepared.model_type)(options=options, task=prepared.task)
    if prepared.init_rows is not None:
        estimator.init_rows = prepared.init_rows
    estimator.previous = prepared.previous
    estimator.fit(prepared.train_set, prepared.eval_set, monitor)
    return estimator


def monitor_for(
    options: dict, description: str, cancel: threading.Event | None, observer: Callable[[dict], None] | None = None
) -> Monitor:
    """A training monitor with the model's iteration budget and early-stop rule."""
    return Monitor(
        description, options.get("max_iterations") or options.get("num_parallel_tree"),
        early_stop=bool(options.get("early_stop")), min_rel_progress=options.get("min_rel_progress") or 0.0,
        cancel=cancel, observer=observer,
    )  # fmt: skip


def base_spec(prepared: Prepared) -> dict:
    """The description every trained model of these rows shares."""
    task = prepared.task
    return {
        "model_type": str(prepared.model_type),
        "options": prepared.options,
        "label": prepared.label.describe() if prepared.label else None,
        "task": {"kind": task.kind, "n_classes": task.n_classes, "feature_names": task.feature_names,
                 "categorical_features": task.categorical_features, "sparse": task.sparse},  # fmt: skip
        "features": prepared.features,
        "feature_info": prepared.feature_info,
        "split": prepared.split.describe(),
        **prepared.extra_spec,
    }


def kept_outputs(prepared: Prepared, outputs: Callable[[], np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays a classifier keeps of its scored rows (:attr:`Prepared.scored`): their labels
    and raw outputs, which ML.CONFUSION_MATRIX and ML.ROC_CURVE without input data read; nothing
    for other models, whose stored metrics are all ML.EVALUATE reads (``outputs`` is not called)."""
    if prepared.task.is_classification and prepared.scored.y is not None:
        return {"eval_output": np.asarray(outputs()), "eval_target": prepared.scored.y}
    return {}


def resolve_label(model_type: str, options: dict, table: pa.Table) -> Label | None:
    """The label column, validated and encoded (None for unsupervised models)."""
    if not family_of(model_type).target(model_type).is_supervised:
        return None
    wanted = (options.get("input_label_cols") or ["label"])
    if len(wanted) != 1:
        raise InvalidOptionError("input_label_cols takes exactly one column.", option="input_label_cols")
    name = resolve_column(table, wanted[0], "label")
    return encode_label(model_type, name, table.column(name).combine_chunks())


def _input_statistics(table: pa.Table, excluded: set[str]) -> list[dict]:
    table = flatten_structs(table)
    return feature_info(table, [c for c in table.column_names if c.lower() not in excluded])


def _rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table``'s ``rows``; the table itself when they are all of its rows in order (NO_SPLIT), not a copy."""
    every_row = len(rows) == table.num_rows and (len(rows) == 0 or (rows[0] == 0 and np.all(np.diff(rows) == 1)))
    return table if every_row else table.take(pa.array(rows))


def _dataset(preprocessor: Preprocessor, table: pa.Table, rows: np.ndarray, y, weights, sparse: bool) -> Dataset:
    return Dataset(
        preprocessor.transform(_rows(table, rows), sparse=sparse),
        None if y is None else y[rows],
        None if weights is None else weights[rows],
    )


def _target_for(label: Label | None, split: Split):
    if label is None:
        return None
    codes = label.codes[split.train]
    if label.kind == "multiclass":
        onehot = np.zeros((len(codes), len(label.classes)))
        onehot[np.arange(len(codes)), codes.astype(np.int64)] = 1.0
        return onehot
    return codes


def _row_weights(model_type: str, options: dict, table: pa.Table, label: Label | None) -> np.ndarray | None:
    weights = None
    if options.get("instance_weight_col"):
        name = resolve_column(table, options["instance_weight_col"], "instance_weight_col")
        column = table.column(name).combine_chunks()
        if column.null_count:
            raise InvalidModelInputError(f"instance_weight_col {name} has {column.null_count} NULL value(s).", column=name)
        weights = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    if label is not None and family_of(model_type).target(model_type) is Target.CLASSIFICATION:
        class_weights = label.class_weights(options)
        if class_weights is not None:
            weights = class_weights[label.codes.astype(np.int64)]
    return weights


def _custom_centroids(preprocessor: Preprocessor, table: pa.Table, options: dict) -> np.ndarray:
    name = resolve_column(table, options["kmeans_init_col"], "kmeans_init_col")
    column = table.column(name).combine_chunks()
    if not pa.types.is_boolean(column.type):
        raise InvalidModelInputError(f"kmeans_init_col {name} must be a BOOL column; it is {column.type}.", column=name)
    rows = np.nonzero(pc.fill_null(column, False).to_numpy(zero_copy_only=False))[0]
    return preprocessor.transform(table.take(pa.array(rows)))
