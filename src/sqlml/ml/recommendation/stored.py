"""A stored MATRIX_FACTORIZATION model read back as a :class:`Factorization`.

The model keeps its users and items once, as model arrays (``users``, ``items``, stored by
:func:`~sqlml.ml.recommendation.factors.keys_to_numpy`, their Arrow types in the description's
``recommendation`` entry), and each estimator — the model's, or each tuning trial's — its factors
and intercepts (:class:`~sqlml.ml.recommendation.estimator.FactorizationEstimator`).
"""

from __future__ import annotations

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
