"""The OPTIONS of CREATE MODEL and ALTER MODEL, validated: the model type (a registered family's,
:mod:`sqlml.ml.models.catalog`), its options with BigQuery's defaults, ALTER MODEL's settings.

Each value is checked against its declaration (:mod:`sqlml.ml.models.options`); an unknown option,
one that belongs to another model type, or a value of the wrong type or out of range is an
:class:`~sqlml.errors.InvalidOptionError` naming the option and the fix.
"""

from __future__ import annotations

import difflib

from sqlml.errors import InvalidOptionError
from sqlml.ml.models.catalog import OPTIONS_BY_TYPE, all_option_names, canonical_name, model_types
from sqlml.ml.models.model_types import RENAMED, UNSUPPORTED
from sqlml.ml.models.option_groups import ALTER_OPTIONS
from sqlml.ml.models.options import ALIASES, check_value


def parse_model_type(raw: dict) -> str:
    """The ``model_type`` option, validated: the registered model type's name, upper-case.

    Raises:
        InvalidOptionError: missing, unknown or not supported by sqlml.
    """
    value = raw.get("model_type")
    valid = ", ".join(model_types())
    if value is None:
        raise InvalidOptionError(
            "CREATE MODEL needs OPTIONS(model_type='…').", option="model_type", hint=f"Valid model types: {valid}."
        )
    if not isinstance(value, str):
        raise InvalidOptionError(f"model_type must be a string. Got {value!r} instead.", option="model_type")
    name = RENAMED.get(value.upper(), value.upper())
    if name in UNSUPPORTED:
        raise InvalidOptionError(
            f"model_type='{value}' is not supported by sqlml: {UNSUPPORTED[name]}.",
            option="model_type",
            hint=f"Supported model types: {valid}.",
        )
    registered = canonical_name(name)
    if registered is None:
        guess = difflib.get_close_matches(name, model_types(), n=1)
        hint = f"Did you mean '{guess[0].lower()}'? " if guess else ""
        raise InvalidOptionError(
            f"Unknown model_type '{value}'.", option="model_type", hint=f"{hint}Valid model types: {valid}."
        )
    return registered


def resolve_options(model_type: str, raw: dict) -> dict:
    """Validate ``raw`` options for ``model_type`` and fill in BigQuery's defaults.

    Args:
        model_type: the validated model type.
        raw: lower-case option name → Python value (see :func:`option_value`).

    Returns:
        Every option of the model type, set or defaulted, plus ``model_type``.

    Raises:
        InvalidOptionError: an unknown, inapplicable, mistyped or out-of-range option.
    """
    table = OPTIONS_BY_TYPE[model_type]
    resolved = {name: option.default for name, option in table.items()}
    for name, value in _legacy_labels(raw, table).items():
        name = ALIASES.get(name, name)
        if name == "model_type":
            continue
        option = table.get(name)
        if option is None:
            raise _unknown_option(name, model_type, table, all_option_names())
        if value is None:  # BigQuery: an option set to NULL is ignored
            continue
        resolved[name] = check_value(option, value, model_type)
    resolved["model_type"] = str(model_type)
    return resolved


def _legacy_labels(raw: dict, table: dict) -> dict:
    """``labels=['col']``, the label option's spelling in older Google courses (Qwiklabs GSP229:
    ``OPTIONS(model_type='logistic_reg', labels=['will_buy_on_return_visit'])``), means
    ``input_label_cols=['col']``, as BigQuery still accepts it; ``labels`` as (key, value) pairs
    stays the model's resource labels."""
    labels = raw.get("labels")
    if "input_label_cols" not in table or not (isinstance(labels, list) and labels and all(isinstance(v, str) for v in labels)):
        return raw
    if raw.get("input_label_cols") not in (None, labels):
        raise InvalidOptionError(
            "labels=[…] (the older name of input_label_cols) and input_label_cols name different columns.",
            option="labels",
            hint="Keep input_label_cols only.",
        )
    return {**{k: v for k, v in raw.items() if k != "labels"}, "input_label_cols": labels}


def check_alter_options(raw: dict) -> dict:
    """Validate ``ALTER MODEL … SET OPTIONS(...)``: each option known and of its type.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-alter-model —
    a NULL value is kept as None (it clears the setting).

    Raises:
        InvalidOptionError: an unknown option, or a value of the wrong type or out of range.
    """
    checked = {}
    for name, value in raw.items():
        option = ALTER_OPTIONS.get(name)
        if option is None:
            raise InvalidOptionError(
                f"ALTER MODEL does not accept the option '{name}'.",
                option=name,
                hint=f"Valid options: {', '.join(sorted(ALTER_OPTIONS))}.",
            )
        checked[name] = None if value is None else check_value(option, value, None)
    return checked


def _unknown_option(name: str, model_type: str, table: dict, everywhere: dict) -> InvalidOptionError:
    valid = sorted(table)
    guess = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    suggestion = f"Did you mean '{guess[0]}'? " if guess else ""
    owners = everywhere.get(name)
    if owners:
        return InvalidOptionError(
            f"The option '{name}' does not apply to model_type='{model_type.lower()}'; "
            f"it applies to {', '.join(sorted(owners))}.",
            option=name,
            hint=f"{suggestion}Valid options for {model_type}: {', '.join(valid)}.",
        )
    return InvalidOptionError(
        f"Unknown option '{name}' for CREATE MODEL (model_type='{model_type.lower()}').",
        option=name,
        hint=f"{suggestion}Valid options: {', '.join(valid)}.",
    )
