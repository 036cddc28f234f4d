"""ML.GENERATE_EMBEDDING and AI.GENERATE_EMBEDDING: a model's embedding of rows as one array column.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-generate-embedding —
besides remote embedding models (which sqlml does not run), the function takes "output data from
PCA, autoencoder, or matrix factorization models": PCA's principal component projections and an
autoencoder's latent columns, which ML.PREDICT returns as one column each, come back as one
``ARRAY<FLOAT64>`` per row (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-predict:
"AI.GENERATE_EMBEDDING generates the same embedding data as ML.PREDICT as an array in a single
column"), followed by the input columns. The column is ``ml_generate_embedding_result``;
AI.GENERATE_EMBEDDING "offers the same functionality with simplified column names in the
output": ``embedding``
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate-embedding).
The status column these pages list reports a remote model's API response, which a model computed
here has none of. ``STRUCT(n AS trial_id)`` picks a tuned model's trial, whose id leads the output
(the page's autoencoder and matrix factorization outputs: "``trial_id`` … only returned if you ran
hyperparameter tuning").

A matrix factorization model is embedded without input data
(``ML.GENERATE_EMBEDDING(MODEL m [, STRUCT(n AS trial_id)])``): "the same factor weights and
intercept data as ML.WEIGHTS as an array in a single column, rather than in two columns"
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights) — one
row per user and per item seen in training: ``processed_input`` (the user or item column's name),
``feature`` (the user or item, as text), then the embedding: the factor weights in factor order
and the intercept last (ML.WEIGHTS' column order). The forms are chosen by what the model learns
(:data:`EMBEDDERS`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from sqlml.errors import UnsupportedStatementError
from sqlml.ml.functions.call import Call, function
from sqlml.ml.functions.trial_column import served_trial, with_trial_rows, with_trial_table
from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation.stored import entity_labels, factorization_of
from sqlml.ml.runtime.feature_outputs import feature_outputs_reader

#: The embedding column's name by the prefix the function is called with.
EMBEDDING_COLUMN = {"ML": "ml_generate_embedding_result", "AI": "embedding"}


@function("GENERATE_EMBEDDING")
def generate_embedding(call: Call) -> pa.Table | pa.RecordBatchReader:
    """``{ML|AI}.GENERATE_EMBEDDING(MODEL m, [{TABLE t | (query)},] [STRUCT(trial_id)])``.

    Raises:
        ModelError: the model's type embeds nothing.
    """
    model = call.require()
    trial_id = call.settings({"trial_id": int}).get("trial_id")
    embedded = EMBEDDERS[model.target](call, model, trial_id)
    trial = served_trial(model, trial_id)
    return with_trial_table(embedded, trial) if isinstance(embedded, pa.Table) else with_trial_rows(embedded, trial)


def row_embeddings(call: Call, model: Model, trial_id: int | None) -> pa.RecordBatchReader:
    """The form of models that embed rows (PCA, autoencoders): the data's rows, each embedded.

    Raises:
        InvalidOptionError: an unknown trial.
        InvalidModelInputError: the data lacks a model column.
    """
    estimator = model.estimator_for(trial_id)
    family = model.family
    field = pa.field(embedding_column(call), pa.list_(pa.float64()))

    def compute(X: np.ndarray) -> list[pa.Array]:
        return [embedding_array(family.embed(model.model_type, estimator, X))]

    return feature_outputs_reader(model, call.data(0).reader(), [field], compute)


def embedding_column(call: Call) -> str:
    """``ml_generate_embedding_result``, or ``embedding`` when the call is spelled AI.GENERATE_EMBEDDING."""
    return EMBEDDING_COLUMN[call.node.meta.get("prefix") or "ML"]


def embedding_array(vectors: np.ndarray) -> pa.Array:
    """(rows, dimensions) vectors as one ``ARRAY<FLOAT64>`` value per row, without a copy per row."""
    rows, dimensions = vectors.shape
    offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * dimensions)
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(vectors, dtype=np.float64).ravel()))


def factor_embeddings(call: Call, model: Model, trial_id: int | None) -> pa.Table:
    """The matrix factorization form: every user's and item's factor weights and intercept.

    Raises:
        UnsupportedStatementError: the call passes input data.
        InvalidOptionError: an unknown trial.
    """
    if call.node.data_arguments:
        raise UnsupportedStatementError(
            f"{call.name} of a {model.model_type} model takes no input data: "
            "it embeds every user and item seen in training.",
            hint="Remove the TABLE or query argument, e.g. ML.GENERATE_EMBEDDING(MODEL m) or ML.GENERATE_EMBEDDING(MODEL m, STRUCT(1 AS trial_id)).",
        )
    factors = factorization_of(model, trial_id)
    processed_input, feature = entity_labels(factors)
    vectors = np.column_stack([
        np.vstack([factors.user_factors, factors.item_factors]),
        np.concatenate([factors.user_intercepts, factors.item_intercepts]),
    ])  # fmt: skip
    return pa.table({
        "processed_input": processed_input,
        "feature": feature,
        embedding_column(call): embedding_array(vectors),
    })  # fmt: skip


#: Each model target's form of the function; the model types whose family lists GENERATE_EMBEDDING
#: (checked by :meth:`Call.require`) all have one.
EMBEDDERS: dict[Target, Callable[[Call, Model, int | None], pa.Table | pa.RecordBatchReader]] = {
    Target.DECOMPOSITION: row_embeddings,
    Target.RECOMMENDATION: factor_embeddings,
}
