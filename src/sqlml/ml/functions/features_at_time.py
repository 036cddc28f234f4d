"""ML.FEATURES_AT_TIME and ML.ENTITY_FEATURES_AT_TIME: point-in-time feature lookups.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-feature-time —
``ML.FEATURES_AT_TIME({TABLE t | (query)} [, time => TIMESTAMP] [, num_rows => INT64]
[, ignore_feature_nulls => BOOL])``: the feature table (columns ``entity_id``, features,
``feature_timestamp``; names case-insensitive) cut off at ``time`` (rows with
``feature_timestamp`` at or before it; default CURRENT_TIMESTAMP), the ``num_rows`` (default 1)
latest rows of each entity, with ``feature_timestamp`` showing ``time``.
``ignore_feature_nulls`` (default FALSE) replaces a NULL feature with the entity's value from the row
that precedes it in time.
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-entity-feature-time —
``ML.ENTITY_FEATURES_AT_TIME(features, entity_times [, num_rows] [, ignore_feature_nulls])`` does the
same once per row of the entity time table (``entity_id``, ``time``), ``feature_timestamp`` showing
that row's ``time``; an entity time row without earlier features returns nothing.
"""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.columns import column_named
from sqlml.ml.functions.call import Call, function
from sqlml.ml.models.options import option_value

_ARGUMENTS = {"time": str, "num_rows": int, "ignore_feature_nulls": bool}


@function("FEATURES_AT_TIME")
def features_at_time(call: Call) -> pa.Table:
    """``ML.FEATURES_AT_TIME(features [, time => …] [, num_rows => …] [, ignore_feature_nulls => …])``."""
    import pandas as pd

    arguments = _named_arguments(call, _ARGUMENTS)
    features = call.data(0).table()
    time = pd.Timestamp(arguments["time"]) if "time" in arguments else pd.Timestamp.now(tz="UTC")
    time = time.tz_localize("UTC") if time.tzinfo is None else time
    frame = _feature_frame(call, features)
    rows = _latest(frame, time, arguments)
    return pa.Table.from_pandas(rows, schema=features.schema, preserve_index=False)


@function("ENTITY_FEATURES_AT_TIME")
def entity_features_at_time(call: Call) -> pa.Table:
    """``ML.ENTITY_FEATURES_AT_TIME(features, entity_times [, num_rows => …] [, ignore_feature_nulls => …])``."""
    import pandas as pd

    arguments = _named_arguments(call, {k: v for k, v in _ARGUMENTS.items() if k != "time"})
    features = call.data(0).table()
    frame = _feature_frame(call, features)
    entity_times = call.data(1).table().to_pandas()
    entity_column, time_column = _required_columns(call, list(entity_times.columns), ("entity_id", "time"), "entity time table")
    parts = [
        _latest(frame[frame[frame.attrs["entity"]] == entity], pd.Timestamp(time), arguments)
        for entity, time in zip(entity_times[entity_column], entity_times[time_column])
    ]
    rows = pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0]
    return pa.Table.from_pandas(rows, schema=features.schema, preserve_index=False)


def _named_arguments(call: Call, allowed: dict[str, type]) -> dict:
    values = {}
    for argument in call.node.other_arguments:
        if not isinstance(argument, exp.Kwarg):
            raise InvalidOptionError(f"Write the optional arguments of {call.name} by name: {', '.join(f'{k} => …' for k in allowed)}.")
        name = argument.this.name.lower()
        if name not in allowed:
            raise InvalidOptionError(f"{call.name} has no argument '{name}'.", option=name, hint=f"Arguments: {', '.join(allowed)}.")
        value = option_value(argument.expression, call.params)
        if not isinstance(value, allowed[name]) or (allowed[name] is int and isinstance(value, bool)):
            raise InvalidOptionError(f"The {call.name} argument '{name}' must be {allowed[name].__name__}; got {value!r}.", option=name)
        values[name] = value
    if values.get("num_rows", 1) < 1:
        raise InvalidOptionError(f"The {call.name} argument 'num_rows' must be at least 1; got {values['num_rows']}.", option="num_rows")
    return values


def _feature_frame(call: Call, features: pa.Table):
    frame = features.to_pandas()
    entity, timestamp = _required_columns(call, list(frame.columns), ("entity_id", "feature_timestamp"), "feature table")
    frame.attrs.update(entity=entity, timestamp=timestamp)
    return frame


def _required_columns(call: Call, columns: list[str], wanted: tuple[str, str], table: str) -> list[str]:
    """The columns ``wanted`` names (BigQuery's case-insensitive rule), in its order.

    Raises:
        InvalidModelInputError: the table lacks one of them.
    """
    found = [column_named(columns, name) for name in wanted]
    if None in found:
        raise InvalidModelInputError(f"The {table} of {call.name} needs the columns {' and '.join(wanted)}; it has {', '.join(columns)}.")
    return found


def _latest(frame, time, arguments: dict):
    """The ``num_rows`` latest rows of each entity at or before ``time``, stamped ``time``."""
    entity, timestamp = frame.attrs["entity"], frame.attrs["timestamp"]
    time = time.tz_localize("UTC") if time.tzinfo is None else time
    rows = frame[frame[timestamp] <= time].sort_values([entity, timestamp], kind="stable")
    if arguments.get("ignore_feature_nulls"):
        features = [c for c in rows.columns if c not in (entity, timestamp)]
        rows[features] = rows.groupby(entity, sort=False)[features].ffill()
    rows = rows.groupby(entity, sort=False).tail(arguments.get("num_rows", 1)).iloc[::-1]
    rows = rows.sort_values(entity, kind="stable").copy()
    rows[timestamp] = time
    rows.attrs.update(frame.attrs)
    return rows
