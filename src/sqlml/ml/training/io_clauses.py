"""The INPUT(…) OUTPUT(…) clauses of CREATE MODEL, as the options an imported family reads.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-xgboost —
``CREATE MODEL m INPUT(f1 FLOAT64, …) OUTPUT(o FLOAT64) OPTIONS(model_type='XGBOOST', …)``
declares the model file's input and output columns. sqlglot parses them as
``InputModelProperty``/``OutputModelProperty``; they reach the family as the hidden options
``_input`` and ``_output`` (lists of ``{"name", "type"}`` with BigQuery type names), which
EXPORT MODEL's manifest and the version listing leave out like every ``_``-prefixed option.
"""

from __future__ import annotations

from sqlglot import exp

#: Clause node → the option that carries it.
CLAUSES = {exp.InputModelProperty: "_input", exp.OutputModelProperty: "_output"}


def io_clauses(properties: list[exp.Expression]) -> dict[str, list[dict]]:
    """``{"_input": [...], "_output": [...]}`` for the clauses among a CREATE MODEL's properties
    (empty when it has none).

    Args:
        properties: the statement's properties (``tree.args["properties"].expressions``).
    """
    clauses = {}
    for prop in properties:
        option = CLAUSES.get(type(prop))
        if option is not None:
            columns = prop.this.expressions if isinstance(prop.this, exp.Schema) else []
            clauses[option] = [{"name": column.name, "type": column.args["kind"].sql(dialect="bigquery")} for column in columns]
    return clauses
