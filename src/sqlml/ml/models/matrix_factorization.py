"""The matrix factorization family: MATRIX_FACTORIZATION, BigQuery's recommendation model.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-matrix-factorization —
options and defaults (``feedback_type`` EXPLICIT trains alternating least squares, IMPLICIT
weighted ALS; ``num_factors`` defaults to log2 of the training rows; ``l2_reg`` 1.0;
``wals_alpha`` 40 for implicit models only; ``data_split_method`` NO_SPLIT); the training query
has exactly the user, item and rating columns (plus a split column), no TRANSFORM clause.
Tuning: https://cloud.google.com/bigquery/docs/hp-tuning-overview (num_factors [2, 20] LINEAR,
l2_reg (0, 10] LOG, implicit adds wals_alpha [0, 100] LINEAR).

The training rows are encoded by :mod:`sqlml.ml.recommendation.ratings` (users and items as row
codes), the factors fitted by :mod:`sqlml.ml.recommendation.estimator`, and every reader of the
fitted model goes through :func:`sqlml.ml.recommendation.stored.factorization_of`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.models import metrics
from sqlml.ml.models.base import ModelFamily, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, ITERATIVE, TUNING, option, table
from sqlml.ml.models.options import Kind
from sqlml.ml.recommendation import ranking

if TYPE_CHECKING:
    import numpy as np

    from sqlml.ml.models.estimator import Estimator
    from sqlml.ml.models.options import Option

EXPLICIT_OBJECTIVES = ("MEAN_SQUARED_ERROR",)
IMPLICIT_OBJECTIVES = ("MEAN_AVERAGE_PRECISION", "MEAN_SQUARED_ERROR", "NORMALIZED_DISCOUNTED_CUMULATIVE_GAIN", "AVERAGE_RANK")

MF_OPTIONS = [
    option("feedback_type", Kind.ENUM, "EXPLICIT", choices=("EXPLICIT", "IMPLICIT")),
    # Default log2(training rows) — computed at training time (None here).
    option("num_factors", Kind.INT, None, low=2, high=200, search=(2, 20, "LINEAR")),
    option("user_col", Kind.STRING, "user"),
    option("item_col", Kind.STRING, "item"),
    option("rating_col", Kind.STRING, "rating"),
    option("wals_alpha", Kind.FLOAT, 40.0, low=0, search=(0, 100, "LINEAR")),
    option("l2_reg", Kind.FLOAT, 1.0, low=0, low_open=True, search=(0, 10, "LOG")),
    *ITERATIVE,
    option("data_split_method", Kind.ENUM, "NO_SPLIT", choices=("AUTO_SPLIT", "RANDOM", "CUSTOM", "SEQ", "NO_SPLIT")),
    option("data_split_eval_fraction", Kind.FLOAT, 0.2, low=0, high=1, low_open=True, high_open=True),
    option("data_split_test_fraction", Kind.FLOAT, 0.0, low=0, high=1, high_open=True),
    option("data_split_col", Kind.STRING),
]


def is_implicit(options: dict) -> bool:
    """The model learns from implicit feedback (weighted ALS)."""
    return options.get("feedback_type") == "IMPLICIT"


class MatrixFactorizationFamily(ModelFamily):
    """MATRIX_FACTORIZATION."""

    name = "matrix_factorization"
    model_types = (ModelType.MATRIX_FACTORIZATION,)
    search_space = ("num_factors", "l2_reg")
    accepts_transform = False

    def target(self, model_type: str) -> Target:
        """Recommendation."""
        return Target.RECOMMENDATION

    def functions(self, model_type: str) -> frozenset[str]:
        """EVALUATE, WEIGHTS, RECOMMEND and GENERATE_EMBEDDING (ML.PREDICT is ML.RECOMMEND's job)."""
        return frozenset({"EVALUATE", "WEIGHTS", "RECOMMEND", "GENERATE_EMBEDDING"})

    def instead_of(self, function: str, model_type: str) -> str | None:
        """ML.RECOMMEND predicts ratings (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend)."""
        return "RECOMMEND" if function == "PREDICT" else None

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common and tuning options, then matrix factorization's own."""
        return table(COMMON, TUNING, MF_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """``wals_alpha`` applies to implicit feedback only."""
        if "wals_alpha" in given and not is_implicit(options):
            raise InvalidOptionError(
                "wals_alpha applies only to feedback_type='IMPLICIT'; this model is trained on EXPLICIT feedback.",
                option="wals_alpha",
                hint="Remove wals_alpha, or set feedback_type='IMPLICIT'.",
            )

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """:class:`~sqlml.ml.recommendation.estimator.FactorizationEstimator`."""
        from sqlml.ml.recommendation.estimator import FactorizationEstimator

        return FactorizationEstimator

    def metric_names(self, model_type: str) -> tuple[str, ...]:
        """An explicit model's: the regression metrics (an implicit model's are :data:`ranking.IMPLICIT_METRICS`)."""
        return metrics.REGRESSION_METRICS

    def metric_outputs(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """An explicit model's predictions; an implicit model's rows' user and item rows themselves
        (``X``, not copied): its ranking metrics score the distinct pairs from the factors."""
        if not is_implicit(estimator.options):
            return estimator.predict(X)
        import numpy as np

        return np.asarray(X, dtype=np.int64)

    def metrics(self, model_type: str, estimator: Estimator, y: np.ndarray | None, raw: np.ndarray, threshold: float | None = None) -> dict:
        """Regression metrics of the predicted ratings (explicit), ranking metrics over every
        item (implicit, of at most :data:`ranking.RANKED_USERS` users); ``raw`` is the
        estimator's :meth:`metric_outputs` (an implicit fit's own matrix of the scored rows'
        pairs is reused when ``raw`` and ``y`` are those rows')."""
        if is_implicit(estimator.options):
            rated = estimator.scored_pairs(raw, y)
            return ranking.implicit_metrics(estimator.user_factors_, estimator.item_factors_, y, raw, ranking.RANKED_USERS, rated)
        return metrics.regression_metrics(y, raw[:, 0]) if len(y) else dict.fromkeys(metrics.REGRESSION_METRICS)

    def tuning_objectives(self, model_type: str, options: dict) -> tuple[str, ...]:
        """MEAN_SQUARED_ERROR (explicit); MEAN_AVERAGE_PRECISION first among the ranking metrics (implicit)."""
        return IMPLICIT_OBJECTIVES if is_implicit(options) else EXPLICIT_OBJECTIVES

    def data_defaults(self, model_type: str, options: dict, rows: int) -> dict:
        """num_factors: log2 of the training rows."""
        from sqlml.ml.recommendation.estimator import default_num_factors

        return {"num_factors": default_num_factors(rows)}

    def tuned_options(self, model_type: str, options: dict) -> tuple[str, ...]:
        """num_factors and l2_reg, and wals_alpha for implicit feedback."""
        return (*self.search_space, "wals_alpha") if is_implicit(options) else self.search_space
