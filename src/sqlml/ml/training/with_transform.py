"""Train a model whose CREATE MODEL has a TRANSFORM clause (and TRANSFORM_ONLY models)."""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
from sqlglot import exp

from sqlml.ml.models.base import Source
from sqlml.ml.models.catalog import family_of
from sqlml.ml.models.model import Model
from sqlml.ml.preprocessing.automatic.input_statistics import feature_info
from sqlml.ml.training.pipeline import train
from sqlml.ml.training.preparation import excluded_columns, resolve_label
from sqlml.ml.training.split_checks import split_for
from sqlml.ml.training.transform_fit import fit_transform


def train_with_transform(
    model_type: str, options: dict, table: pa.Table, hashes: np.ndarray, transform: exp.Expression, *, description: str,
    cancel: threading.Event | None, previous: Model | None = None,
) -> Model:  # fmt: skip
    """Split the query's rows, fit the TRANSFORM on the training part, train on its output."""
    family = family_of(model_type)
    label = None
    if family.target(model_type).is_supervised:
        label = resolve_label(model_type, options, table).name
    passthrough = excluded_columns(options, label)
    split = split_for(model_type, options, table, hashes)
    transformed, spec = fit_transform(transform, table, split.train, passthrough)
    if family.source is Source.TRANSFORM:
        model = Model(
            {
                "model_type": str(model_type),
                "options": options,
                "transform": spec,
                "feature_info": feature_info(transformed, transformed.column_names),
                "split": split.describe(),
            },
            None,
            None,
        )
        return model
    model = train(model_type, options, transformed, hashes, description=description, cancel=cancel, split=split, previous=previous)
    model.spec["transform"] = spec
    model.spec["feature_info"] = _input_info(table, split.train, spec)
    return model


def _input_info(table: pa.Table, train_rows: np.ndarray, spec: dict) -> list[dict]:
    """ML.FEATURE_INFO rows of a model trained with TRANSFORM: the query's columns the TRANSFORM reads
    (not its outputs), in query order, over the training rows. BigQuery reports "the pre-transform
    columns from the query_statement argument":
    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-feature
    (a TRANSFORM_ONLY model keeps describing its outputs: its page, bigqueryml-syntax-create-transform,
    says FEATURE_INFO returns "information about feature transformations in the model")."""
    read = {name.lower() for name in spec["inputs"]}
    return feature_info(table.take(pa.array(train_rows)), [c for c in table.column_names if c.lower() in read])
