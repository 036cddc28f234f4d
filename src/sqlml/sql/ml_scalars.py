"""Scalar ML.* calls left after the preprocessing functions were expanded: ML.TFDV_VALIDATE becomes
a call of its built-in macro, ML.DISTANCE and ML.LP_NORM become calls of theirs,
BigQuery's scalar ML functions sqlml lacks say so, and so do the AI.* functions (Google-hosted models)
and the OBJ.* ObjectRef functions (Cloud Storage objects).

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-distance —
``ML.DISTANCE(vector1, vector2 [, type])``, type ``'EUCLIDEAN'`` (default), ``'MANHATTAN'`` or
``'COSINE'`` (1 - cosine similarity); FLOAT64, NULL if either vector is NULL. A vector is
``ARRAY<numeric>`` (dense: one element a dimension, both vectors of one length) or
``ARRAY<STRUCT<STRING|INT64, numeric>>`` (sparse: "values are matched by the identifier rather than
by their position", duplicate identifiers are an error); a dimension one sparse vector lacks is 0
in it, as in ML.BAG_OF_WORDS and ML.TF_IDF output. Both become calls of the macros of
:mod:`sqlml.warehouse.vectors`, which take either form.
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-lp-norm —
``ML.LP_NORM(vector, degree)``, degree 0.0 (the count of non-zero elements), any value >= 1.0, or
``CAST('INF' AS FLOAT64)`` (the largest magnitude); FLOAT64, NULL if the vector is NULL; the
vector dense or sparse, as ML.DISTANCE's.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tfdv-validate —
``ML.TFDV_VALIDATE(base_statistics, study_statistics [, detection_type] [,
categorical_default_threshold] [, categorical_metric_type] [, numerical_default_threshold] [,
numerical_metric_type] [, thresholds])``, positional, defaults ``'SKEW'``, 0.3, ``'L_INFTY'``, 0.3,
``'JENSEN_SHANNON_DIVERGENCE'``, no per-column thresholds.
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import SqlTypeError, UnsupportedStatementError
from sqlml.sql.duckdb_names import LP_NORM, TFDV_VALIDATE, VECTOR_DISTANCE
from sqlml.sql.expressions import NOT_YET_SUPPORTED_SCALAR_NAMES, written_location
from sqlml.sql.templates import build

#: BigQuery's ObjectRef functions (https://cloud.google.com/bigquery/docs/reference/standard-sql/objectref_functions).
_OBJECT_REF_FUNCTIONS = ("MAKE_REF", "FETCH_METADATA", "GET_ACCESS_URL")
_TFDV_DEFAULTS = ("'SKEW'", "0.3", "'L_INFTY'", "0.3", "'JENSEN_SHANNON_DIVERGENCE'", "NULL")


def ml_scalars(tree: exp.Expression) -> exp.Expression:
    """Replace ``ML.TFDV_VALIDATE(…)``, ``ML.DISTANCE(…)``, ``ML.LP_NORM(…)``; refuse the scalar ML
    functions sqlml does not have, and every AI.* function (scalar or in FROM)."""
    for table in tree.find_all(exp.Table):  # FROM AI.FORECAST(…): sqlglot keeps AI as the table's dataset
        if table.db.upper() == "AI" and isinstance(table.this, exp.Func):
            raise _generative_ai_error(_function_name(table.this), table.this)
    for dot in reversed(list(tree.find_all(exp.Dot, bfs=False))):  # innermost first, as arguments are copied
        call = dot.expression
        prefix = dot.this.name.upper() if isinstance(dot.this, exp.Identifier) else ""
        if prefix not in ("ML", "AI", "OBJ") or not isinstance(call, exp.Func):
            continue
        name = _function_name(call)
        if prefix == "AI":
            raise _generative_ai_error(name, call)
        if prefix == "OBJ":
            if name in _OBJECT_REF_FUNCTIONS:  # another OBJ.f(…) is a function of a dataset named obj
                raise _object_ref_error(name, call)
            continue
        if name == "TFDV_VALIDATE":
            dot.replace(_tfdv_validate(call))
        elif name == "DISTANCE":
            dot.replace(_distance(call))
        elif name == "LP_NORM":
            dot.replace(_lp_norm(call))
        elif name in NOT_YET_SUPPORTED_SCALAR_NAMES:
            raise UnsupportedStatementError(f"ML.{name} is not supported yet", location=written_location(call))
    return tree


def _function_name(call: exp.Func) -> str:
    if isinstance(call, exp.GenerateEmbedding) and call.args.get("is_text"):
        return "GENERATE_TEXT_EMBEDDING"  # sqlglot's one node for both spellings
    return (call.name if isinstance(call, exp.Anonymous) else call.sql_name()).upper()


def _generative_ai_error(name: str, call: exp.Expression) -> UnsupportedStatementError:
    # AI.GENERATE, AI.FORECAST (TimesFM), AI.EMBED, AI.IF, … call Google-hosted models.
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate
    # sqlglot's own AI.FORECAST node (AIForecast) is named A_I_FORECAST, its AI.GENERATE node AI_GENERATE
    name = name.removeprefix("A_I_").removeprefix("AI_")
    return UnsupportedStatementError(
        f"AI.{name} calls a Google-hosted model (Gemini, TimesFM, a Vertex AI endpoint), which sqlml cannot reach: it runs models locally.",
        hint="Forecast locally with CREATE MODEL … OPTIONS(model_type='ARIMA_PLUS') and ML.FORECAST, and detect "
        "anomalies with ML.DETECT_ANOMALIES; the generative AI functions have no local counterpart.",
        location=written_location(call),
    )


def _object_ref_error(name: str, call: exp.Expression) -> UnsupportedStatementError:
    # OBJ.MAKE_REF, OBJ.FETCH_METADATA, OBJ.GET_ACCESS_URL: ObjectRef values point at Cloud Storage
    # objects through a connection (the multimodal tutorials); they said "Unknown function make_ref".
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/objectref_functions
    return UnsupportedStatementError(
        f"OBJ.{name} works on Cloud Storage objects (ObjectRef values), which sqlml does not reach.",
        hint="Load the data the objects hold into a table with LOAD DATA … FROM FILES(uris = ['<local path>']).",
        location=written_location(call),
    )


def _arguments(call: exp.Expression, name: str, least: int, most: int) -> list[exp.Expression]:
    arguments = list(call.expressions) if isinstance(call, exp.Anonymous) else list(call.iter_expressions())
    if not least <= len(arguments) <= most:
        raise SqlTypeError(f"No matching signature for function ML.{name}: it takes {least} to {most} arguments; got {len(arguments)}.")
    return arguments


def _tfdv_validate(call: exp.Expression) -> exp.Expression:
    arguments = _arguments(call, "TFDV_VALIDATE", 2, 8)
    parts = {str(i): a for i, a in enumerate(arguments)}
    values = [f"__p_{i}" if i < len(arguments) else _TFDV_DEFAULTS[i - 2] for i in range(8)]
    thresholds = values[7] if values[7] == "NULL" else f"to_json({values[7]})"
    template = (
        f"CAST({TFDV_VALIDATE}(CAST({values[0]} AS VARCHAR), CAST({values[1]} AS VARCHAR), {values[2]}, "
        f"CAST({values[3]} AS DOUBLE), {values[4]}, CAST({values[5]} AS DOUBLE), {values[6]}, CAST({thresholds} AS VARCHAR)) AS JSON)"
    )
    return build(template, **parts)


def _distance(call: exp.Expression) -> exp.Expression:
    arguments = _arguments(call, "DISTANCE", 2, 3)
    kind = arguments[2] if len(arguments) == 3 else exp.Literal.string("EUCLIDEAN")
    if not (isinstance(kind, exp.Literal) and kind.is_string and kind.name.upper() in VECTOR_DISTANCE):
        raise SqlTypeError(
            f"The type argument of ML.DISTANCE must be 'EUCLIDEAN', 'MANHATTAN' or 'COSINE'. Got {kind.sql(dialect='bigquery')} instead.",
            location=written_location(call),
        )
    return build(f"{VECTOR_DISTANCE[kind.name.upper()]}(__p_a, __p_b)", a=arguments[0], b=arguments[1])


def _lp_norm(call: exp.Expression) -> exp.Expression:
    vector, degree = _arguments(call, "LP_NORM", 2, 2)
    return build(f"{LP_NORM}(__p_v, __p_d)", v=vector, d=exp.cast(degree, "DOUBLE"))
