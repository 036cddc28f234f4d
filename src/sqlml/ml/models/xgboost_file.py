"""Imported XGBoost models: read, described, scored and explained by XGBoost's own library.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-xgboost —
``CREATE MODEL m [INPUT(f1 FLOAT64, …) OUTPUT(o FLOAT64)] OPTIONS(model_type='XGBOOST',
model_path='…')``. The inputs are numeric; they come from INPUT, else from the booster's
``feature_names`` (and ``feature_types``: BigQuery needs both, sqlml reads a missing
``feature_types`` as all FLOAT64). ML.PREDICT returns one output column named by OUTPUT, else
``predicted_label`` (the name BigQuery's own client library, BigQuery DataFrames, declares for
its XGBoost test model): FLOAT64, or ARRAY<FLOAT64> when the booster has several outputs per row
(``multi:softprob``: one probability per class).

Only XGBoost's data formats are read: JSON and UBJSON, told apart by their content, whatever the
file's extension (a ``.bst`` saved by XGBoost ≥ 2 is UBJSON). The legacy binary format, which
XGBoost 3 no longer reads, and Python pickles are refused; every model is checked by
:mod:`sqlml.ml.models.xgboost_check` before XGBoost's loader sees it, at import and at load. The
store keeps the file's bytes unchanged (``xgboost.json`` or ``xgboost.ubj``), checksummed like
every model file.
"""

from __future__ import annotations

import json
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import CorruptModelError, InvalidModelInputError, InvalidOptionError, ModelError
from sqlml.ml.columns import column_named
from sqlml.ml.models.xgboost_check import InvalidModel, UnsupportedModel, check, decode

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    import xgboost

    from sqlml.ml.models.model import Model

#: The stored file's name by encoding (not ``model.json``: that is the model's description).
FILE_NAMES = {"json": "xgboost.json", "ubj": "xgboost.ubj"}
ENCODING_NAMES = {"json": "JSON", "ubj": "UBJSON"}
#: Files looked for when ``model_path`` names a folder (BigQuery's ``gs://bucket/folder/*``).
FOLDER_FILES = ("model.json", "model.ubj", "model.bst")
DEFAULT_OUTPUT = "predicted_label"
#: INPUT types BigQuery takes for XGBoost models: numeric ones.
NUMERIC_TYPES = ("INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC", "BOOL")
#: XGBoost ``feature_types`` → the BigQuery type of the input column.
FEATURE_TYPES = {"float": "FLOAT64", "q": "FLOAT64", "int": "INT64", "i": "BOOL"}
INSTALL_HINT = 'Install it with: pip install "sqlml[xgboost]"'
AGAIN = "Is the file complete? Save it again with booster.save_model('model.json')."
#: Loaded boosters by model (weak: a model evicted from the model cache frees its booster).
_boosters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def xgboost_module() -> ModuleType:
    """The ``xgboost`` package.

    Raises:
        ModelError: it is not installed.
    """
    try:
        import xgboost
    except ImportError:
        raise ModelError("model_type='XGBOOST' needs the xgboost package, which is not installed.", hint=INSTALL_HINT) from None
    return xgboost


def model_file(path: Path) -> Path:
    """The model file ``model_path`` names: the file itself, or the first of ``model.json``,
    ``model.ubj``, ``model.bst`` in a folder (``folder`` or ``folder/*``)."""
    if path.name == "*":
        path = path.parent
    if path.is_dir():
        return next((path / name for name in FOLDER_FILES if (path / name).is_file()), path / FOLDER_FILES[0])
    return path


def encoding(content: bytes, path: Path) -> str:
    """``json`` or ``ubj``, from the file's first bytes (both open with ``{``; JSON's key is quoted).

    Raises:
        ModelError: the content is neither (a pickle, XGBoost's legacy binary format, anything else).
    """
    head = content.lstrip()[:2]
    if head[:1] == b"{":
        return "json" if head[1:2] in (b'"', b"}") else "ubj"
    if content[:1] == b"\x80":
        what = "a Python pickle, which sqlml never loads (unpickling can run code)"
    elif not content:
        what = "empty"
    else:
        what = "not an XGBoost JSON or UBJSON model (the legacy binary format of XGBoost < 2 is not read)"
    raise ModelError(
        f"{path} is {what}.", hint="Save the booster with booster.save_model('model.json') (or 'model.ubj') and import that file."
    )


def describe(content: bytes, path: Path, options: dict) -> tuple[dict, str]:
    """The description of an XGBoost model file, and the name the store keeps it under.

    Args:
        content: the file's bytes.
        path: the file, for messages.
        options: the resolved options; ``_input``/``_output`` hold the INPUT/OUTPUT clauses
            (lists of ``{"name", "type"}``), when the statement has them.

    Raises:
        ModelError: the file is not an XGBoost tree model sqlml can import.
        InvalidOptionError: INPUT/OUTPUT do not fit the model.
    """
    kind = encoding(content, path)
    loaded = _read_booster(content, path, kind)
    learner = json.loads(loaded.save_config())["learner"]
    booster_name = learner["gradient_booster"]["name"]
    inputs = _inputs(loaded, options.get("_input"), path)
    width = loaded.predict(_matrix(loaded, np.full((1, len(inputs)), np.nan))).reshape(1, -1).shape[1]
    output_type = "FLOAT64" if width == 1 else "ARRAY<FLOAT64>"
    output = {"name": _output_name(options.get("_output"), output_type), "type": output_type, "width": width}
    description = {
        "format": "xgboost", "encoding": kind, "inputs": inputs, "outputs": [output],
        "objective": learner["objective"]["name"], "booster": booster_name, "rounds": loaded.num_boosted_rounds(),
    }  # fmt: skip
    return description, FILE_NAMES[kind]


def _read_booster(content: bytes, path: Path, kind: str) -> xgboost.Booster:
    try:
        check(decode(content, kind))  # XGBoost's loader and predictor crash on malformed models
    except UnsupportedModel as error:
        raise ModelError(f"{path} {error}.", hint="Encode categories as numbers and train trees (booster='gbtree').") from None
    except InvalidModel as error:
        raise ModelError(f"{path} is not a valid XGBoost {ENCODING_NAMES[kind]} model: {error}.", hint=AGAIN) from None
    xgboost = xgboost_module()
    loaded = xgboost.Booster()
    try:
        loaded.load_model(bytearray(content))
    except xgboost.core.XGBoostError as error:
        reason = str(error).splitlines()[0].split(": ", 1)[-1]
        raise ModelError(f"{path} is not a valid XGBoost {ENCODING_NAMES[kind]} model: {reason}.", hint=AGAIN) from None
    return loaded


def _inputs(loaded: xgboost.Booster, declared: list[dict] | None, path: Path) -> list[dict]:
    names, count = loaded.feature_names, loaded.num_features()
    types = [_feature_type(name, kind) for name, kind in zip(names or [f"f{i}" for i in range(count)], loaded.feature_types or [])]
    if declared is None:
        if names is None:
            raise InvalidOptionError(
                f"{path} does not name its {count} features (its feature_names are not set).",
                option="model_path",
                hint="Declare them in order: CREATE MODEL m INPUT(f1 FLOAT64, …) OUTPUT(predicted_label FLOAT64) OPTIONS(…), "
                "or train on a DMatrix with feature_names.",
            )
        declared = [{"name": name, "type": kind} for name, kind in zip(names, types or ["FLOAT64"] * count)]
    if len(declared) != count:
        raise InvalidOptionError(f"INPUT declares {len(declared)} columns; the model in {path} has {count} features.", option="INPUT")
    for index, spec in enumerate(declared):
        if spec["type"].upper() not in NUMERIC_TYPES:
            raise InvalidOptionError(
                f"INPUT column {spec['name']} is {spec['type']}; XGBoost models take numeric inputs ({', '.join(NUMERIC_TYPES)}).",
                option="INPUT",
            )
        if names is not None and names[index].lower() != spec["name"].lower():
            raise InvalidOptionError(
                f"INPUT column {index + 1} is {spec['name']}, but the model calls that feature {names[index]}.",
                option="INPUT",
                hint=f"Name the INPUT columns as the model does: {', '.join(names)}.",
            )
    return [{"name": spec["name"], "type": spec["type"].upper()} for spec in declared]


def _feature_type(name: str, kind: str) -> str:
    if kind not in FEATURE_TYPES:
        raise ModelError(
            f"The feature {name} is of XGBoost type '{kind}'; sqlml imports XGBoost models with numeric features only.",
            hint="Encode categories as numbers before training.",
        )
    return FEATURE_TYPES[kind]


def _output_name(declared: list[dict] | None, output_type: str) -> str:
    if not declared:
        return DEFAULT_OUTPUT
    if len(declared) != 1 or declared[0]["type"].upper() not in ("FLOAT64", output_type):
        given = ", ".join(f"{spec['name']} {spec['type']}" for spec in declared)
        raise InvalidOptionError(
            f"OUTPUT({given}) does not fit the model, which has one {output_type} output.",
            option="OUTPUT",
            hint=f"Write OUTPUT(predicted_label {output_type}).",
        )
    return declared[0]["name"]


def booster(model: Model) -> xgboost.Booster:
    """The loaded booster of a stored model (loaded once per model; XGBoost's prediction is
    thread-safe for tree boosters, so the server's threads share it)."""
    with _lock:
        if model not in _boosters:
            encoding_name = model.spec["imported"]["encoding"]
            content = model.files[FILE_NAMES[encoding_name]]
            try:  # checked again: a forged catalog can forge the file's checksum too
                check(decode(content, encoding_name))
            except InvalidModel as error:
                raise CorruptModelError(
                    f"The stored XGBoost model is not valid: {error}.", hint="Import it again with CREATE OR REPLACE MODEL."
                ) from None
            loaded = xgboost_module().Booster()
            loaded.load_model(bytearray(content))
            _boosters[model] = loaded
        return _boosters[model]


def output_schema(model: Model) -> pa.Schema:
    """ML.PREDICT's output column."""
    output = model.spec["imported"]["outputs"][0]
    return pa.schema([(output["name"], pa.float64() if output["width"] == 1 else pa.list_(pa.float64()))])


def predict(model: Model, batch: pa.RecordBatch) -> pa.Array:
    """The booster's predictions for a batch (NULL inputs are missing values), as float64.

    Raises:
        InvalidModelInputError: a column is missing or not numeric.
    """
    inputs, width = model.spec["imported"]["inputs"], model.spec["imported"]["outputs"][0]["width"]
    check_columns(model, batch.schema)
    matrix = np.column_stack([_feature(batch, spec["name"]) for spec in inputs]) if batch.num_rows else np.empty((0, len(inputs)))
    loaded = booster(model)
    values = pa.array(loaded.predict(_matrix(loaded, matrix)).astype(np.float64).reshape(-1))
    return values if width == 1 else pa.FixedSizeListArray.from_arrays(values, width).cast(pa.list_(pa.float64()))


def _matrix(loaded: xgboost.Booster, values: np.ndarray) -> xgboost.DMatrix:
    """The DMatrix XGBoost predicts on: NaN is a missing value; names and types are the booster's."""
    return xgboost_module().DMatrix(values, missing=np.nan, feature_names=loaded.feature_names, feature_types=loaded.feature_types)


def check_columns(model: Model, schema: pa.Schema) -> None:
    """Fail before reading any row when the input lacks an input column or has a non-numeric one.

    Raises:
        InvalidModelInputError: naming the column.
    """
    for spec in model.spec["imported"]["inputs"]:
        name, wanted = spec["name"], spec["type"]
        found = column_named(schema.names, name)
        if found is None:
            raise InvalidModelInputError(
                f"The input has no column {name}, which the imported XGBoost model needs.",
                column=name,
                hint=f"Select {name} ({wanted}) in the query you pass to the model.",
            )
        kind = schema.field(schema.names.index(found)).type
        if not _is_numeric(kind):
            raise InvalidModelInputError(
                f"The column {name} is {kind}; the imported XGBoost model takes it as {wanted}.",
                column=name,
                hint=f"Cast it: CAST({name} AS {wanted}).",
            )


def _is_numeric(kind: pa.DataType) -> bool:
    # numbers, booleans and all-NULL columns (NULL is a missing value)
    types = pa.types
    return types.is_integer(kind) or types.is_floating(kind) or types.is_decimal(kind) or types.is_boolean(kind) or types.is_null(kind)


def _feature(batch: pa.RecordBatch, name: str) -> np.ndarray:
    return pc.cast(batch.column(column_named(batch.schema.names, name)), pa.float64()).to_numpy(zero_copy_only=False)


def predictions_reader(model: Model, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """ML.PREDICT's rows: the output column, then the input columns.

    Raises:
        InvalidModelInputError: an input column is missing or not numeric (before any row is read).
    """
    check_columns(model, reader.schema)
    schema = pa.schema(list(output_schema(model)) + list(reader.schema))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield pa.RecordBatch.from_arrays([predict(model, batch), *batch.columns], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def feature_importance(model: Model) -> pa.Table:
    """ML.FEATURE_IMPORTANCE: XGBoost's own ``weight`` (splits using the feature), ``gain`` and
    ``cover`` (their averages) per input column, 0 for a column no split uses.

    https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-importance
    """
    loaded = booster(model)
    inputs = model.spec["imported"]["inputs"]
    keys = loaded.feature_names or [f"f{index}" for index in range(len(inputs))]
    columns = {"feature": pa.array([spec["name"] for spec in inputs], pa.string())}
    for kind in ("weight", "gain", "cover"):
        scores = loaded.get_score(importance_type=kind)
        columns[f"importance_{kind}"] = pa.array([float(scores.get(key, 0.0)) for key in keys], pa.float64())
    return pa.table(columns)
