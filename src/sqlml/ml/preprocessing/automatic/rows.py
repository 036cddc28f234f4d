"""A few rows given as Python values to a model's feature matrix: a served request's instances,
without an Arrow batch.

:meth:`Preprocessor.transform` reads Arrow columns; a served request has a row or a few of JSON
values, already checked against the columns' training types (:mod:`sqlml.serve.inputs`), and
building Arrow arrays for them costs more than scoring them. :class:`RowEncoding`, worked out once
per model, sends each column's Python values through the preprocessor's own encoders:

* FLOAT64 and INT64 columns of plain numeric encoders become one float64 block (NULL as NaN) that
  :meth:`NumericEncoder.encode_block` imputes and scales, as :meth:`Preprocessor.transform` does
  for a small batch;
* STRING and BOOL columns of categorical encoders are looked up by
  :meth:`CategoricalEncoder.value_codes` and written by :meth:`CategoricalEncoder.transform_codes`,
  the steps of their ``transform``;
* any other column (a date, a timestamp, an array, NUMERIC) becomes a one-column Arrow array for
  its encoder's ``transform``.

The matrix is the one :meth:`Preprocessor.transform` gives for the same rows as a batch of the
training types (tests/serve compares served rows with ML.PREDICT's). A value ``transform`` would
refuse (an INT64 beyond 2**53, which float64 does not hold exactly) gives None: the caller then
goes through ``transform``, which says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.ml.preprocessing.automatic.encoders import CONVERSION_ERRORS, CategoricalEncoder, ColumnEncoder, NumericEncoder

#: Integers float64 holds exactly; Arrow refuses to cast larger ones, and so does ``transform``.
EXACT_DOUBLE = 2**53


@dataclass(frozen=True, eq=False)
class RowEncoding:
    """How rows of Python values (one list per row, in the preprocessor's column order) become
    the feature matrix.

    Attributes:
        encoders: the model's fitted encoders, one per column (its preprocessor's).
        types: each column's training type.
        starts: the first feature of each column's block, and the width at the end.
        numeric: the FLOAT64/INT64 columns of plain numeric encoders, encoded together.
        integers: those of them that are INT64 (checked to fit float64 exactly).
        categorical: (column, is BOOL) of the STRING/BOOL columns of categorical encoders.
        others: the columns encoded through a one-column Arrow array.
    """

    encoders: tuple[ColumnEncoder, ...]
    types: tuple[pa.DataType, ...]
    starts: tuple[int, ...]
    numeric: tuple[int, ...]
    integers: tuple[int, ...]
    categorical: tuple[tuple[int, bool], ...]
    others: tuple[int, ...]

    @staticmethod
    def of(encoders: list[ColumnEncoder], types: list[pa.DataType]) -> RowEncoding:
        """The encoding of rows whose columns have ``types`` (the training types, in column order)."""
        numeric, categorical, others = [], [], []
        for index, (encoder, arrow_type) in enumerate(zip(encoders, types)):
            if type(encoder) is NumericEncoder and (pa.types.is_float64(arrow_type) or pa.types.is_int64(arrow_type)):
                numeric.append(index)
            elif type(encoder) is CategoricalEncoder and (pa.types.is_string(arrow_type) or pa.types.is_boolean(arrow_type)):
                categorical.append((index, pa.types.is_boolean(arrow_type)))
            else:
                others.append(index)
        integers = tuple(i for i in numeric if pa.types.is_int64(types[i]))
        starts = tuple(int(start) for start in np.cumsum([0, *(len(encoder.feature_names) for encoder in encoders)]))
        return RowEncoding(tuple(encoders), tuple(types), starts, tuple(numeric), integers, tuple(categorical), tuple(others))

    def features(self, rows: list[list]) -> np.ndarray | None:
        """The dense feature matrix of ``rows`` (values of the columns' types, None for NULL);
        None when ``transform`` would refuse a value (it then names the column)."""
        encoders, starts = self.encoders, self.starts
        out = np.empty((len(rows), starts[-1]), dtype=np.float64, order="F")  # transform's layout
        if self.integers and any(
            row[i] is not None and not -EXACT_DOUBLE <= row[i] <= EXACT_DOUBLE for row in rows for i in self.integers
        ):
            return None
        if self.numeric:
            block = np.array([[row[i] for i in self.numeric] for row in rows], dtype=np.float64)  # None → NaN
            out[:, [starts[i] for i in self.numeric]] = NumericEncoder.encode_block([encoders[i] for i in self.numeric], block)
        for index, boolean in self.categorical:
            encoder = encoders[index]
            encoder.transform_codes(encoder.value_codes([row[index] for row in rows], boolean), out[:, starts[index] : starts[index + 1]])
        try:
            for index in self.others:
                values = pa.array([row[index] for row in rows], self.types[index])
                encoders[index].transform(values, out[:, starts[index] : starts[index + 1]])
        except CONVERSION_ERRORS:
            return None
        return out
