"""What every manual preprocessing function is built from: the :class:`Function` record, its
constant arguments, the number and text casts, and the vocabulary of the encoders.

https://cloud.google.com/bigquery/docs/manual-preprocessing
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from sqlml.errors import InvalidOptionError
from sqlml.ml.preprocessing.manual.constant_arguments import constant
from sqlml.sql.templates import build, literal

# A vocabulary: values with count >= T, the K most frequent (ties: alphabetically first), sorted
# alphabetically with indices from 1 — the doc's LABEL_ENCODER(…, 2, 2) example gives b=1, c=2.
# Its entries {k: value, n: count} in that order; VOCABULARY keeps the values.
VOCABULARY_ENTRIES = (
    "list_sort(list_transform(list_slice(list_sort(list_transform(list_filter(map_entries(__p_counts), "
    "lambda __le: __le.value >= __p_threshold), lambda __le: {'c': -CAST(__le.value AS BIGINT), 'k': __le.key})), 1, __p_top_k), "
    "lambda __le: {'k': __le.k, 'n': -__le.c}))"
)
VOCABULARY = "list_transform(__p_entries, lambda __le: __le.k)"
TEXT = "CAST(__p_x AS VARCHAR)"
# BigQuery ML's medians and quantiles are values of the column (APPROX_QUANTILES), never averages of
# two: ML.ROBUST_SCALER's doc example scales [-3, 1, 2, 3, 4, 5] by median 2 and q75 - q25 = 4 - 1
# (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-robust-scaler),
# ML.QUANTILE_BUCKETIZE splits [1..5] into 3 buckets at 2 and 4. DuckDB's quantile_disc gives both.
QUANTILE = "quantile_disc(__p_v, __p_q)"
NUMBER = "CAST(__p_x AS DOUBLE)"


@dataclass(frozen=True)
class Function:
    """One ML.* preprocessing function.

    Attributes:
        name: the name after ``ML.``.
        arity: (fewest, most) arguments.
        statistics: ``statistics(args) -> [aggregate expressions]`` (analytic functions only).
        output: ``output(args, statistics) -> expression``.
    """

    name: str
    arity: tuple[int, int]
    output: Callable[[list, list], exp.Expression]
    statistics: Callable[[list], list] | None = None

    @property
    def analytic(self) -> bool:
        """Needs ``OVER ()`` and statistics over all rows."""
        return self.statistics is not None


def optional_argument(args: list[exp.Expression], index: int, default: Any, what: str) -> Any:
    """The constant value of the ``index``-th argument, or ``default`` when the call leaves it out."""
    return constant(args[index], what) if len(args) > index else default


def vocabulary_of(counts: exp.Expression, args: list[exp.Expression], top_k_at: int, name: str) -> exp.Expression:
    """The vocabulary (values, sorted) for a MAP of value counts, under the call's ``top_k`` and
    ``frequency_threshold`` arguments (see :func:`vocabulary_entries`)."""
    return build(VOCABULARY, entries=vocabulary_entries(counts, args, top_k_at, name))


def vocabulary_entries(counts: exp.Expression, args: list[exp.Expression], top_k_at: int, name: str) -> exp.Expression:
    """The vocabulary's ``{k: value, n: count}`` entries (see VOCABULARY_ENTRIES) for a MAP of
    value counts, under the call's ``top_k`` and ``frequency_threshold`` arguments."""
    top_k = optional_argument(args, top_k_at, 32000, f"top_k of ML.{name}")
    threshold = optional_argument(args, top_k_at + 1, 5, f"frequency_threshold of ML.{name}")
    if not isinstance(top_k, int) or top_k < 1 or not isinstance(threshold, int) or threshold < 0:
        raise InvalidOptionError(f"ML.{name} needs an integer top_k ≥ 1 and frequency_threshold ≥ 0.")
    return build(VOCABULARY_ENTRIES, counts=counts, top_k=literal(top_k), threshold=literal(threshold))


def as_text(x: exp.Expression) -> exp.Expression:
    """``x`` cast to VARCHAR (categories are compared as text)."""
    return build(TEXT, x=x)


def as_number(x: exp.Expression) -> exp.Expression:
    """``x`` cast to DOUBLE."""
    return build(NUMBER, x=x)
