"""Scalar ML.* calls left after the preprocessing functions were expanded: ML.TFDV_VALIDATE becomes
a call of its built-in macro, and BigQuery's scalar ML functions sqlml lacks say so.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tfdv-validate —
``ML.TFDV_VALIDATE(base_statistics, study_statistics [, detection_type] [,
categorical_default_threshold] [, categorical_metric_type] [, numerical_default_threshold] [,
numerical_metric_type] [, thresholds])``, positional, defaults ``'SKEW'``, 0.3, ``'L_INFTY'``, 0.3,
``'JENSEN_SHANNON_DIVERGENCE'``, no per-column thresholds.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import SqlTypeError, UnsupportedStatementError
from sqlml.sql.duckdb_names import TFDV_VALIDATE
from sqlml.sql.expressions import NOT_YET_SUPPORTED_SCALAR_NAMES, written_location
from sqlml.sql.templates import build

_TFDV_DEFAULTS = ("'SKEW'", "0.3", "'L_INFTY'", "0.3", "'JENSEN_SHANNON_DIVERGENCE'", "NULL")


def ml_scalars(tree: exp.Expression) -> exp.Expression:
    """Replace ``ML.TFDV_VALIDATE(…)``; refuse the scalar ML functions sqlml does not have."""
    for dot in reversed(list(tree.find_all(exp.Dot, bfs=False))):  # innermost first, as arguments are copied
        call = dot.expression
        if not (isinstance(dot.this, exp.Identifier) and dot.this.name.upper() == "ML" and isinstance(call, exp.Func)):
            continue
        name = (call.name if isinstance(call, exp.Anonymous) else call.sql_name()).upper()
        if name == "TFDV_VALIDATE":
            dot.replace(_tfdv_validate(call))
        elif name in NOT_YET_SUPPORTED_SCALAR_NAMES:
            raise UnsupportedStatementError(f"ML.{name} is not supported yet", location=written_location(call))
    return tree


def _tfdv_validate(call: exp.Expression) -> exp.Expression:
    arguments = list(call.expressions) if isinstance(call, exp.Anonymous) else list(call.iter_expressions())
    if not 2 <= len(arguments) <= 8:
        raise SqlTypeError(f"No matching signature for function ML.TFDV_VALIDATE: it takes 2 to 8 arguments; got {len(arguments)}.")
    parts = {str(i): a for i, a in enumerate(arguments)}
    values = [f"__p_{i}" if i < len(arguments) else _TFDV_DEFAULTS[i - 2] for i in range(8)]
    thresholds = values[7] if values[7] == "NULL" else f"to_json({values[7]})"
    template = (
        f"CAST({TFDV_VALIDATE}(CAST({values[0]} AS VARCHAR), CAST({values[1]} AS VARCHAR), {values[2]}, "
        f"CAST({values[3]} AS DOUBLE), {values[4]}, CAST({values[5]} AS DOUBLE), {values[6]}, CAST({thresholds} AS VARCHAR)) AS JSON)"
    )
    return build(template, **parts)
