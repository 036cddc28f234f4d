"""Automatic preprocessing as SQL: a fitted preprocessor's encoders as DuckDB expressions over the
input columns, so that a model's features are computed by the SQL engine instead of NumPy.

https://cloud.google.com/bigquery/docs/auto-preprocessing — what is written here replays exactly
what :mod:`sqlml.ml.preprocessing.automatic.encoders` computes:

* a numeric column: NULL (and NaN) become the training mean, then, where the model standardizes,
  ``(x - mean) / std``, with the same operations in the same order as NumPy;
* a STRING, BOOL, DATE or DATETIME column, one-hot or dummy encoded: its category text
  (``true``/``false`` for BOOL, ISO text for the dates, ``_null_filler`` for NULL), compared with
  the categories that have a feature; a category unseen in training has none (an all-zero block).

Any other encoder (TIMESTAMP with its calendar parts, TIME, BYTES, ARRAY, label or target
encoding), an input type that prediction would convert first (a STRING column for a numeric
feature) or a one-hot block wider than :data:`MAX_CATEGORIES` has no SQL form here: the caller
then keeps the Python path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from sqlml.ml.preprocessing.automatic.encoders import NULL_CATEGORY, CategoricalEncoder, NumericEncoder
from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor, is_numeric_type

_STRINGS = ("string", "large_string")
#: A category's weight is found by a CASE with one WHEN per category, which DuckDB tries in turn:
#: over 1M rows on 2 busy cores, 20 categories scored 2.1M rows/s, 256 only 0.19M (list_position
#: 0.29M) while the Python path's hashed lookup stays near 1M. A block up to this wide is a CASE;
#: a wider one looks its weight up in a constant MAP (sum of one block's weights over 0.5M rows,
#: load 15 on 2 cores: 32 categories CASE 3.1M rows/s, MAP 2.4M; 64: 1.3M, 1.8M; 256: 0.40M,
#: 1.42M; 1,000: 0.12M, 0.51M).
CASE_CATEGORIES = 64
#: Blocks wider than this keep the Python path (the MAP lookup slows as it grows, below the
#: Python path's rate from about 500 categories).
MAX_CATEGORIES = 384
_DOUBLE = exp.DataType.build("DOUBLE")
#: DATE and DATETIME categories: Arrow names them ``2024-01-02`` and ``2024-01-02 03:04:05.000000``
#: (:func:`~sqlml.ml.preprocessing.automatic.encoders.as_categories`); DuckDB writes the same text
#: with CAST (DATE) or this strftime format (TIMESTAMP, microseconds), for years 1–9999 — the
#: categories' form that is checked (Arrow type → (strftime format or None for CAST, the text's pattern)).
_TEMPORAL_TEXT = {
    "date32[day]": (None, r"\d{4}-\d{2}-\d{2}"),
    "timestamp[us]": ("%Y-%m-%d %H:%M:%S.%f", r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}"),
}


@dataclass(frozen=True)
class NumericFeature:
    """One processed feature's value (a column of the feature matrix)."""

    value: exp.Expression


@dataclass(frozen=True)
class OneHotFeatures:
    """A one-hot block: the row's category text and the categories that have a feature, in the
    block's order (a row whose category is not listed has only zeros)."""

    category: exp.Expression
    categories: list[str]


#: The SQL form of one encoder's block of the feature matrix.
SqlEncoding = NumericFeature | OneHotFeatures


def sql_encodings(preprocessor: Preprocessor, columns: Mapping[str, tuple[exp.Expression, pa.DataType]]) -> list[SqlEncoding] | None:
    """One :data:`SqlEncoding` per encoder of ``preprocessor``, in feature order; None when one of
    them has no exact SQL form.

    Args:
        preprocessor: the model's fitted automatic preprocessing.
        columns: lower-case input column name → (an expression reading it, its Arrow type).
    """
    encodings = []
    for column, encoder in zip(preprocessor.columns, preprocessor.encoders):
        found = columns.get(column.name.lower())
        encoding = _encoding(encoder, column.arrow_type, *found) if found is not None else None
        if encoding is None:
            return None
        encodings.append(encoding)
    return encodings


def _encoding(encoder: object, trained: str, value: exp.Expression, arrow_type: pa.DataType) -> SqlEncoding | None:
    if type(encoder) is NumericEncoder and (is_numeric_type(arrow_type) or pa.types.is_null(arrow_type)):
        return NumericFeature(numeric_value(encoder, value, arrow_type))
    if type(encoder) is CategoricalEncoder and encoder.method in ("one_hot", "dummy") and len(encoder.columns) <= MAX_CATEGORIES:
        temporal = _TEMPORAL_TEXT.get(trained)
        if temporal is not None and not all(c == NULL_CATEGORY or re.fullmatch(temporal[1], c) for c in encoder.columns):
            return None  # a category outside years 1–9999, which Arrow and DuckDB write differently
        category = category_text(trained, value, arrow_type, NULL_CATEGORY in encoder.columns)
        return None if category is None else OneHotFeatures(category, list(encoder.columns))
    return None


def numeric_value(encoder: NumericEncoder, value: exp.Expression, arrow_type: pa.DataType) -> exp.Expression:
    """``value`` as DOUBLE, NULL and NaN imputed with the training mean, standardized if the encoder does."""
    as_double = exp.Cast(this=value.copy(), to=_DOUBLE.copy())
    if pa.types.is_floating(arrow_type):  # only floating columns hold NaN, which counts as missing
        as_double = exp.Nullif(this=as_double, expression=number(float("nan")))
    imputed = exp.Coalesce(this=as_double, expressions=[number(encoder.mean)])
    if not encoder.standardize:
        return imputed
    centred = exp.Paren(this=exp.Sub(this=imputed, expression=number(encoder.mean)))
    return exp.Paren(this=exp.Div(this=centred, expression=number(encoder.std)))


def number(value: float) -> exp.Expression:
    """A DOUBLE literal that reads back as exactly ``value``: its shortest round-trip text with an
    exponent (``0.5e0``), which DuckDB reads as a DOUBLE (correctly rounded) where a plain ``0.5``
    would be a DECIMAL; written verbatim (:class:`sqlglot.exp.Var`), a negative one in parentheses.
    DuckDB binds these faster than ``CAST('0.5' AS DOUBLE)`` (a one-row prediction query: 28 ms
    against 36 ms, load 14). NaN and infinities stay casts of their text."""
    value = float(value)
    if not math.isfinite(value):
        return exp.Cast(this=exp.Literal.string(repr(value)), to=_DOUBLE.copy())
    text = repr(value) if "e" in repr(value) else f"{value!r}e0"
    return exp.Var(this=f"({text})" if text.startswith("-") else text)


def category_text(trained: str, value: exp.Expression, arrow_type: pa.DataType, null_category: bool = True) -> exp.Expression | None:
    """The category text of a STRING, BOOL, DATE or DATETIME column as the encoder names it, or
    None for a column prediction would cast first (another type than the training one).

    Args:
        trained: the column's Arrow type in training.
        value: the column.
        arrow_type: its Arrow type now.
        null_category: NULL's category (``_null_filler``) has a feature; without one, NULL may stay
            NULL, which matches no category either.
    """
    if pa.types.is_null(arrow_type):
        return exp.Literal.string(NULL_CATEGORY)
    if trained in _STRINGS and str(arrow_type) in _STRINGS:
        text = value.copy()
    elif trained == "bool" and pa.types.is_boolean(arrow_type):
        text = exp.Cast(this=value.copy(), to=exp.DataType.build("VARCHAR"))  # DuckDB writes true / false
    elif trained in _TEMPORAL_TEXT and str(arrow_type) == trained:
        form = _TEMPORAL_TEXT[trained][0]
        as_text = exp.Cast(this=value.copy(), to=exp.DataType.build("VARCHAR"))
        text = as_text if form is None else exp.Anonymous(this="strftime", expressions=[value.copy(), exp.Literal.string(form)])
    else:
        return None
    return exp.Coalesce(this=text, expressions=[exp.Literal.string(NULL_CATEGORY)]) if null_category else text
