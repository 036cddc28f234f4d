"""CREATE MODEL and ALTER MODEL options as data: their kinds, declarations, values and checks.

Every option of a model type is declared once, as data (each family's option table), with its
BigQuery type, default and valid range — the way scikit-learn declares ``_parameter_constraints``;
:func:`check_value` converts a value read from SQL (:func:`option_value`) or names what is wrong
with it. :mod:`sqlml.ml.models.statement_options` resolves a statement's options with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlglot import exp

from sqlml.errors import InvalidOptionError
from sqlml.sql.constants import NotConstant, constant_value


class Kind(str, Enum):
    """The value type of an option."""

    INT = "an integer"
    FLOAT = "a float"
    BOOL = "a boolean"
    STRING = "a string"
    ENUM = "one of"
    STRING_ARRAY = "an array of strings"
    STRING_OR_ARRAY = "a string or an array of strings"
    CLASS_WEIGHTS = "an array of (label, weight) pairs"
    LABELS = "an array of (key, value) string pairs"
    TIMESTAMP = "a TIMESTAMP"
    INT_TUPLE = "a tuple of integers"
    #: hidden_units = [128, 64]; a tuning candidate is written STRUCT([128, 64])
    INT_ARRAY = "an array of integers"
    #: wide & deep learn_rate: 0.01 or [STRUCT('dnn', 0.01), STRUCT('linear', 0.1)]
    FLOAT_OR_PAIRS = "a float or an array of (part, float) pairs"
    #: wide & deep optimizer: 'ADAM' or [STRUCT('dnn', 'ADAM'), STRUCT('linear', 'FTRL')]
    ENUM_OR_PAIRS = "an array of (part, name) pairs or one of"
    #: AutoML's optimization_objective: 'MINIMIZE_RMSE' or STRUCT('MAXIMIZE_PRECISION_AT_RECALL', 0.3)
    STRING_OR_STRUCT = "a string or a STRUCT(string, float)"


@dataclass(frozen=True)
class Option:
    """One CREATE MODEL option.

    Attributes:
        name: lower-case name.
        kind: value type.
        default: BigQuery's default (None: unset).
        choices: allowed values of an ENUM, upper-case.
        low, high: the valid range of a number; ``low_open``/``high_open`` exclude the bound.
        search: for tunable options, ``(low, high, scale)`` of the default search space, with
            scale ``LINEAR`` or ``LOG``; ``()`` for categorical ones tuned over ``choices``.
    """

    name: str
    kind: Kind
    default: object = None
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    search: tuple | None = None

    @property
    def tunable(self) -> bool:
        """Whether HPARAM_RANGE / HPARAM_CANDIDATES may be given for it."""
        return self.search is not None

    def describe(self) -> str:
        """The expected type and range, e.g. ``a float in the range [0.0, inf)``."""
        if self.kind in (Kind.ENUM, Kind.ENUM_OR_PAIRS):
            return self.kind.value + " " + ", ".join(f"'{c}'" for c in self.choices)
        if self.low is None and self.high is None:
            return self.kind.value
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"{self.kind.value} in the range {left}{low}, {high}{right}"

    def contains(self, value: float) -> bool:
        """Whether a number lies in the valid range."""
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True


@dataclass(frozen=True)
class HparamRange:
    """``HPARAM_RANGE(min, max)``: a continuous search space."""

    low: float
    high: float


@dataclass(frozen=True)
class HparamCandidates:
    """``HPARAM_CANDIDATES([v1, v2, …])``: a discrete search space."""

    values: tuple


def _number(value: float) -> str:
    return str(float(value)) if isinstance(value, float) or value != int(value) else f"{value}"


#: Accepted spellings that BigQuery's own samples use for a documented option.
ALIASES = {"max_iteration": "max_iterations"}


def check_value(option: Option, value: object, model_type: str | None) -> object:
    """``value`` converted to the option's type, or an :class:`InvalidOptionError`.

    Args:
        option: the option's declaration.
        value: the Python value read from SQL (see :func:`option_value`).
        model_type: the model type of a CREATE MODEL, or None for ALTER MODEL (whose options do
            not depend on it and cannot be tuned).
    """
    if isinstance(value, (HparamRange, HparamCandidates)):
        if not option.tunable:
            if model_type is None:  # ALTER MODEL: a search space is just a value of the wrong type
                raise _bad_value(option, value, model_type)
            raise _bad_value(option, value, model_type, "cannot be tuned (no HPARAM_RANGE / HPARAM_CANDIDATES)")
        return _check_space(option, value, model_type)
    converted = _convert(option, value)
    if converted is _INVALID:
        raise _bad_value(option, value, model_type)
    if isinstance(converted, (int, float)) and not isinstance(converted, bool) and not option.contains(converted):
        raise _bad_value(option, value, model_type)
    return converted


_INVALID = object()


def _convert(option: Option, value):
    kind = option.kind
    if kind is Kind.INT:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return _INVALID
        return int(value)
    if kind is Kind.FLOAT:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _INVALID
    if kind is Kind.BOOL:
        return value if isinstance(value, bool) else _INVALID
    if kind in (Kind.STRING, Kind.TIMESTAMP):  # a TIMESTAMP literal is read as its text
        return value if isinstance(value, str) else _INVALID
    if kind is Kind.ENUM:
        return value.upper() if isinstance(value, str) and value.upper() in option.choices else _INVALID
    if kind is Kind.STRING_ARRAY:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return list(value) if ok else _INVALID
    if kind is Kind.STRING_OR_ARRAY:
        if isinstance(value, str):
            return [value]
        return list(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else _INVALID
    if kind is Kind.INT_TUPLE:  # e.g. non_seasonal_order = (1, 1, 1)
        ok = isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        return tuple(value) if ok else _INVALID
    if kind in (Kind.CLASS_WEIGHTS, Kind.LABELS):
        return _pairs(value, numeric_second=kind is Kind.CLASS_WEIGHTS)
    if kind is Kind.INT_ARRAY:
        value = value[0] if isinstance(value, tuple) and len(value) == 1 else value  # STRUCT([8, 16])
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        return tuple(value) if ok else _INVALID  # a tuple: tuning candidates must be hashable
    if kind is Kind.FLOAT_OR_PAIRS:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _pairs(value, True)
    if kind is Kind.STRING_OR_STRUCT:
        if isinstance(value, str):
            return value
        ok = isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
        return (value[0], float(value[1])) if ok and _is_number(value[1]) else _INVALID
    if kind is Kind.ENUM_OR_PAIRS:
        if isinstance(value, str):
            return value.upper() if value.upper() in option.choices else _INVALID
        pairs = _pairs(value, numeric_second=False)
        ok = pairs is not _INVALID and all(name.upper() in option.choices for _, name in pairs)
        return [(part, name.upper()) for part, name in pairs] if ok else _INVALID
    return _INVALID


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _pairs(value, numeric_second: bool):
    if not isinstance(value, list):
        return _INVALID
    pairs = []
    for item in value:
        if not (isinstance(item, tuple) and len(item) == 2):
            return _INVALID
        key, second = item
        if numeric_second and (isinstance(second, bool) or not isinstance(second, (int, float))):
            return _INVALID
        if not numeric_second and not isinstance(second, str):
            return _INVALID
        pairs.append((str(key) if not isinstance(key, str) else key, float(second) if numeric_second else second))
    return pairs


def _check_space(option: Option, space, model_type: str):
    if isinstance(space, HparamRange):
        if option.kind not in (Kind.INT, Kind.FLOAT):
            raise _bad_value(option, space, model_type, "takes HPARAM_CANDIDATES, not HPARAM_RANGE")
        if not (space.low < space.high):
            raise _bad_value(option, space, model_type, "needs HPARAM_RANGE(min, max) with min < max")
        for bound in (space.low, space.high):
            if not option.contains(bound) and not (bound == 0 and option.low == 0 and option.low_open):
                raise _bad_value(option, space, model_type)
        return space
    values = tuple(check_value(option, v, model_type) for v in space.values)
    if not values:
        raise _bad_value(option, space, model_type, "needs at least one candidate")
    return HparamCandidates(values)


def _bad_value(option: Option, value, model_type: str | None, reason: str | None = None) -> InvalidOptionError:
    shown = _show(value)
    what = f"must be {option.describe()}" if reason is None else reason
    statement = "ALTER MODEL" if model_type is None else f"CREATE MODEL (model_type='{model_type.lower()}')"
    return InvalidOptionError(
        f"The '{option.name}' option of {statement} {what}. Got {shown} instead.",
        option=option.name,
    )


def _show(value) -> str:
    if isinstance(value, HparamRange):
        return f"HPARAM_RANGE({_number(value.low)}, {_number(value.high)})"
    if isinstance(value, HparamCandidates):
        return f"HPARAM_CANDIDATES({list(value.values)!r})"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float) and value.is_integer():
        return _number(value)
    return repr(value)


def option_value(node: exp.Expression, params: dict | None = None) -> object:
    """The Python value of an option's SQL expression: a constant (:func:`sqlml.sql.constants.constant_value`)
    or ``HPARAM_RANGE(…)``/``HPARAM_CANDIDATES(…)``.

    Raises:
        InvalidOptionError: the expression is not a constant sqlml can read.
    """
    try:
        return constant_value(node, params, other=lambda part: _hparam(part, params or {}))
    except NotConstant as error:
        raise InvalidOptionError(
            f"Cannot read the option value {error.node.sql(dialect='bigquery')}: option values must be constants.",
            hint="Write a literal (number, string, TRUE/FALSE, [array]) or a query parameter.",
        ) from None


def _hparam(node: exp.Expression, params: dict):
    if not (isinstance(node, exp.Anonymous) and node.name.upper() in ("HPARAM_RANGE", "HPARAM_CANDIDATES")):
        raise NotConstant(node)
    name = node.name.upper()
    args = [option_value(a, params) for a in node.expressions]
    if name == "HPARAM_RANGE":
        if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
            raise InvalidOptionError("HPARAM_RANGE takes two numbers: HPARAM_RANGE(min, max).")
        return HparamRange(float(args[0]), float(args[1]))
    if len(args) != 1 or not isinstance(args[0], list):
        raise InvalidOptionError("HPARAM_CANDIDATES takes one array: HPARAM_CANDIDATES([v1, v2, …]).")
    return HparamCandidates(tuple(args[0]))
