"""The imported family: ONNX, LIGHTGBM and XGBOOST models created from files, not trained.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-onnx —
``CREATE MODEL m OPTIONS(model_type='ONNX', model_path='…')`` takes no training query; ML.PREDICT
returns the file's own outputs (:mod:`sqlml.ml.models.imported_files`); EXPORT MODEL copies the
file as it is. XGBOOST models (:mod:`sqlml.ml.models.xgboost_file`) also answer
ML.FEATURE_IMPORTANCE, as on BigQuery:
https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-xgboost
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlml.ml.models.base import ImportedModel, ModelFamily, Source, Target
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.option_groups import COMMON, option, table
from sqlml.ml.models.options import Kind

if TYPE_CHECKING:
    import pyarrow as pa

    from sqlml.ml.models.model import Model
    from sqlml.ml.models.options import Option

IMPORTED_OPTIONS = [option("model_path", Kind.STRING)]
#: model_type → the format of its file.
FILE_FORMATS = {ModelType.ONNX: "onnx", ModelType.LIGHTGBM: "lightgbm", ModelType.XGBOOST: "xgboost"}


class ImportedFamily(ModelFamily):
    """ONNX, LIGHTGBM and XGBOOST."""

    name = "imported"
    model_types = (ModelType.ONNX, ModelType.LIGHTGBM, ModelType.XGBOOST)
    source = Source.FILE

    def target(self, model_type: str) -> Target:
        """Whatever the file computes."""
        return Target.IMPORTED

    def functions(self, model_type: str) -> frozenset[str]:
        """PREDICT, and FEATURE_IMPORTANCE for XGBOOST."""
        return frozenset({"PREDICT", "FEATURE_IMPORTANCE"} if model_type == ModelType.XGBOOST else {"PREDICT"})

    def option_table(self, model_type: str) -> dict[str, Option]:
        """Common options and ``model_path``."""
        return table(COMMON, IMPORTED_OPTIONS)

    def read_file(self, model_type: str, options: dict) -> ImportedModel:
        """The description of the file at ``model_path``, and its content to keep."""
        from sqlml.ml.models.imported_files import import_model

        return import_model(model_type, options, FILE_FORMATS[model_type])

    def outputs_reader(self, model: Model, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """The file's outputs, then the input columns."""
        from sqlml.ml.models.imported_files import imported_reader

        return imported_reader(model, reader)
