"""The TRANSFORM_ONLY family: a model that is only its TRANSFORM clause, for ML.TRANSFORM.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-transform —
no estimator, no label, no ML.PREDICT; its files are exported as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.ml.models.base import ModelFamily, Source, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, table

if TYPE_CHECKING:
    from sqlml.ml.models.options import Option


class TransformOnlyFamily(ModelFamily):
    """TRANSFORM_ONLY."""

    name = "transform_only"
    model_types = (ModelType.TRANSFORM_ONLY,)
    source = Source.TRANSFORM

    def target(self, model_type: str) -> Target:
        """The TRANSFORM clause's features."""
        return Target.FEATURES

    def option_table(self, model_type: str) -> dict[str, Option]:
        """The common options only."""
        return table(COMMON)
