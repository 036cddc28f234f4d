"""The CONTRIBUTION_ANALYSIS family: which segments of test and control rows drive a metric's change.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-contribution-analysis —
options, defaults and ranges; the model is not an estimator but its insights, computed at CREATE
MODEL from the rows (:mod:`sqlml.ml.contribution`) and kept as arrays, which ML.GET_INSIGHTS
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights)
returns; it is the only function that takes the model
(https://cloud.google.com/bigquery/docs/contribution-analysis#contribution_analysis_user_journey).
The family is fitted by itself from the training rows, as the time-series families are
(``Source.SERIES``), and takes no TRANSFORM clause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.contribution.metric import check_dimension_count, parse_metric
from sqlml.ml.models.base import ModelFamily, Source, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, option, table
from sqlml.ml.models.options import Kind

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from sqlml.ml.models.options import Option

PRUNING_METHODS = ("NO_PRUNING", "PRUNE_REDUNDANT_INSIGHTS")

CONTRIBUTION_OPTIONS = [
    option("contribution_metric", Kind.STRING),
    option("is_test_col", Kind.STRING),
    option("dimension_id_cols", Kind.STRING_ARRAY),
    option("min_apriori_support", Kind.FLOAT, 0.1, low=0, high=1),
    option("top_k_insights_by_apriori_support", Kind.INT, low=1, high=1_000_000),
    option("pruning_method", Kind.ENUM, "NO_PRUNING", choices=PRUNING_METHODS),
]


class ContributionAnalysisFamily(ModelFamily):
    """CONTRIBUTION_ANALYSIS."""

    name = "contribution_analysis"
    model_types = (ModelType.CONTRIBUTION_ANALYSIS,)
    source = Source.SERIES
    reports_eval_loss = False
    accepts_transform = False

    def target(self, model_type: str) -> Target:
        """No estimator: the insights are the model (as a TRANSFORM_ONLY model's features are)."""
        return Target.FEATURES

    def functions(self, model_type: str) -> frozenset[str]:
        """ML.GET_INSIGHTS only."""
        return frozenset({"GET_INSIGHTS"})

    def instead_of(self, function: str, model_type: str) -> str | None:
        """Every other function: the insights answer what a contribution analysis model knows."""
        return "GET_INSIGHTS"

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common options, then contribution analysis's own."""
        return table(COMMON, CONTRIBUTION_OPTIONS)

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """The page's rules that need no rows: the required options, the metric's form, one kind of
        threshold, and the dimensions' count when they are named."""
        for name in ("contribution_metric", "is_test_col"):
            if not options[name]:
                raise InvalidOptionError(
                    f"model_type='CONTRIBUTION_ANALYSIS' needs the option {name}.",
                    option=name,
                    hint="E.g. contribution_metric='SUM(sales)', is_test_col='is_test' (a BOOL column: TRUE for test rows).",
                )
        if {"min_apriori_support", "top_k_insights_by_apriori_support"} <= given:
            raise InvalidOptionError(
                "Please specify only one of the MIN_APRIORI_SUPPORT or TOP_K_INSIGHTS_BY_APRIORI_SUPPORT options.",
                option="top_k_insights_by_apriori_support",
                hint="Keep min_apriori_support to set the threshold, or top_k_insights_by_apriori_support to get the k largest insights.",
            )
        metric = parse_metric(options["contribution_metric"])
        dimensions = options["dimension_id_cols"]
        if dimensions is not None:
            _check_dimensions(dimensions, metric.columns, options)

    def fit_series(self, model_type: str, options: dict, table: pa.Table, holidays: pa.Table | None) -> tuple[dict, dict[str, np.ndarray]]:
        """The insights of the training rows (:func:`sqlml.ml.contribution.analysis.analyse`); CREATE MODEL
        refuses ``custom_holiday`` for every family but the forecasting ones, so ``holidays`` is None."""
        from sqlml.ml.contribution.analysis import analyse

        return analyse(options, table)


def _check_dimensions(dimensions: list[str], metric_columns: tuple[str, ...], options: dict) -> None:
    """Each named once, none of them a metric or test column, and not too many."""
    lowered = [name.lower() for name in dimensions]
    repeated = sorted({name for name in dimensions if lowered.count(name.lower()) > 1})
    taken = [name for name in dimensions if name.lower() in {c.lower() for c in (*metric_columns, options["is_test_col"])}]
    if repeated or taken:
        what = f"names {repeated[0]} twice" if repeated else f"names {taken[0]}, which contribution_metric or is_test_col uses"
        raise InvalidOptionError(
            f"dimension_id_cols {what}.", option="dimension_id_cols", hint="Name each dimension column once, apart from the metric and test columns."
        )
    check_dimension_count(len(dimensions), options)
