"""Parse ``--param`` values: ``name=value`` (type inferred) or ``name:TYPE=value`` (as ``bq --parameter``)."""

from __future__ import annotations

import datetime
import decimal

import click

_TYPES = {
    "INT64": int,
    "INTEGER": int,
    "FLOAT64": float,
    "FLOAT": float,
    "NUMERIC": decimal.Decimal,
    "BIGNUMERIC": decimal.Decimal,
    "BOOL": lambda text: _parse_bool(text),
    "BOOLEAN": lambda text: _parse_bool(text),
    "STRING": str,
    "DATE": datetime.date.fromisoformat,
    "DATETIME": datetime.datetime.fromisoformat,
    "TIMESTAMP": datetime.datetime.fromisoformat,
}


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{text!r} is not TRUE or FALSE")
    return lowered == "true"


def infer(text: str):
    """The value of an untyped parameter: an integer, a float, a boolean, NULL, else a string."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.upper() == "NULL":
        return None
    return text


def parse_param(spec: str) -> tuple[str, object]:
    """``name=value`` or ``name:TYPE=value`` → ``(name, value)``."""
    name, sep, text = spec.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{spec!r}: write name=value or name:TYPE=value.", param_hint="--param")
    name, _, type_name = name.partition(":")
    if not type_name:
        return name.lstrip("@"), infer(text)
    cast = _TYPES.get(type_name.upper())
    if cast is None:
        raise click.BadParameter(f"Unknown type {type_name!r}; use one of {', '.join(_TYPES)}.", param_hint="--param")
    try:
        return name.lstrip("@"), cast(text)
    except (ValueError, decimal.InvalidOperation) as error:
        raise click.BadParameter(f"{spec!r}: {error}", param_hint="--param") from None
