"""Models created from files: ``CREATE MODEL m OPTIONS(model_type='ONNX'|'LIGHTGBM'|'XGBOOST', model_path='…')``.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-onnx —
the file is copied into the model store (so later changes to it do not change the model) and
checksummed like any model file. ML.PREDICT matches the model's inputs to columns by name and
returns the model's own outputs first: for ONNX the graph's output names (an ``[N, K]`` tensor
becomes ARRAY<FLOAT64>), for LightGBM ``predicted_label`` (an array for multiclass boosters); XGBoost
files are read and scored by :mod:`sqlml.ml.models.xgboost_file`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.errors import CorruptModelError, InvalidModelInputError, InvalidOptionError, ModelError
from sqlml.ml.columns import column_named
from sqlml.ml.models import xgboost_file
from sqlml.ml.models.base import ImportedModel
from sqlml.sql.uris import local_path_of

if TYPE_CHECKING:
    from sqlml.ml.models.model import Model

ONNX_FILE = "model.onnx"
LIGHTGBM_FILE = "booster.txt"
_sessions: dict[int, object] = {}
_lock = threading.Lock()


def import_model(model_type: str, options: dict, file_format: str) -> ImportedModel:
    """Read the file named by ``model_path`` and describe its inputs and outputs.

    Args:
        model_type: the model's type, for messages and its description.
        options: the resolved options (``model_path``; ``_input``/``_output``: the statement's
            INPUT/OUTPUT clauses, which only XGBOOST takes).
        file_format: ``onnx``, ``lightgbm`` or ``xgboost``.
    """
    raw_path = options.get("model_path")
    if not raw_path:
        raise InvalidOptionError(f"model_type='{model_type}' needs model_path='…'.", option="model_path")
    local = local_path_of(raw_path)
    if local is None:
        raise InvalidOptionError(
            f"model_path must be a local file; got {raw_path}.",
            option="model_path",
            hint=f"sqlml reads no cloud storage: copy the file to this machine (e.g. gcloud storage cp {raw_path} .) and give its local path.",
        )
    if file_format != "xgboost" and (options.get("_input") or options.get("_output")):
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-onnx has no INPUT/OUTPUT
        raise InvalidOptionError(f"INPUT(…) OUTPUT(…) clauses are for model_type='XGBOOST', not '{model_type}'.", option="INPUT")
    locate, describe = _FORMATS[file_format]
    path = locate(Path(local))
    if not path.is_file():
        raise InvalidOptionError(f"The model file {path} does not exist.", option="model_path")
    content = path.read_bytes()
    description, name = describe(content, path, options)
    imported = {**description, "files": [name], "source": str(path)}
    return ImportedModel({"model_type": str(model_type), "options": options, "imported": imported}, {name: content})


def _describe_onnx(content: bytes, path: Path, options: dict) -> tuple[dict, str]:
    session = _new_session(content, path)
    inputs = [{"name": i.name, "type": i.type, "shape": _shape(i.shape)} for i in session.get_inputs()]
    outputs = [{"name": o.name, "type": o.type, "shape": _shape(o.shape)} for o in session.get_outputs()]
    return {"format": "onnx", "inputs": inputs, "outputs": outputs}, ONNX_FILE


def _describe_lightgbm(content: bytes, path: Path, options: dict) -> tuple[dict, str]:
    try:
        booster = _checked_booster(content)
    except CorruptModelError as error:
        raise ModelError(f"{path} is not a valid LightGBM text model: {error.message}") from None
    except Exception as error:  # LightGBM raises its own LightGBMError
        raise ModelError(f"{path} is not a LightGBM text model: {str(error).splitlines()[0]}") from None
    classes = booster.num_model_per_iteration()
    inputs = [{"name": name, "type": "double", "shape": [None]} for name in booster.feature_name()]
    return {"format": "lightgbm", "inputs": inputs, "outputs": [{"name": "predicted_label", "classes": classes}]}, LIGHTGBM_FILE


def _in_folder(name: str):
    """``model_path`` as given, or the file ``name`` in the folder it names."""
    return lambda path: path / name if path.is_dir() else path


#: File format → where ``model_path``'s file is, and the function that describes it (its inputs
#: and outputs) and names the copy kept in the store.
_FORMATS = {
    "onnx": (_in_folder(ONNX_FILE), _describe_onnx),
    "lightgbm": (_in_folder(LIGHTGBM_FILE), _describe_lightgbm),
    "xgboost": (xgboost_file.model_file, xgboost_file.describe),
}


def _shape(shape) -> list:
    return [d if isinstance(d, int) else None for d in shape]


def _new_session(content: bytes, path):
    import onnxruntime

    try:
        return onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types
        raise ModelError(f"{path} is not a valid ONNX model: {str(error).splitlines()[0]}") from None


def _session(model: Model):
    key = id(model)
    with _lock:
        if key not in _sessions:
            _sessions[key] = _new_session(model.files[ONNX_FILE], model.spec["imported"]["source"])
        return _sessions[key]


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    found = column_named(batch.schema.names, name)
    if found is not None:
        return batch.column(found)
    raise InvalidModelInputError(f"The input has no column {name}, which the imported model needs.")


_NUMPY = {"tensor(double)": np.float64, "tensor(float)": np.float32, "tensor(int64)": np.int64,
          "tensor(int32)": np.int32, "tensor(bool)": np.bool_}  # fmt: skip


def _onnx_input(column: pa.Array, spec: dict) -> np.ndarray:
    if spec["type"] == "tensor(string)":
        values = column.cast(pa.string()) if not pa.types.is_boolean(column.type) else pa.array(
            [None if v is None else ("true" if v else "false") for v in column.to_pylist()], pa.string()
        )  # fmt: skip
        array = np.array(["_null_filler" if v is None else v for v in values.to_pylist()], dtype=object)
    elif pa.types.is_list(column.type) or pa.types.is_fixed_size_list(column.type):
        # an ARRAY column feeds a [N, K] tensor input
        import pyarrow.compute as pc

        dtype = _NUMPY.get(spec["type"], np.float64)
        return pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(dtype).reshape(len(column), -1)
    else:
        dtype = _NUMPY.get(spec["type"], np.float64)
        array = column.to_numpy(zero_copy_only=False).astype(dtype)
    return array.reshape(-1, 1) if len(spec["shape"]) == 2 else array


def _arrow_output(values: np.ndarray) -> pa.Array:
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 2:
        return pa.array(list(values.astype(np.float64)), pa.list_(pa.float64()))
    if values.dtype == object:
        return pa.array(values.tolist(), pa.string())
    if values.dtype == np.float32:
        values = values.astype(np.float64)
    return pa.array(values)


def predict_imported(model: Model, batch: pa.RecordBatch) -> list[tuple[str, pa.Array]]:
    """The imported model's named outputs for one batch of input rows."""
    imported = model.spec["imported"]
    if imported["format"] == "onnx":
        session = _session(model)
        feeds = {spec["name"]: _onnx_input(_column(batch, spec["name"]), spec) for spec in imported["inputs"]}
        results = session.run(None, feeds)
        return [(spec["name"], _arrow_output(np.asarray(value))) for spec, value in zip(imported["outputs"], results)]
    scorer = _booster(model)
    matrix = np.column_stack([_column(batch, spec["name"]).to_numpy(zero_copy_only=False).astype(np.float64) for spec in imported["inputs"]])
    return [("predicted_label", _arrow_output(np.asarray(scorer.predict(matrix, os.cpu_count() or 1))))]


def _checked_booster(content: bytes, features: int | None = None):
    """A LightGBM booster from a text model, checked in Python before LightGBM parses it (and,
    for a stored model, against the inputs recorded when it was imported)."""
    from sqlml.ml.models.lightgbm_text import load_booster

    try:
        text = content.decode()
    except UnicodeDecodeError:
        raise CorruptModelError("The LightGBM model file is not text.") from None
    return load_booster(text, features=features)


def _booster(model: Model):
    """The model's booster, scoring through its compiled form when the rows justify it."""
    from sqlml.ml.compiled.predictor import BoosterScorer

    key = id(model)
    with _lock:
        if key not in _sessions:
            booster = _checked_booster(model.files[LIGHTGBM_FILE], len(model.spec["imported"]["inputs"]))
            _sessions[key] = BoosterScorer(booster, model.files[LIGHTGBM_FILE].decode())
        return _sessions[key]


def imported_reader(model: Model, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """ML.PREDICT's rows for an imported model: its outputs, then the input columns."""
    if model.spec["imported"]["format"] == "xgboost":
        return xgboost_file.predictions_reader(model, reader)
    first = next(iter(reader), None)
    sample = first if first is not None else pa.RecordBatch.from_pylist([], schema=reader.schema)
    outputs = predict_imported(model, sample) if sample.num_rows else []
    if not outputs:
        return reader
    schema = pa.schema([pa.field(name, array.type) for name, array in outputs] + list(reader.schema))

    def batches():
        yield pa.RecordBatch.from_arrays([a for _, a in outputs] + list(first.columns), schema=schema)
        for batch in reader:
            arrays = [a for _, a in predict_imported(model, batch)]
            yield pa.RecordBatch.from_arrays(arrays + list(batch.columns), schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
