"""Syntax-tree nodes for what sqlml adds to BigQuery SQL: the ML.* table functions and model DDL.

Nodes follow sqlglot's own declarations (``exp.Predict`` in ``expressions/functions.py``):
``arg_types`` lists the children, ``True`` marks the required ones. They are generated back to
text only through :data:`sqlml.sql.generator.SQLML_TRANSFORMS` (sqlglot ignores ``<key>_sql``
methods for classes it does not know).
"""

from __future__ import annotations

from sqlglot import exp

from sqlml.errors import Location, UnsupportedStatementError


class MLFunction(exp.Expression, exp.Func):
    """``ML.<NAME>(MODEL m, {TABLE t | (query)}, ..., STRUCT(...))``: a table-valued ML function.

    ``this`` is the model reference (an ``exp.Table``) or None for the data-only functions such
    as ML.DESCRIBE_DATA; ``expressions`` holds the remaining arguments in the order written:
    data arguments (``exp.Table`` for ``TABLE t``, ``exp.Subquery`` for ``(query)``), the trailing
    settings ``STRUCT`` and any other expression (ML.ROC_CURVE's ``GENERATE_ARRAY``).
    """

    arg_types = {"this": False, "expressions": False}
    #: The name after ``ML.``, upper-case.
    function_name: str = ""
    #: Whether ``MODEL m`` must come first.
    requires_model: bool = True
    #: Whether a ``MODEL m`` argument comes first (else last, as in ML.VALIDATE_DATA_DRIFT).
    model_first: bool = True
    #: False for BigQuery functions sqlml parses but cannot run yet.
    supported: bool = True

    @property
    def model(self) -> exp.Table | None:
        """The ``MODEL`` argument, if any."""
        return self.this

    @property
    def data_arguments(self) -> list[exp.Expression]:
        """``TABLE t`` and ``(query)`` arguments, in order."""
        return [a for a in self.expressions if isinstance(a, (exp.Table, exp.Subquery, exp.Query))]

    @property
    def settings(self) -> exp.Struct | None:
        """The trailing ``STRUCT(...)`` of named settings, if any."""
        return next((a for a in self.expressions if isinstance(a, exp.Struct)), None)

    @property
    def other_arguments(self) -> list[exp.Expression]:
        """Arguments that are neither data nor the settings STRUCT (e.g. GENERATE_ARRAY)."""
        data = set(map(id, self.data_arguments))
        return [a for a in self.expressions if id(a) not in data and not isinstance(a, exp.Struct)]


def _ml_function(name: str, requires_model: bool = True, supported: bool = True, model_first: bool = True) -> type[MLFunction]:
    cls_name = "ML" + "".join(part.capitalize() for part in name.split("_"))
    return type(
        cls_name,
        (MLFunction,),
        {
            "function_name": name,
            "requires_model": requires_model,
            "model_first": model_first,
            "supported": supported,
            "_sql_names": [f"ML_{name}"],
            "__doc__": f"``ML.{name}(...)``.",
        },
    )


#: ML table functions taking ``MODEL m`` first (BigQuery's, then sqlml's own additions).
MODEL_FUNCTION_NAMES = (
    "PREDICT",
    "EVALUATE",
    "CONFUSION_MATRIX",
    "ROC_CURVE",
    "TRAINING_INFO",
    "FEATURE_INFO",
    "WEIGHTS",
    "ADVANCED_WEIGHTS",
    "CENTROIDS",
    "PRINCIPAL_COMPONENTS",
    "PRINCIPAL_COMPONENT_INFO",
    "EXPLAIN_PREDICT",
    "GLOBAL_EXPLAIN",
    "FEATURE_IMPORTANCE",
    "TRIAL_INFO",
    "TRANSFORM",
    "VALIDATE_DATA_SKEW",
    "DETECT_ANOMALIES",
    "RECONSTRUCTION_LOSS",
    # Forecasting (ARIMA_PLUS, ARIMA_PLUS_XREG): they parse with MODEL m first, and say
    # "ML.<NAME> is not supported yet" until ml/functions has an implementation for them.
    # https://cloud.google.com/bigquery/docs/e2e-journey-forecast
    "FORECAST",
    "EXPLAIN_FORECAST",
    "ARIMA_EVALUATE",
    "ARIMA_COEFFICIENTS",
    "HOLIDAY_INFO",
    # Matrix factorization and embeddings (MATRIX_FACTORIZATION, PCA, AUTOENCODER models).
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-recommend
    "RECOMMEND",
    "GENERATE_EMBEDDING",
    # Contribution analysis (CONTRIBUTION_ANALYSIS models).
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-get-insights
    "GET_INSIGHTS",
    # sqlml additions: the model registry and fairness.
    "VERSIONS",
    "EVALUATE_FAIRNESS",
)

#: ML table functions whose first argument is data, not a model (ML.VALIDATE_DATA_DRIFT takes an
#: optional ``MODEL m`` last, kept in ``this``).
DATA_FUNCTION_NAMES = ("DESCRIBE_DATA", "VALIDATE_DATA_DRIFT", "TFDV_DESCRIBE", "FEATURES_AT_TIME", "ENTITY_FEATURES_AT_TIME")

#: BigQuery's other ML table functions (generative AI,
#: Cloud AI services: remote models): they parse, so that running one
#: says "ML.<NAME> is not supported yet" instead of a syntax error.
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-e2e-journey
NOT_YET_SUPPORTED_NAMES = (
    "GENERATE_TEXT", "GENERATE_TEXT_EMBEDDING", "TRANSLATE", "UNDERSTAND_TEXT",
    "ANNOTATE_IMAGE", "PROCESS_DOCUMENT", "TRANSCRIBE",
)  # fmt: skip

#: BigQuery's scalar ML functions sqlml has no implementation of yet.
NOT_YET_SUPPORTED_SCALAR_NAMES = ("DECODE_IMAGE", "RESIZE_IMAGE", "CONVERT_COLOR_SPACE", "CONVERT_IMAGE_TYPE")

#: Every ML table-function node class by its upper-case name.
ML_FUNCTIONS: dict[str, type[MLFunction]] = {
    **{name: _ml_function(name) for name in MODEL_FUNCTION_NAMES},
    **{name: _ml_function(name, requires_model=False, model_first=False) for name in DATA_FUNCTION_NAMES},
    **{name: _ml_function(name, requires_model=False, supported=False) for name in NOT_YET_SUPPORTED_NAMES},
}


def unsupported_function_error(node: MLFunction) -> UnsupportedStatementError:
    """The error for a call of an ML table function sqlml parses but cannot run yet, located at it.

    Every path that finds no implementation (a node marked unsupported, a name missing from the
    function table) raises this one, so that they all say it the same way.
    """
    remote = node.function_name in NOT_YET_SUPPORTED_NAMES
    return UnsupportedStatementError(
        f"{node.meta.get('prefix') or 'ML'}.{node.function_name} is not supported yet",  # AI.UNDERSTAND_TEXT as written
        hint="It calls a remote model (Gemini, a Vertex AI endpoint or a Cloud AI service), which sqlml cannot reach: "
        "sqlml trains and runs models locally."
        if remote
        else "sqlml runs BigQuery ML's model, evaluation, explanation and data-quality functions; see README.md.",
        location=written_location(node),
    )


class TrainingData(exp.Expression):
    """``AS (training_data AS (query), custom_holiday AS (query))``: CREATE MODEL's two queries.

    The form time-series models (ARIMA_PLUS, ARIMA_PLUS_XREG) take to add holidays of their own to
    the built-in calendars; it stands where the training query stands (``Create.expression``).
    ``this`` is the training query, ``custom_holiday`` the holiday query (columns region,
    holiday_name, primary_date[, preholiday_days, postholiday_days]). Read them with
    :func:`training_query` and :func:`custom_holiday_query`.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#create_model_syntax
    """

    arg_types = {"this": True, "custom_holiday": True}


def training_query(create: exp.Expression) -> exp.Expression | None:
    """The training query of a CREATE MODEL statement, whichever form its AS clause takes."""
    query = create.expression
    return query.this if isinstance(query, TrainingData) else query


def custom_holiday_query(create: exp.Expression) -> exp.Expression | None:
    """The ``custom_holiday AS (query)`` of a CREATE MODEL statement, or None when it has none."""
    query = create.expression
    return query.args["custom_holiday"] if isinstance(query, TrainingData) else None


class AlterModel(exp.Expression):
    """``ALTER MODEL [IF EXISTS] m SET OPTIONS(...)``."""

    arg_types = {"this": True, "exists": False, "expressions": True}


class ExportModel(exp.Expression):
    """``EXPORT MODEL m [OPTIONS(...)]``."""

    arg_types = {"this": True, "expressions": False}


def written_location(node: exp.Expression) -> Location | None:
    """Where an ML function call or a wildcard table is written, from the span the dialect keeps
    in the node's meta (line, column, the line's text), or None when the node carries none."""
    meta = node.meta
    if "source_line" not in meta:
        return None
    length = max(1, meta.get("end", meta["start"]) - meta["start"] + 1)
    return Location(line=meta["line"], col=meta["col"], source_line=meta["source_line"], length=length)


class LoadDataFiles(exp.Expression):
    """BigQuery's ``LOAD DATA {INTO|OVERWRITE} [TEMP TABLE] t [(columns)] [PARTITION BY …]
    [CLUSTER BY …] [OPTIONS(…)] FROM FILES(…) [WITH PARTITION COLUMNS [(columns)]] [WITH CONNECTION c]``;
    ``files`` holds FILES' options as Properties (as sqlglot's own LoadData keeps them).
    https://cloud.google.com/bigquery/docs/reference/standard-sql/load-statements"""

    arg_types = {"this": True, "overwrite": False, "temp": False, "properties": False, "files": True,
                 "partition_columns": False, "connection": False}  # fmt: skip
