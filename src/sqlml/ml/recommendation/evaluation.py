"""ML.EVALUATE of a MATRIX_FACTORIZATION model on input rows (user, item, rating).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-evaluate — an
explicit model reports ``mean_absolute_error``, ``mean_squared_error``, ``mean_squared_log_error``,
``median_absolute_error``, ``r2_score`` and ``explained_variance`` of its predicted ratings; an
implicit model ``mean_average_precision``, ``mean_squared_error``,
``normalized_discounted_cumulative_gain`` and ``average_rank``
(:mod:`sqlml.ml.recommendation.ranking`). Rows whose rating is NULL are skipped; a user or item
unseen in training is predicted as BigQuery does, the global intercept plus the known side's
intercept (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError
from sqlml.ml.models import metrics
from sqlml.ml.recommendation import ranking
from sqlml.ml.recommendation.factors import IMPLICIT, Factorization
from sqlml.ml.recommendation.recommend import coerced_keys


def metric_names(feedback_type: str) -> tuple[str, ...]:
    """ML.EVALUATE's columns for a model of this feedback type."""
    return ranking.IMPLICIT_METRICS if feedback_type == IMPLICIT else metrics.REGRESSION_METRICS


def input_columns(factorization: Factorization, names: list[str], function: str = "ML.EVALUATE") -> tuple[str, str, str]:
    """The input's names (``names``) of the model's user, item and rating columns, found case-insensitively.

    Raises:
        InvalidModelInputError: the input lacks one of them.
    """
    by_lower = {name.lower(): name for name in names}
    wanted = (factorization.user_col, factorization.item_col, factorization.rating_col)
    for name in wanted:
        if name.lower() not in by_lower:
            raise InvalidModelInputError(
                f"{function} needs the columns {', '.join(wanted)} of the model's training; the input has no {name}.",
                column=name,
                hint=f"Select {name} in the query you evaluate on.",
            )
    return tuple(by_lower[name.lower()] for name in wanted)


def no_ratings_error(function: str, name: str) -> InvalidModelInputError:
    """The error of ``function`` for input without a row whose rating (column ``name``) is set."""
    return InvalidModelInputError(
        f"{function} found no rows with a rating: the input has no rows, or {name} is NULL in all of them.",
        column=name,
        hint=f"Evaluate on rows where {name} IS NOT NULL.",
    )


def evaluate_rows(factorization: Factorization, table: pa.Table, function: str = "ML.EVALUATE") -> dict:
    """The metrics of ``factorization`` on the input rows ``table``.

    Raises:
        InvalidModelInputError: the rows lack the user, item or rating column, have no rating, or
            have users or items that do not convert to their training type (as for ML.RECOMMEND).
    """
    user, item, rating = (table.column(name) for name in input_columns(factorization, table.column_names, function))
    rated = pc.is_valid(rating)
    if not pc.any(rated).as_py():
        raise no_ratings_error(function, factorization.rating_col)
    user, item, rating = user.filter(rated), item.filter(rated), rating.filter(rated)
    users, items = pair_rows(factorization, user, item)
    values = pc.cast(rating, pa.float64()).to_numpy()
    if factorization.feedback_type == IMPLICIT:
        return ranking.implicit_metrics(factorization.user_factors, factorization.item_factors, values, np.column_stack([users, items]))
    return metrics.regression_metrics(values, factorization.score_pairs(users, items))


def pair_rows(factorization: Factorization, user: pa.Array | pa.ChunkedArray, item: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """The input users' and items' rows in the model (-1: unseen in training), their values
    coerced to the training types first.

    Raises:
        InvalidModelInputError: a type or value that does not convert (as for ML.RECOMMEND).
    """
    user = coerced_keys(user, factorization.users.type, factorization.user_col)
    item = coerced_keys(item, factorization.items.type, factorization.item_col)
    return factorization.user_index(user), factorization.item_index(item)
