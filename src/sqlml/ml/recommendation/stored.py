"""A stored MATRIX_FACTORIZATION model read back as a :class:`Factorization`.

The model keeps its users and items once, as model arrays (``users``, ``items``, stored by
:func:`~sqlml.ml.recommendation.factors.keys_to_numpy`, their Arrow types in the description's
``recommendation`` entry), and each estimator — the model's, or each tuning trial's — its factors
and intercepts (:class:`~sqlml.ml.recommendation.estimator.FactorizationEstimator`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import CorruptModelError, ModelError
from sqlml.ml.models.model import Model
from sqlml.ml.recommendation.factors import Factorization, keys_from_numpy


def factorization_of(model: Model, trial_id: int | None = None) -> Factorization:
    """The fitted factorization of an MF model (of its trial, for a tuned model).

    Raises:
        ModelError: the model is not a matrix factorization.
        InvalidOptionError: ``trial_id`` names no successful trial (or the model is not tuned).
        CorruptModelError: the stored users or items do not match the factors.
    """
    described = model.spec.get("recommendation")
    if described is None:
        raise ModelError(f"{model.model_type} models have no user and item factors; only MATRIX_FACTORIZATION models do.")
    estimator = model.estimator_for(trial_id)
    users = keys_from_numpy(model.arrays["users"], described["user_type"])
    items = keys_from_numpy(model.arrays["items"], described["item_type"])
    if len(users) != len(estimator.user_factors_) or len(items) != len(estimator.item_factors_):
        raise CorruptModelError(
            f"The model stores {len(users)} users and {len(items)} items but factors for "
            f"{len(estimator.user_factors_)} and {len(estimator.item_factors_)}.",
            hint="Re-train the model with CREATE OR REPLACE MODEL.",
        )
    return Factorization(
        feedback_type=model.options["feedback_type"], user_col=described["user_col"], item_col=described["item_col"],
        rating_col=described["rating_col"], users=users, items=items,
        user_factors=estimator.user_factors_, item_factors=estimator.item_factors_,
        user_intercepts=estimator.user_intercepts_, item_intercepts=estimator.item_intercepts_,
        global_intercept=estimator.global_intercept_,
    )  # fmt: skip


#: ML.WEIGHTS' ``feature`` of the global intercept's row (as BigQuery writes it in the row).
GLOBAL_INTERCEPT = "global__INTERCEPT__"
FACTOR_WEIGHT = pa.struct([pa.field("factor", pa.int64()), pa.field("weight", pa.float64())])


def entity_labels(factorization: Factorization) -> tuple[pa.Array, pa.Array]:
    """``processed_input`` (the user or item column) and ``feature`` (the user or item as text) of
    every user, then every item: the rows of ML.WEIGHTS and of an embedding of the model."""
    names = [factorization.user_col] * len(factorization.users) + [factorization.item_col] * len(factorization.items)
    features = pa.concat_arrays([pc.cast(factorization.users, pa.string()), pc.cast(factorization.items, pa.string())])
    return pa.array(names, pa.string()), features


def weights_table(factorization: Factorization) -> pa.Table:
    """ML.WEIGHTS of a matrix factorization: a row per user and per item — ``processed_input``
    (the user or item column), ``feature`` (the user or item, as text), ``factor_weights``
    (factor 1 … num_factors and its weight) and ``intercept`` — then the global intercept's row,
    with NULL ``processed_input`` and ``factor_weights``
    (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-weights)."""
    factors = np.vstack([factorization.user_factors, factorization.item_factors])
    rows, k = factors.shape
    structs = pa.StructArray.from_arrays(
        [pa.array(np.tile(np.arange(1, k + 1), rows), pa.int64()), pa.array(factors.ravel(), pa.float64())], fields=list(FACTOR_WEIGHT)
    )
    weights = pa.ListArray.from_arrays(pa.array(np.arange(0, rows * k + 1, k), pa.int32()), structs)
    names, features = entity_labels(factorization)
    intercepts = np.concatenate([factorization.user_intercepts, factorization.item_intercepts, [factorization.global_intercept]])
    return pa.table({
        "processed_input": pa.concat_arrays([names, pa.nulls(1, pa.string())]),
        "feature": pa.concat_arrays([features, pa.array([GLOBAL_INTERCEPT], pa.string())]),
        "factor_weights": pa.concat_arrays([weights, pa.nulls(1, weights.type)]),
        "intercept": pa.array(intercepts, pa.float64()),
    })  # fmt: skip
