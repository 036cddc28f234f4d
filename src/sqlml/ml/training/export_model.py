"""EXPORT MODEL: a self-describing folder with the model's files, a manifest and, where the model
type allows, an ONNX model that includes the preprocessing.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-export-model
``EXPORT MODEL ds.m OPTIONS(uri='path' [, trial_id=n])``. The folder holds ``manifest.json``
(schema, label, outputs, metrics, options, checksums), the model's own files in open formats
(``model.json``, ``arrays.npz``, LightGBM's ``booster.txt``) and ``model.onnx``. Only local paths
are accepted; ``gs://`` and other remote URIs are refused. Time-series models (ARIMA_PLUS…) cannot
be exported, as in BigQuery, whose page lists the exportable types and no ARIMA one.

Formats: that folder is the only one EXPORT MODEL writes. BigQuery exports boosted trees and
random forests as XGBoost Booster files (``model.bst``,
https://cloud.google.com/bigquery/docs/exporting-models); sqlml does not, and says so when
``format`` is asked for: its trees are LightGBM's, and no XGBoost file of them predicts exactly
what ML.PREDICT does. XGBoost sends ``x`` left when ``float32(x) < c``, LightGBM when ``x <= t``
for a float64 ``x`` and ``t``: values that round to the same float32 on both sides of ``t`` cannot
be told apart by any ``c`` (1,497 of 1,500 thresholds of a 50-round regressor were not float32
numbers), and XGBoost adds the leaves in float32 where ML.PREDICT returns LightGBM's float64 sums
(2,000 of its 2,000 predictions were not float32 numbers). An imported XGBOOST model is exported
with its own file (``xgboost.json`` or ``xgboost.ubj``), which XGBoost loads as it was imported.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from sqlglot import exp

from sqlml.errors import ExecutionError, InvalidOptionError, ModelError
from sqlml.execution.context import StatementContext
from sqlml.ml.models.base import Target
from sqlml.ml.models.model import Model
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.ml.training.model_ddl import named_model, read_options
from sqlml.result import Result
from sqlml.sql.uris import local_path_of
from sqlml.store.records import VersionRecord, sha256_of

MANIFEST = "manifest.json"
ONNX_FILE = "model.onnx"
FORMAT = "sqlml.model/1"
#: What EXPORT MODEL writes (the module docstring says why no XGBoost Booster file).
WRITTEN = (
    "it writes one folder: manifest.json, the model's own files (LightGBM's booster.txt for boosted trees and "
    "random forests, the imported file of an ONNX, LIGHTGBM or XGBOOST model) and model.onnx where the model has an "
    "ONNX form. It writes no XGBoost Booster file (BigQuery's model.bst) for trained trees: they are LightGBM trees, "
    "and an XGBoost copy would not predict exactly what ML.PREDICT does (XGBoost compares float32 features with '<' "
    "and sums in float32; LightGBM compares float64 features with '<=' and sums in float64)."
)
FORMAT_HINT = "Remove format; load booster.txt with lightgbm.Booster(model_file=…), or model.onnx with onnxruntime."


def export_model(context: StatementContext) -> Result:
    """Run ``EXPORT MODEL ds.m OPTIONS(uri=…, trial_id=…)``.

    It writes one format, the folder the module docstring describes: ``manifest.json``, the
    model's own files (LightGBM's ``booster.txt`` for trained trees; an imported model's file)
    and ``model.onnx`` where the model has an ONNX form — never an XGBoost Booster of trained trees.

    Raises:
        InvalidOptionError: an unknown option; ``format`` is answered with what is written and why.
    """
    tree = context.plan.tree
    ref = named_model(tree.this, context.script)
    raw = read_options(tree.expressions or [], context.params, context.script)
    unknown = sorted(set(raw) - {"uri", "trial_id"})
    _refuse_format(tree.expressions or [])
    if unknown:
        raise InvalidOptionError(f"EXPORT MODEL has no option '{unknown[0]}'.", option=unknown[0], hint="Options: uri, trial_id.")
    target = _target(raw.get("uri"))
    store = context.executor.models
    record = store.resolve(ref)
    model = CACHE.get(store, record)
    _check_exportable(model, f"{record.dataset}.{record.name}")
    trial_id = raw.get("trial_id")
    if trial_id is not None:
        model = _with_trial(model, trial_id)
    files = store.verified_files(record)
    try:
        write_export(model, record, files, target)
    except OSError as error:
        raise _write_failure(error, target) from error
    return Result.empty("EXPORT MODEL")


def _write_failure(error: OSError, target: Path) -> ExecutionError:
    """The error for an export the file system refused (a full disk, a read-only or foreign folder):
    it names the target folder, not the model store's file being copied or the hidden staging folder."""
    from sqlml.store.faults import cause_of  # the model store's faults load only on a refused write

    return ExecutionError(
        f"EXPORT MODEL could not write the folder {target}: {cause_of(error, target.parent)}.",
        hint="Nothing was exported: the folder is as it was. Free disk space or export to a folder this user can write "
        "(OPTIONS(uri=…)), then run it again.",
    )


def _refuse_format(properties: list[exp.Expression]) -> None:
    # sqlglot parses OPTIONS(format=…) as a FileFormatProperty, which read_options does not see
    asked = next((p for p in properties if isinstance(p, exp.FileFormatProperty)), None)
    if asked is not None:
        value = asked.this.sql(dialect="bigquery") if asked.this is not None else "…"
        raise InvalidOptionError(f"EXPORT MODEL has no format option (got format={value}): {WRITTEN}", option="format", hint=FORMAT_HINT)


def _check_exportable(model: Model, name: str) -> None:
    # https://cloud.google.com/bigquery/docs/exporting-models lists the exportable model types;
    # time-series and contribution analysis models are not among them.
    if model.model_type == ModelType.CONTRIBUTION_ANALYSIS:
        raise ModelError(
            f"EXPORT MODEL cannot export {name}: contribution analysis models cannot be exported.",
            model=name,
            hint=f"Read its insights with SELECT * FROM ML.GET_INSIGHTS(MODEL {name}), and save them with CREATE TABLE … AS.",
        )
    if model.target is Target.FORECASTING:
        raise ModelError(
            f"EXPORT MODEL cannot export {name}: it is a {model.model_type} model, and time-series models cannot be exported.",
            model=name,
            hint=f"Read its forecasts with SELECT * FROM ML.FORECAST(MODEL {name}), or serve them over HTTP with "
            f"`sqlml serve --model {name}` (POST /v1/models/{name}:forecast).",
        )


def _target(uri) -> Path:
    if not isinstance(uri, str) or not uri:
        raise InvalidOptionError("EXPORT MODEL needs OPTIONS(uri='folder').", option="uri")
    path = local_path_of(uri)
    if path is None:
        raise InvalidOptionError(f"EXPORT MODEL writes to local folders only; got {uri}.", option="uri")
    return Path(path)


def _with_trial(model, trial_id: int):
    estimator = model.estimator_for(trial_id)
    chosen = type(model)(dict(model.spec), model.preprocessor, estimator, model.arrays)
    chosen.spec["exported_trial_id"] = trial_id
    return chosen


def write_export(model: Model, record: VersionRecord, files: dict[str, Path], target: Path) -> None:
    """Write the export folder atomically: built aside, then renamed into place; a previous export
    is renamed aside first and removed only once the new one is in place, so a failure at any step
    leaves the target as it was (and no staging folder, nor a parent folder it made, behind)."""
    made = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]  # deepest first
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_and_swap(model, record, files, target)
    except BaseException:
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _write_and_swap(model: Model, record: VersionRecord, files: dict[str, Path], target: Path) -> None:
    """Build the export in a hidden folder beside ``target``, then swap it in for any previous one."""
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    previous = staging.with_name(f"{staging.name}-previous")
    try:
        for name, path in files.items():
            shutil.copyfile(path, staging / name)
        onnx_name, onnx_error = _write_onnx(model, staging)
        manifest = _manifest(model, record, onnx_name, onnx_error)
        manifest["files"] = {p.name: sha256_of(p) for p in sorted(staging.iterdir())}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        if target.exists():
            os.rename(target, previous)
        try:
            os.rename(staging, target)
        except BaseException:
            if previous.exists():
                os.rename(previous, target)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _write_onnx(model, folder: Path) -> tuple[str | None, str | None]:
    from sqlml.ml.models.onnx_graph import to_onnx

    if ONNX_FILE not in model.family.export_formats(model.model_type) or model.estimator is None:
        return None, "imported and TRANSFORM_ONLY models are exported as their files only"
    try:
        proto = to_onnx(model)
    except ModelError as error:
        return None, error.message
    (folder / ONNX_FILE).write_bytes(proto.SerializeToString())
    return ONNX_FILE, None


def _manifest(model, record, onnx_name, onnx_error) -> dict:
    outputs = []
    if model.estimator is not None:
        outputs = [{"name": f.name, "type": str(f.type)} for f in model.family.output_schema(model)]
    features = [{"name": c.name, "type": c.arrow_type} for c in model.preprocessor.columns] if model.preprocessor else []
    return {
        "format": FORMAT,
        "model": f"{record.dataset}.{record.name}",
        "version": record.version,
        "created_at": record.created_at,
        "model_type": model.model_type,
        "label": model.label,
        "features": features,
        "transform": (model.spec.get("transform") or {}).get("clause"),
        "outputs": outputs,
        "metrics": model.spec.get("metrics"),
        "options": {k: v for k, v in model.options.items() if not k.startswith("_")},
        "trial_id": model.spec.get("exported_trial_id"),
        "onnx": onnx_name,
        "onnx_unavailable_because": onnx_error,
    }

