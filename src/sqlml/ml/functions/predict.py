"""ML.PREDICT: stream input batches through the model, model outputs first, inputs after.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict

A linear model's prediction is a query DuckDB runs as part of the statement
(:mod:`sqlml.ml.runtime.sql_prediction`; ``SQLML_LINEAR_SQL=off`` turns it off), unless the input
is known to be a few rows (its tree or DuckDB's estimate of its plan tells), which the Python path
scores sooner. Otherwise the
input query is read as Arrow record batches (at most 122,880 rows each) on its own cursor and each
batch is scored as it arrives, so memory stays bounded whatever the table's size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from sqlml.errors import InvalidModelInputError, ModelError
from sqlml.execution.sources import SqlOutput, data_table
from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.trial_column import served_trial, with_trial_rows
from sqlml.ml.preprocessing.frozen_transform import apply_transform
from sqlml.ml.runtime.distributed import mapped_prediction
from sqlml.ml.runtime.model_cache import compile_for_rows
from sqlml.ml.runtime.predict import prediction_estimator, prediction_reader
from sqlml.ml.runtime.recommend import model_factorization, recommendations
from sqlml.ml.runtime.sql_prediction import estimated_rows, few_rows, has_sql_form, linear_prediction_query, sql_path_enabled

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model

@function("PREDICT")
def predict(call: Call) -> pa.RecordBatchReader | SqlOutput:
    """``ML.PREDICT(MODEL m, {TABLE t | (query)} [, STRUCT(threshold, keep_original_columns, trial_id)])``;
    a tuned model's rows start with the served trial's ``trial_id`` (:mod:`sqlml.ml.functions.trial_column`)."""
    if call.model.model_type == "MATRIX_FACTORIZATION":
        return with_trial_rows(_factorization_prediction(call), served_trial(call.model, call.settings({"trial_id": int}).get("trial_id")))
    model = call.require(what="a trained or imported model")
    settings = call.settings({"threshold": float, "keep_original_columns": bool, "trial_id": int})
    return with_trial_rows(_predicted_rows(call, model, settings), served_trial(model, settings.get("trial_id")))


def _predicted_rows(call: Call, model: Model, settings: dict) -> pa.RecordBatchReader | SqlOutput:
    """The model's outputs then the input's columns: a query DuckDB runs (a linear model's), the
    engine's mapped batches (Spark), or batches scored here."""
    threshold, keep = settings.get("threshold"), settings.get("keep_original_columns", False)
    estimator = prediction_estimator(model, threshold, settings.get("trial_id"), call.name)
    data = call.data(0)
    if sql_path_enabled() and has_sql_form(estimator) and not few_rows(data, call.node.data_arguments[0]):
        query = linear_prediction_query(model, estimator, data.schema, data_table(0), threshold, keep)
        if query is not None:
            return SqlOutput(query)
    files = lambda: call.executor.models.verified_files(call.record)  # noqa: E731 - read only where batches are mapped
    mapped = mapped_prediction(model, files, data, threshold, keep, settings.get("trial_id"))
    if mapped is not None:  # the engine scores the batches where the data is (Spark's mapInArrow)
        return mapped
    compile_for_rows(estimator, lambda: estimated_rows(data))  # a tree model's, when the rows repay it
    return prediction_reader(model, data.reader(), threshold, keep, estimator)


def _factorization_prediction(call: Call) -> pa.RecordBatchReader:
    """A matrix factorization model's ``predicted_<rating_col>`` for each input (user, item) pair, then
    the input's columns: ML.RECOMMEND's rows for pairs, in ML.PREDICT's column order.

    BigQuery ML's first recommendation tutorials scored chosen pairs so (``ML.PREDICT(MODEL
    movielens.recommender_16, (SELECT movieId, title, 903 AS userId …)) ORDER BY predicted_rating``,
    the training-data-analyst ``als_bqml`` notebooks); ML.RECOMMEND took that role later.
    """
    settings = call.settings({"trial_id": int})
    factors = model_factorization(call.model, f"{call.record.dataset}.{call.record.name}", settings.get("trial_id"))
    data = call.data(0)
    given = {name.lower() for name in data.schema.names}
    missing = [column for column in (factors.user_col, factors.item_col) if column.lower() not in given]
    if missing:
        raise InvalidModelInputError(
            f"ML.PREDICT of matrix factorization model {call.record.dataset}.{call.record.name} needs the "
            f"{factors.user_col} and {factors.item_col} columns; the input has no {' or '.join(missing)}.",
            hint=f"Select {', '.join(missing)} in the input query, or ask ML.RECOMMEND(MODEL {call.ref}) for every pair.",
        )
    reader = recommendations(factors, data.reader())
    produced = {name.lower(): name for name in reader.schema.names}
    order = [factors.prediction_column, *(produced[name.lower()] for name in data.schema.names)]  # the input's order
    schema = pa.schema([reader.schema.field(name) for name in order])
    return pa.RecordBatchReader.from_batches(schema, (batch.select(order) for batch in reader))


@function("TRANSFORM")
def transform(call: Call) -> pa.RecordBatchReader:
    """``ML.TRANSFORM(MODEL m, data)``: the TRANSFORM clause's feature columns, then the input's columns.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-transform — the
    page's example (TRANSFORM(species, island, ML.MAX_ABS_SCALER(culmen_length_mm) OVER () AS
    culmen_length_mm, …, sex, body_mass_g) over the penguins table) returns species, island,
    culmen_length_mm, flipper_length_mm, sex, culmen_depth_mm, body_mass_g: the features, then the
    input columns they do not replace (the label among them), in the input's order.
    """
    model = call.model
    if not model.spec.get("transform"):
        raise ModelError(
            f"ML.TRANSFORM needs a model created with a TRANSFORM clause; {call.record.dataset}.{call.record.name} has none.",
            model=str(call.ref),
        )
    reader = call.data(0).reader()
    model.check_input(reader.schema)

    def transformed(batch: pa.RecordBatch) -> pa.Table:
        features = apply_transform(model, batch)
        taken = {name.lower() for name in features.column_names}
        for index, field in enumerate(batch.schema):
            if field.name.lower() not in taken:
                features = features.append_column(field, pa.chunked_array([batch.column(index)], field.type))
        return features

    # the first batch's output fixes the schema (an empty one stands in for an empty input)
    batches = iter(reader)
    first = transformed(next(batches, None) or pa.RecordBatch.from_pylist([], schema=reader.schema))

    def rest():
        yield from first.to_batches()
        for batch in batches:
            yield from transformed(batch).cast(first.schema).to_batches()

    return pa.RecordBatchReader.from_batches(first.schema, rest())
