"""``hierarchical_time_series_cols``: roll-up series over a hierarchy of id columns, reconciled bottom-up.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#hierarchical_time_series_cols
— "the column order represents the hierarchy structure" (the first column is the top), and the
hierarchical tutorial (https://cloud.google.com/bigquery/docs/arima-time-series-forecasting-with-hierarchical-time-series)
shows the forecasts of every roll-up next to the leaves', the rolled-up columns NULL, "the sum of
the forecasted values for all of the cities in State A must be equal to the forecasted value for
State A". Each roll-up (the data summed per timestamp over the leaves below it) is fitted like any
series — ML.ARIMA_EVALUATE and ML.EXPLAIN_FORECAST's history show its own model — and its forecast
is the sum of its leaves' forecasts (bottom-up reconciliation; standard errors combined as if the
leaves' errors were independent). A roll-up whose leaves do not all end on its last timestamp keeps
its own forecast, since their steps would not line up.
"""

from __future__ import annotations

import pyarrow as pa

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.forecasting.series import SeriesColumns


def hierarchy_columns(options: dict, columns: SeriesColumns) -> list[str]:
    """The ``hierarchical_time_series_cols``, as the id columns spell them (empty when unset).

    Raises:
        InvalidOptionError: a column is not a time_series_id_col, or forecast limits are set
            (their transforms do not add up across a hierarchy).
    """
    names = options.get("hierarchical_time_series_cols") or []
    if not names:
        return []
    by_name = {name.lower(): name for name in columns.ids}
    unknown = [name for name in names if name.lower() not in by_name]
    if unknown:
        raise InvalidOptionError(
            f"hierarchical_time_series_cols names {unknown[0]}, which is not a time_series_id_col ({', '.join(columns.ids) or 'none'}).",
            option="hierarchical_time_series_cols",
            hint="List id columns only, top of the hierarchy first, and name them in time_series_id_col too.",
        )
    if options.get("forecast_limit_lower_bound") is not None or options.get("forecast_limit_upper_bound") is not None:
        raise InvalidOptionError(
            "hierarchical_time_series_cols cannot be combined with forecast_limit_lower_bound / forecast_limit_upper_bound in sqlml: "
            "forecasts kept inside limits do not add up across the hierarchy.",
            option="hierarchical_time_series_cols",
            hint="Drop the forecast limits, or the hierarchy.",
        )
    return [by_name[name.lower()] for name in names]


def add_rollups(table: pa.Table, columns: SeriesColumns, hierarchy: list[str]) -> pa.Table:
    """The training rows with every roll-up's rows appended: for each level, the data summed per
    timestamp over the hierarchy columns below it, which are NULL in those rows.

    Raises:
        InvalidModelInputError: a hierarchy column has NULLs (a leaf would pass for a roll-up).
    """
    for name in hierarchy:
        if table.column(name).null_count:
            raise InvalidModelInputError(
                f"The column {name} (hierarchical_time_series_cols) has NULL values; NULL marks the roll-ups of a hierarchy.",
                column=name,
                hint=f"Replace the NULLs of {name} in the training query (COALESCE) or filter those rows out.",
            )
    kept = [*columns.ids, columns.timestamp, columns.data]
    table = table.select(kept)
    parts = [table]
    for level in range(len(hierarchy) - 1, -1, -1):
        keys = [name for name in columns.ids if name not in hierarchy[level:]] + [columns.timestamp]
        summed = table.group_by(keys, use_threads=False).aggregate([(columns.data, "sum")])
        rows = {name: summed.column(name) if name in keys else pa.nulls(summed.num_rows, table.schema.field(name).type) for name in kept}
        rows[columns.data] = summed.column(f"{columns.data}_sum")
        parts.append(pa.table(rows).cast(table.schema))
    return pa.concat_tables(parts)


def leaves(ids: list[list], positions: list[int]) -> dict[int, list[int]]:
    """For each roll-up series (by index), the leaf series below it.

    Args:
        ids: each series' id values, in the spec's order.
        positions: the positions of the hierarchy columns among the id columns, top first.
    """
    leaf = [k for k, key in enumerate(ids) if all(key[p] is not None for p in positions)]
    below = {}
    for k, key in enumerate(ids):
        rolled = [p for p in positions if key[p] is None]
        if rolled:
            fixed = [p for p in range(len(key)) if p not in rolled]
            below[k] = [j for j in leaf if all(ids[j][p] == key[p] for p in fixed)]
    return below
