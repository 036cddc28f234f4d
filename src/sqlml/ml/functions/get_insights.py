"""ML.GET_INSIGHTS: the insights a contribution analysis model found at CREATE MODEL.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights —
``ML.GET_INSIGHTS(MODEL m)`` takes no other argument; the rows come from the model's arrays
(:func:`sqlml.ml.contribution.insights.insights_table`), ordered by contribution, descending.
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import UnsupportedStatementError
from sqlml.ml.functions.call import Call, function


@function("GET_INSIGHTS")
def get_insights(call: Call) -> pa.Table:
    """``ML.GET_INSIGHTS(MODEL m)``.

    Raises:
        UnsupportedStatementError: the call has no MODEL argument, or has other arguments.
        ModelError: the model is not a contribution analysis model.
    """
    if call.node.model is None or call.inputs or call.node.expressions:
        raise UnsupportedStatementError(
            "ML.GET_INSIGHTS takes one argument, MODEL m: ML.GET_INSIGHTS(MODEL `dataset.model`).",
            hint="The insights were computed when the model was created; to analyse other rows, CREATE OR REPLACE the model.",
        )
    from sqlml.ml.contribution.insights import insights_table

    model = call.require("a CONTRIBUTION_ANALYSIS model")
    return insights_table(model.spec["contribution"], model.arrays)
