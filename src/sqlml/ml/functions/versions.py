"""ML.VERSIONS: every version of a model, with lineage and metrics a user can ORDER BY.

A sqlml addition (BigQuery replaces a model in place; MLflow and Vertex AI keep versions):
one row per version with its aliases, type, options, training query, the tables it read, a
fingerprint of the data read, row counts, training time, creator and each evaluation metric as a
column of its own.
"""

from __future__ import annotations

import json

import pyarrow as pa

from sqlml.ml.functions.call import Call, function


@function("VERSIONS")
def versions(call: Call) -> pa.Table:
    """``ML.VERSIONS(MODEL ds.m)`` — all versions of ds.m, oldest first."""
    ref = call.ref.base
    records = call.executor.models.versions(ref.dataset, ref.name)
    metric_names = []
    for record in records:
        for name in record.metadata.get("metrics") or {}:
            if name not in metric_names:
                metric_names.append(name)
    lineage = [record.metadata.get("lineage") or {} for record in records]
    split = [record.metadata.get("split") or {} for record in records]
    columns = {
        "version": pa.array([r.version for r in records], pa.int64()),
        "aliases": pa.array([r.aliases for r in records], pa.list_(pa.string())),
        "created_at": pa.array([r.created_at for r in records], pa.string()).cast(pa.timestamp("us", tz="UTC")),
        "model_type": pa.array([r.model_type for r in records], pa.string()),
        "options": pa.array([_options_json(r.metadata.get("options") or {}) for r in records], pa.string()),
        "training_query": pa.array([l.get("query") for l in lineage], pa.string()),
        "training_statement": pa.array([l.get("statement") for l in lineage], pa.string()),
        "training_parameters": pa.array([json.dumps(l.get("parameters") or {}, sort_keys=True) for l in lineage], pa.string()),
        "input_tables": pa.array([l.get("tables") or [] for l in lineage], pa.list_(pa.string())),
        "data_fingerprint": pa.array([l.get("fingerprint") for l in lineage], pa.string()),
        "training_rows": pa.array([s.get("training_rows") for s in split], pa.int64()),
        "eval_rows": pa.array([s.get("eval_rows") for s in split], pa.int64()),
        "training_seconds": pa.array([r.metadata.get("training_seconds") for r in records], pa.float64()),
        "creator": pa.array([r.creator for r in records], pa.string()),
    }
    for name in metric_names:
        columns[name] = pa.array([(r.metadata.get("metrics") or {}).get(name) for r in records], pa.float64())
    return pa.table(columns)


def _options_json(options: dict) -> str:
    """The options as JSON text, HPARAM spaces written out."""
    return json.dumps({k: v for k, v in options.items() if not k.startswith("_")}, default=str, sort_keys=True)
