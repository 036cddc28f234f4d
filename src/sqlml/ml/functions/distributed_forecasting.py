"""ML.EVALUATE and ML.DETECT_ANOMALIES of a forecasting model (ARIMA_PLUS, ARIMA_PLUS_XREG) on new
data, one time series at a time where the data is.

On an engine whose relations run work per group of rows on its workers (Spark:
``groupBy(ids).applyInArrow``, :meth:`~sqlml.engine.base.Relation.map_groups`), the input rows
are grouped by the model's id columns; each worker loads the stored model from the model store
(its series' states are NumPy arrays and JSON, no pickle), cuts it down to the group's series
(:class:`~sqlml.ml.forecasting.subset.SeriesSubsets`, kept per worker process) and computes that
series' rows with the one-process code — :func:`~sqlml.ml.forecasting.evaluation.evaluation_rows`,
:func:`~sqlml.ml.forecasting.anomalies.detect_new` — so they equal DuckDB's. The rows are a view
the statement's Spark SQL reads like a table; no input row reaches the driver.

The driver runs the same function on no rows first: that checks the input's columns and types
(the errors one process gives, before any work is sent out) and gives the output's schema.
A value only a worker sees (an infinite data value) fails there, as Spark reports it.

ML.FORECAST and ML.EXPLAIN_FORECAST read no input rows for an ARIMA_PLUS model; an
ARIMA_PLUS_XREG model's future regressors (a row per series and forecast step, the size of the
forecast itself) are read by the driver, where the forecast is computed.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from sqlglot import exp

from sqlml.execution.sources import SqlOutput
from sqlml.ml.forecasting.anomalies import detect_new, input_columns
from sqlml.ml.forecasting.evaluation import SOURCE, evaluation_rows
from sqlml.ml.forecasting.regressors import has_regressors
from sqlml.ml.forecasting.series import series_columns
from sqlml.ml.forecasting.subset import SeriesSubsets
from sqlml.ml.functions.call import Call
from sqlml.ml.models.model import Model
from sqlml.ml.runtime.forecast import series_id_types

if TYPE_CHECKING:
    from sqlml.engine.base import Relation

__all__ = ["anomaly_rows", "evaluated_rows", "group_rows", "series_rows", "stored_subsets"]

_names = itertools.count()

#: The rows of one group: ``rows(spec, arrays, table)`` of the model cut down to its series.
SeriesRows = Callable[[dict, dict, pa.Table], pa.Table]


def evaluated_rows(call: Call, model: Model, horizon: int, confidence: float, aggregate: bool) -> SqlOutput | None:
    """ML.EVALUATE's rows of the call's input (per series, or per point without ``aggregate``)
    computed per series on the engine's workers; None where the engine has none (DuckDB).

    Raises:
        InvalidModelInputError: the input lacks the model's timestamp, data or id column, or has
            one of a type the model cannot read.
    """
    data = call.data(0)
    if not data.cursor.maps_batches:
        return None
    columns = series_columns(data.schema.empty_table(), model.spec["options"], source=SOURCE)
    used = exp.select(*[exp.column(name, quoted=True) for name in (*columns.ids, columns.timestamp, columns.data)]).from_("__data")
    # the series' columns alone travel to the workers (an XREG model's regressors too: every column)
    relation = data.relation() if has_regressors(model.spec) else data.relation(used.sql(dialect="duckdb"))
    id_types = series_id_types(model.spec)
    rows = functools.partial(evaluation_rows, horizon=horizon, confidence=confidence, aggregate=aggregate, id_types=id_types)
    return series_rows(call, model, relation, columns.ids, rows)


def anomaly_rows(call: Call, model: Model, threshold: float) -> SqlOutput | None:
    """ML.DETECT_ANOMALIES's rows of the call's new data computed per series on the engine's
    workers; None where the engine has none (DuckDB).

    Raises:
        InvalidModelInputError: the data lacks a model column or has it with another type.
    """
    data = call.data(0)
    if not data.cursor.maps_batches:
        return None
    id_types = series_id_types(model.spec)
    relation = data.relation()
    ids = input_columns(relation.arrow_schema, model.spec["time_series"], id_types).ids
    return series_rows(call, model, relation, ids, functools.partial(detect_new, threshold=threshold, id_types=id_types))


def series_rows(call: Call, model: Model, relation: Relation, ids: list[str], rows: SeriesRows) -> SqlOutput:
    """A query over ``rows`` of each group of ``relation``'s rows sharing the ``ids`` columns'
    values (a series), computed by the engine's workers from the called model's stored files.

    ``rows`` runs on no rows here first, with the model cut down to no series: its checks of the
    input's columns raise here, and its output gives the view's schema.
    """
    schema = rows(*SeriesSubsets(model.spec, model.arrays).model_of([]), relation.arrow_schema.empty_table()).schema
    record = call.record
    files = tuple(sorted((name, str(path)) for name, path in call.executor.models.verified_files(record).items()))
    view = f"__sqlml_series_{next(_names)}"
    relation.map_groups(functools.partial(group_rows, files, tuple(sorted(record.checksums.items())), ids, rows), ids, schema, view)
    return SqlOutput(exp.select("*").from_(exp.to_table(view)))


def group_rows(files: tuple[tuple[str, str], ...], checksums: tuple, ids: list[str], rows: SeriesRows, table: pa.Table) -> pa.Table:
    """On a worker: ``rows`` of one series' input rows, with the stored model cut down to that series."""
    key = tuple(table.column(name)[0].as_py() for name in ids)  # a group has rows
    return rows(*stored_subsets(files, checksums).model_of([key]), table)


@functools.lru_cache(maxsize=4)
def stored_subsets(files: tuple[tuple[str, str], ...], checksums: tuple) -> SeriesSubsets:
    """The series of the model stored in ``files``, read once per worker process for all the groups
    it computes (``checksums``, the version's, are part of the key: other files, another model)."""
    model = Model.load({name: Path(path) for name, path in files})
    return SeriesSubsets(model.spec, model.arrays)
