"""ML.PREDICT's output rows of a served regressor or classifier, as JSON-ready dicts straight from
the model's raw outputs.

ML.PREDICT builds its output columns as Arrow arrays (the family's ``prediction_columns``), which
the server then turns into dicts: for one row, four Arrow constructors and a conversion back cost
more than scoring it. :class:`RowOutputs` writes the same dicts from the raw outputs with
:func:`~sqlml.ml.models.prediction_columns.predicted_class_index` (the rule ML.PREDICT applies),
the model's classes and the output schema's names. It is made only after it gave, on probe rows
exercising each class, a tie and the threshold's edge, exactly the rows of the family's own
columns (:meth:`RowOutputs.of`); any other model, or one whose columns differ, is answered from
the Arrow columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model
from sqlml.ml.models.prediction_columns import predicted_class_index


@dataclass(frozen=True)
class RowOutputs:
    """The output rows of a regressor (``classes`` None) or classifier.

    Attributes:
        predicted: ``predicted_<label>``.
        probs: ``predicted_<label>_probs`` and its entries' two field names (classifiers).
        classes: the classes in index order, as Python values.
    """

    predicted: str
    probs: tuple[str, str, str] | None = None
    classes: tuple | None = None

    @staticmethod
    def of(model: Model, schema: pa.Schema) -> RowOutputs | None:
        """The rows of ``model``'s outputs (``schema``: its ML.PREDICT output columns), or None
        when the model is neither regressor nor classifier or the rows differ from the family's."""
        if model.target is Target.REGRESSION and len(schema) == 1:
            candidate = RowOutputs(schema[0].name)
            probe = np.array([0.0, -1.5, 1e300, 5e-324, 2.0 / 3.0])
        elif model.target is Target.CLASSIFICATION and len(schema) == 2 and pa.types.is_list(schema[1].type):
            entry = schema[1].type.value_type
            classes = tuple(model.classes().to_pylist())
            candidate = RowOutputs(schema[0].name, (schema[1].name, entry[0].name, entry[1].name), classes)
            probe = _class_probe(len(classes))
        else:
            return None
        columns = model.family.prediction_columns(model, probe, None)
        expected = pa.RecordBatch.from_arrays(columns, schema=schema).to_pylist()
        return candidate if candidate.rows(probe) == expected else None

    def rows(self, raw: np.ndarray) -> list[dict]:
        """The output rows of the raw outputs ``raw`` (values, or class probabilities by row)."""
        if self.classes is None:
            return [{self.predicted: value} for value in raw.tolist()]
        classes, (probs, label, prob) = self.classes, self.probs
        order = range(len(classes) - 1, -1, -1)  # higher label first, as ML.PREDICT's entries
        return [
            {self.predicted: classes[index], probs: [{label: classes[k], prob: row[k]} for k in order]}
            for index, row in zip(predicted_class_index(raw, None).tolist(), raw.tolist())
        ]  # fmt: skip


def _class_probe(k: int) -> np.ndarray:
    """Probability rows: each class certain, all tied, and (binary) both sides of 0.5."""
    rows = [*np.eye(k), np.full(k, 1.0 / k)]
    if k == 2:
        rows += [[0.5, 0.5], [0.5 - 1e-16, 0.5 + 1e-16], [0.3, 0.7], [0.7, 0.3]]
    else:
        rows += list(np.random.default_rng(0).dirichlet(np.ones(k), 4))
    return np.array(rows, dtype=np.float64)
