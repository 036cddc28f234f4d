"""A trained model: its description, its preprocessing and its estimator, saved without pickle.

On disk a model version is three kinds of file, each in an open format that loads without
running code: ``model.json`` (the description, including the preprocessing state), ``arrays.npz``
(NumPy arrays, read with ``allow_pickle=False``) and, for tree models, LightGBM's text model
``booster.txt``. The store records a SHA-256 of each file and verifies it before loading.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.errors import CorruptModelError
from sqlml.ml.models.base import ModelFamily, Source, Target
from sqlml.ml.models.catalog import canonical_name, family_of
from sqlml.ml.models.estimator import Estimator, Task
from sqlml.ml.preprocessing.automatic.feature_matrix import check_dense_size
from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor
from sqlml.ml.preprocessing.frozen_transform import apply_transform

if TYPE_CHECKING:
    from sqlml.ml.preprocessing.automatic.feature_matrix import FeatureMatrix

MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"


class Model:
    """Everything needed to use a trained model.

    Attributes:
        spec: the JSON description (model type, options, label, features, metrics, lineage…).
        preprocessor: the fitted automatic preprocessing.
        estimator: the fitted estimator.
        arrays: extra arrays kept with the model (e.g. the eval split's outputs).
    """

    def __init__(self, spec: dict, preprocessor: Preprocessor | None, estimator: Estimator | None, arrays=None):
        self.spec = spec
        self.preprocessor = preprocessor
        self.estimator = estimator
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})
        #: Every successful trial's estimator of a tuned model, by trial_id.
        self.trial_estimators: dict[int, Estimator] = {}
        #: Files kept byte for byte (an imported ONNX or LightGBM model), by file name.
        self.files: dict[str, bytes] = {}

    @classmethod
    def from_file(cls, model_type: str, options: dict) -> Model:
        """A model created from the file named by ``model_path`` (an imported family's)."""
        imported = family_of(model_type).read_file(model_type, options)
        model = cls(imported.spec, None, None)
        model.files = dict(imported.files)
        return model

    @property
    def model_type(self) -> str:
        """The model's type (a :class:`~sqlml.ml.models.model_types.ModelType` value for built-in families)."""
        return self.spec["model_type"]

    @property
    def family(self) -> ModelFamily:
        """The family that owns the model's type: what it predicts, evaluates and supports."""
        return family_of(self.model_type)

    @property
    def target(self) -> Target:
        """What the model learned (regression, classification…)."""
        return self.family.target(self.model_type)

    @property
    def options(self) -> dict:
        """The resolved OPTIONS the model was trained with."""
        return self.spec["options"]

    @property
    def label(self) -> dict | None:
        """``{"name", "arrow_type", "classes"}`` for supervised models, else None."""
        return self.spec.get("label")

    @property
    def task(self) -> Task:
        """What the estimator learned."""
        return Task(**self.spec["task"])

    def label_type(self) -> pa.DataType:
        """The Arrow type of the label column (predictions keep it)."""
        return arrow_type_from_string(self.label["arrow_type"])

    def classes(self) -> pa.Array:
        """The classes in index order (ascending), as an Arrow array of the label's type (built once
        while the label stays the same: prediction asks for it on every batch)."""
        key = (self.label["arrow_type"], self.label["classes"])
        cached = self.__dict__.get("_classes")
        if cached is None or cached[0] != key:
            cached = (key[0], list(key[1])), pa.array(key[1]).cast(self.label_type())
            self.__dict__["_classes"] = cached
        return cached[1]

    @property
    def is_tuned(self) -> bool:
        """Trained with NUM_TRIALS (hyperparameter tuning)."""
        return bool(self.spec.get("trials"))

    def estimator_for(self, trial_id: int | None) -> Estimator:
        """The estimator of a trial (the optimal one when ``trial_id`` is None).

        Raises:
            InvalidOptionError: the model is not tuned, or has no such successful trial.
        """
        from sqlml.errors import InvalidOptionError

        if trial_id is None:
            return self.estimator
        if not self.is_tuned:
            raise InvalidOptionError("trial_id applies only to models trained with num_trials.", option="trial_id")
        if trial_id not in self.trial_estimators:
            valid = ", ".join(map(str, sorted(self.trial_estimators)))
            raise InvalidOptionError(f"The model has no successful trial {trial_id}.", option="trial_id", hint=f"Trials: {valid}.")
        return self.trial_estimators[trial_id]

    def required_columns(self) -> list[str]:
        """The input columns a prediction needs (those TRANSFORM reads, an imported file's inputs,
        else the features)."""
        transform = self.spec.get("transform")
        if transform:
            return list(transform["inputs"])
        if "imported" in self.spec:
            return [column["name"] for column in self.spec["imported"]["inputs"]]
        return [column.name for column in self.preprocessor.columns] if self.preprocessor else []

    def check_input(self, schema: pa.Schema) -> None:
        """Fail early, before reading any row, when the input lacks a column the model needs.

        Raises:
            InvalidModelInputError: naming the first missing column and its training type.
        """
        from sqlml.errors import InvalidModelInputError

        available = {name.lower() for name in _flattened_names(schema)}
        for name in self.required_columns():
            if name.lower() not in available:
                raise InvalidModelInputError(
                    f"The input has no column {name}, which the model was trained on.",
                    column=name,
                    hint=f"Select {name} in the query you pass to the model.",
                )

    def features(self, data: pa.Table | pa.RecordBatch, sparse: bool | None = None) -> FeatureMatrix:
        """The feature matrix of input rows (TRANSFORM, then automatic preprocessing): dense, or
        a SciPy CSR matrix for a model trained sparse (``sparse`` overrides the model's choice).

        Raises:
            InvalidModelInputError: a dense matrix is asked of a sparse model and would not fit
                in memory.
        """
        wanted = self.task.sparse if sparse is None else sparse
        if self.task.sparse and not wanted:
            check_dense_size(self.preprocessor, data.num_rows)
        return self.preprocessor.transform(apply_transform(self, data), sparse=wanted)

    # -- files -------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the model's files into ``folder``."""
        params, arrays, texts = self.estimator.state() if self.estimator is not None else ({}, {}, {})
        spec = {**self.spec, "estimator_params": params, "trial_params": {}}
        if self.preprocessor is not None:
            spec["preprocessing"] = self.preprocessor.state()
        all_arrays = {f"estimator.{k}": v for k, v in arrays.items()}
        for trial_id, estimator in self.trial_estimators.items():
            trial_params, trial_arrays, trial_texts = estimator.state()
            spec["trial_params"][str(trial_id)] = trial_params
            all_arrays.update({f"trial{trial_id}.{k}": v for k, v in trial_arrays.items()})
            texts.update({f"trial{trial_id}.{name}": text for name, text in trial_texts.items()})
        (folder / MODEL_FILE).write_text(json.dumps(spec, indent=1, default=_json_default))
        all_arrays.update({f"model.{k}": v for k, v in self.arrays.items()})
        with open(folder / ARRAYS_FILE, "wb") as handle:
            np.savez(handle, **all_arrays)
        for name, text in texts.items():
            (folder / name).write_text(text)
        for name, content in self.files.items():
            (folder / name).write_bytes(content)

    @classmethod
    def load(cls, files: dict[str, Path]) -> "Model":
        """Read a model from its verified files (no pickle, no code execution).

        Raises:
            CorruptModelError: a file is unreadable, or does not hold what the description says
                (checked before any native library reads it).
        """
        try:
            return cls._load(files)
        except CorruptModelError:
            raise
        except (KeyError, ValueError, TypeError, IndexError, AttributeError, OSError) as error:
            raise CorruptModelError(
                f"Cannot read the model files: {type(error).__name__}: {error}",
                hint="Re-train the model with CREATE OR REPLACE MODEL.",
            ) from None

    @classmethod
    def _load(cls, files: dict[str, Path]) -> "Model":
        spec = json.loads(files[MODEL_FILE].read_text())
        with np.load(files[ARRAYS_FILE], allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        texts = {name: path.read_text() for name, path in files.items() if name.endswith(".txt")}
        estimator_arrays = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("estimator.")}
        model_arrays = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("model.")}
        preprocessor = Preprocessor.from_state(spec["preprocessing"]) if "preprocessing" in spec else None
        model_type = spec["model_type"]
        if canonical_name(model_type) is None:
            raise ValueError(f"no registered model family owns model_type '{model_type}'")
        estimator, trials = None, {}
        if spec.get("task") and family_of(model_type).source is Source.ROWS:
            family = family_of(model_type).estimator_class(model_type)
            task = Task(**spec["task"])
            estimator = family.from_state(spec["options"], task, spec.get("estimator_params", {}), estimator_arrays, _own(texts, ""))
            for trial_id, trial_params in spec.get("trial_params", {}).items():
                prefix = f"trial{trial_id}."
                trial_arrays = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
                trials[int(trial_id)] = family.from_state(spec["options"], task, trial_params, trial_arrays, _own(texts, prefix))
        model = cls(spec, preprocessor, estimator, model_arrays)
        model.trial_estimators = trials
        model.files = {name: path.read_bytes() for name, path in files.items() if name in spec.get("imported", {}).get("files", [])}
        return model


def _own(texts: dict[str, str], prefix: str) -> dict[str, str]:
    """The text files of one estimator: the trial's (``trial3.booster.txt``) or the model's own."""
    if prefix:
        return {name[len(prefix):]: text for name, text in texts.items() if name.startswith(prefix)}
    return {name: text for name, text in texts.items() if not name.startswith("trial")}


def _flattened_names(schema: pa.Schema) -> list[str]:
    names = []
    for field in schema:
        names.append(field.name)
        if pa.types.is_struct(field.type):
            names += [f"{field.name}_{field.type.field(i).name}" for i in range(field.type.num_fields)]
    return names


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


_TYPES = {
    "int8": pa.int8(), "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(),
    "uint8": pa.uint8(), "uint16": pa.uint16(), "uint32": pa.uint32(), "uint64": pa.uint64(),
    "float": pa.float32(), "double": pa.float64(), "bool": pa.bool_(), "string": pa.string(),
    "large_string": pa.large_string(), "date32[day]": pa.date32(), "binary": pa.binary(),
}  # fmt: skip


def arrow_type_from_string(text: str) -> pa.DataType:
    """The Arrow type whose ``str()`` is ``text`` (the types labels and features come in)."""
    if text in _TYPES:
        return _TYPES[text]
    if text.startswith("decimal128("):
        precision, scale = text[len("decimal128(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    if text.startswith("timestamp["):
        unit, _, tz = text[len("timestamp[") : -1].partition(", tz=")
        return pa.timestamp(unit, tz or None)
    return pa.string()
