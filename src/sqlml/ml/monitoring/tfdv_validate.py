"""ML.TFDV_VALIDATE as a built-in function: a macro in the instance's ``memory`` catalog over
vectorized (Arrow) UDFs, installed by :mod:`sqlml.engine.duckdb.builtins`.

The comparison itself is :func:`sqlml.ml.monitoring.tfdv_statistics.validate`. Bad arguments
become a SQL ``error()`` with the reason, as BigQuery reports them, instead of a Python traceback.
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tfdv-validate
"""

from __future__ import annotations

import json

import duckdb
from duckdb import sqltypes

from sqlml.errors import InvalidOptionError

# The macro SQL calls (see :mod:`sqlml.sql.ml_scalars`), named where the SQL front end writes it.
from sqlml.sql.duckdb_names import TFDV_VALIDATE as MACRO

_ARGUMENTS = "base, study, detection, categorical_threshold, categorical_metric, numerical_threshold, numerical_metric, thresholds"
_TYPES = [sqltypes.VARCHAR, sqltypes.VARCHAR, sqltypes.VARCHAR, sqltypes.DOUBLE, sqltypes.VARCHAR, sqltypes.DOUBLE, sqltypes.VARCHAR, sqltypes.VARCHAR]


def _outcome(row: list) -> tuple[str | None, str | None]:
    """(anomalies JSON, None) or (None, why the arguments are wrong) for one row of arguments."""
    # Imported on the first call, not when the function is installed on every connection.
    from sqlml.ml.monitoring.tfdv_statistics import validate
    from sqlml.ml.monitoring.thresholds import anomaly_rules

    base, study, detection, categorical, categorical_metric, numerical, numerical_metric, thresholds = row
    if base is None or study is None:
        return None, None
    settings = {"categorical_default_threshold": categorical, "categorical_metric_type": categorical_metric,
                "numerical_default_threshold": numerical, "numerical_metric_type": numerical_metric}  # fmt: skip
    try:
        entries = json.loads(thresholds) if thresholds else []
        settings["thresholds"] = [tuple(entry.values()) if isinstance(entry, dict) else tuple(entry) for entry in entries]
        # the same metric and threshold rules as ML.VALIDATE_DATA_SKEW/DRIFT
        rules = anomaly_rules("ML.TFDV_VALIDATE", {k: v for k, v in settings.items() if v is not None})
        return validate(base, study, detection or "SKEW", rules), None
    except (InvalidOptionError, ValueError) as error:
        return None, f"ML.TFDV_VALIDATE: {getattr(error, 'message', error)}"


def _column(index: int):
    # DuckDB checks the UDF's signature against the eight parameter types, so no *args here.
    # No annotations: DuckDB reads them when the UDF is registered, and pyarrow is imported on the first call.
    def udf(base, study, detection, categorical, categorical_metric, numerical, numerical_metric, thresholds):
        import pyarrow as pa

        columns = (base, study, detection, categorical, categorical_metric, numerical, numerical_metric, thresholds)
        rows = zip(*(c.to_pylist() for c in columns))
        return pa.array([_outcome(list(row))[index] for row in rows], pa.string())

    return udf


def install(db: duckdb.DuckDBPyConnection) -> None:
    """Register the TFDV_VALIDATE UDFs and macro on the DuckDB instance ``db``."""
    options = {"type": "arrow", "null_handling": "special", "side_effects": False}
    db.create_function("sqlml_tfdv_validate", _column(0), _TYPES, sqltypes.VARCHAR, **options)
    db.create_function("sqlml_tfdv_problem", _column(1), _TYPES, sqltypes.VARCHAR, **options)
    db.execute(
        f"CREATE OR REPLACE MACRO {MACRO}({_ARGUMENTS}) AS CASE "
        f"WHEN sqlml_tfdv_problem({_ARGUMENTS}) IS NOT NULL THEN error(sqlml_tfdv_problem({_ARGUMENTS})) "
        f"ELSE sqlml_tfdv_validate({_ARGUMENTS}) END"
    )
