"""TensorFlow Data Validation's statistics and anomalies, as BigQuery's ML.TFDV_DESCRIBE and
ML.TFDV_VALIDATE return them: protocol buffers written as JSON.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tfdv-describe and
…-tfdv-validate. :func:`dataset_statistics` builds a ``DatasetFeatureStatisticsList`` (the shape of
tensorflow_metadata's ``statistics.proto``): one feature per column (STRUCT fields by their path),
``numStats`` for numbers — mean, population ``stdDev``, ``numZeros``, min, median, max, an
equal-width histogram of ``num_histogram_buckets`` and a quantiles histogram of
``num_quantiles_histogram_buckets`` — and ``stringStats`` for the rest — ``unique``, ``topValues``,
``avgLength`` and a ``rankHistogram`` of the ``num_rank_histogram_buckets`` most frequent values;
``commonStats`` counts present and missing values (ARRAY columns: values per row, with a quantiles
histogram of ``num_values_histogram_buckets``). The JSON follows protobuf's mapping: camelCase
names, 64-bit integers as strings, zero values left out.

:func:`validate` compares two such lists as ``tfdv.validate_statistics`` does for skew or drift:
per feature, the L-infinity distance (or Jensen-Shannon divergence) of the value frequencies of
categorical features and the Jensen-Shannon divergence of numeric histograms (rebucketed onto
their common boundaries, counts spread evenly inside a bucket), reusing
:func:`sqlml.ml.monitoring.distributions.distance`. It returns an ``Anomalies`` message: ``anomalyInfo`` for
features above their threshold and ``driftSkewInfo`` with every measurement.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.ml.monitoring.distributions import distance
from sqlml.ml.preprocessing.automatic.encoders import as_categories, as_float

#: ML.TFDV_DESCRIBE's settings and their defaults.
DESCRIBE_SETTINGS = {"num_histogram_buckets": 10, "num_quantiles_histogram_buckets": 10, "num_values_histogram_buckets": 10, "num_rank_histogram_buckets": 50}
_TOP_VALUES = 20


# -- statistics ------------------------------------------------------------------------------


def dataset_statistics(table: pa.Table, settings: dict) -> dict:
    """The ``DatasetFeatureStatisticsList`` of every column of ``table``."""
    features = [_feature(path, column, settings) for path, column in _leaves(table)]
    return {"datasets": [_compact({"numExamples": str(table.num_rows), "features": features})]}


def _leaves(table: pa.Table):
    """(path, column) of each column, STRUCT fields expanded."""
    stack = [([name], table.column(name).combine_chunks()) for name in table.column_names]
    while stack:
        path, column = stack.pop(0)
        if pa.types.is_struct(column.type):
            stack[:0] = [([*path, column.type.field(i).name], field) for i, field in enumerate(column.flatten())]
        else:
            yield path, column


def _feature(path: list[str], column: pa.Array, settings: dict) -> dict:
    is_list = pa.types.is_list(column.type) or pa.types.is_large_list(column.type)
    values = pc.list_flatten(column) if is_list else column
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False) if is_list else None
    present = len(column) - column.null_count
    common = {"numNonMissing": str(present), "numMissing": str(column.null_count)}
    if is_list:
        lengths = lengths[column.is_valid().to_numpy(zero_copy_only=False)].astype(float)
        common.update(_counts(lengths, settings["num_values_histogram_buckets"]))
    else:
        common.update({"minNumValues": "1" if present else "0", "maxNumValues": "1" if present else "0",
                       "avgNumValues": 1.0 if present else 0.0, "totNumValues": str(present)})  # fmt: skip
    kind = _kind(values.type)
    if kind == "STRUCT":  # an ARRAY of STRUCTs (or of arrays): only presence and counts
        return _compact({"path": {"step": path}, "type": kind, "structStats": {"commonStats": common}})
    if kind in ("INT", "FLOAT"):
        body = {"numStats": {"commonStats": common, **_numbers(as_float(values), settings)}}
    elif kind == "BYTES":
        body = {"bytesStats": {"commonStats": common, **_bytes(values)}}
    else:
        body = {"stringStats": {"commonStats": common, **_strings(values, settings)}}
    return _compact({"path": {"step": path}, "type": kind, **body})


def _kind(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "INT"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "FLOAT"
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return "BYTES"
    if pa.types.is_nested(arrow_type):
        return "STRUCT"
    return "STRING"  # strings, and dates and times as their text, as BigQuery converts them


def _counts(lengths: np.ndarray, buckets: int) -> dict:
    if not lengths.size:
        return {}
    return {"minNumValues": str(int(lengths.min())), "maxNumValues": str(int(lengths.max())), "avgNumValues": float(lengths.mean()),
            "totNumValues": str(int(lengths.sum())), "numValuesHistogram": _quantiles(lengths, buckets)}  # fmt: skip


def _numbers(values: np.ndarray, settings: dict) -> dict:
    nans = int(np.isnan(values).sum())
    finite = values[~np.isnan(values)]
    if not finite.size:
        return {}
    standard = _histogram(finite, settings["num_histogram_buckets"])
    quantiles = _quantiles(finite, settings["num_quantiles_histogram_buckets"])
    for histogram in (standard, quantiles):
        histogram["numNan"] = str(nans)
    return {
        "mean": float(finite.mean()), "stdDev": float(finite.std()), "numZeros": str(int((finite == 0).sum())),
        "min": float(finite.min()), "median": float(np.median(finite)), "max": float(finite.max()), "histograms": [standard, quantiles],
    }  # fmt: skip


def _histogram(values: np.ndarray, buckets: int) -> dict:
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=buckets, range=(low, high if high > low else low + 1.0))
    return {"buckets": [{"lowValue": float(a), "highValue": float(b), "sampleCount": float(c)} for a, b, c in zip(edges[:-1], edges[1:], counts)]}


def _quantiles(values: np.ndarray, buckets: int) -> dict:
    edges = np.quantile(values, np.linspace(0.0, 1.0, buckets + 1))
    share = values.size / buckets
    return {"buckets": [{"lowValue": float(a), "highValue": float(b), "sampleCount": share} for a, b in zip(edges[:-1], edges[1:])], "type": "QUANTILES"}


def _strings(values: pa.Array, settings: dict) -> dict:
    text = as_categories(values) if not pa.types.is_string(values.type) else values
    text = text.cast(pa.string()).filter(text.is_valid())
    if not len(text):
        return {}
    counts = pc.value_counts(text)
    pairs = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()), key=lambda p: (-p[1], p[0]))
    ranks = pairs[: settings["num_rank_histogram_buckets"]]
    return {
        "unique": str(len(pairs)),
        "topValues": [{"value": v, "frequency": float(c)} for v, c in pairs[:_TOP_VALUES]],
        "avgLength": float(pc.mean(pc.utf8_length(text)).as_py()),
        "rankHistogram": {"buckets": [{"lowRank": str(r), "highRank": str(r), "label": v, "sampleCount": float(c)} for r, (v, c) in enumerate(ranks)]},
    }


def _bytes(values: pa.Array) -> dict:
    present = values.filter(values.is_valid())
    if not len(present):
        return {}
    sizes = pc.binary_length(present).to_numpy(zero_copy_only=False).astype(float)
    return {"unique": str(len(pc.unique(present))), "avgNumBytes": float(sizes.mean()), "minNumBytes": float(sizes.min()), "maxNumBytes": float(sizes.max())}


def _compact(message):
    """Protobuf's JSON leaves out fields at their default (0, "", empty); so does this."""
    if isinstance(message, dict):
        kept = {k: _compact(v) for k, v in message.items()}
        return {k: v for k, v in kept.items() if v not in (0, 0.0, "0", "", [], {}, None)}
    if isinstance(message, list):
        return [_compact(v) for v in message]
    return message


# -- validation ------------------------------------------------------------------------------


def validate(base: str, study: str, detection: str, rules: dict) -> str:
    """The ``Anomalies`` JSON comparing two ``DatasetFeatureStatisticsList`` JSON texts.

    Args:
        base: the baseline statistics (training data for SKEW, previous data for DRIFT).
        study: the statistics compared with them.
        detection: ``SKEW`` or ``DRIFT``.
        rules: ``{"metric": {kind: metric}, "default": {kind: threshold}, "columns": {path: threshold}}``
            (kinds ``categorical`` and ``numeric``, as :mod:`sqlml.ml.functions.data_checks` builds).

    Raises:
        ValueError: a text is not such a list, or an argument is out of range.
    """
    detection = detection.upper()
    if detection not in ("SKEW", "DRIFT"):
        raise ValueError(f"detection_type must be 'SKEW' or 'DRIFT'; got '{detection}'")
    left, right = _features(base, "base_statistics"), _features(study, "study_statistics")
    anomalies, measured = {}, []
    for path, reference in left.items():
        other = right.get(path)
        kind = _distribution_kind(reference)
        if other is None or kind is None or _distribution_kind(other) != kind:
            continue
        metric = rules["metric"][kind]
        threshold = rules["columns"].get(path.lower(), rules["default"][kind])
        value, worst = _distance(reference, other, kind, metric)
        measurement = {"type": metric, "value": value, "threshold": threshold}
        measured.append({"path": {"step": path.split(".")}, f"{detection.lower()}Measurements": [measurement]})
        if value > threshold:
            anomalies[path] = _anomaly(path, detection, metric, value, threshold, worst)
    result = {"anomalyInfo": anomalies, "driftSkewInfo": measured}
    return json.dumps({k: v for k, v in result.items() if v})


def _features(text: str, what: str) -> dict[str, dict]:
    try:
        message = json.loads(text)
        datasets = message["datasets"]
        features = datasets[0].get("features", []) if datasets else []
        return {".".join(f["path"]["step"]) if "path" in f else f["name"]: f for f in features}
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise ValueError(f"{what} must be a DatasetFeatureStatisticsList in JSON, as ML.TFDV_DESCRIBE returns") from None


def _distribution_kind(feature: dict) -> str | None:
    if "numStats" in feature:
        return "numeric"
    if "stringStats" in feature:
        return "categorical"
    return None


def _distance(reference: dict, other: dict, kind: str, metric: str) -> tuple[float, str | None]:
    """The metric's value, and (L_INFTY) the value that differs most."""
    if kind == "numeric":
        left, right = _standard(reference), _standard(other)
        edges = sorted({e for b in left + right for e in (b[0], b[1])})
        p, q = _rebucket(left, edges), _rebucket(right, edges)
        return distance({"kind": "numeric", "counts": p}, {"kind": "numeric", "counts": q}, metric), None
    p, q = _frequencies(reference), _frequencies(other)
    value = distance({"kind": kind, "counts": p}, {"kind": kind, "counts": q}, metric)
    total_p, total_q = sum(p.values()) or 1.0, sum(q.values()) or 1.0
    worst = max(sorted(set(p) | set(q)), key=lambda v: abs(p.get(v, 0) / total_p - q.get(v, 0) / total_q), default=None)
    return value, worst


def _standard(feature: dict) -> list[tuple[float, float, float]]:
    for histogram in feature["numStats"].get("histograms", []):
        if histogram.get("type", "STANDARD") == "STANDARD":
            return [(b.get("lowValue", 0.0), b.get("highValue", 0.0), b.get("sampleCount", 0.0)) for b in histogram.get("buckets", [])]
    return []


def _rebucket(buckets: list[tuple[float, float, float]], edges: list[float]) -> list[float]:
    """Counts over the buckets between ``edges``, each source bucket's count spread evenly."""
    counts = np.zeros(max(len(edges) - 1, 1))
    bounds = np.asarray(edges if len(edges) > 1 else [edges[0], edges[0]] if edges else [0.0, 0.0], float)
    for low, high, count in buckets:
        if high <= low:
            index = min(max(int(np.searchsorted(bounds, low, side="right")) - 1, 0), len(counts) - 1)
            counts[index] += count
            continue
        overlap = np.clip(np.minimum(bounds[1:], high) - np.maximum(bounds[:-1], low), 0.0, None)
        counts += count * overlap / (high - low)
    return counts.tolist()


def _frequencies(feature: dict) -> dict[str, float]:
    stats = feature["stringStats"]
    buckets = stats.get("rankHistogram", {}).get("buckets")
    if buckets:
        return {b.get("label", ""): b.get("sampleCount", 0.0) for b in buckets}
    return {v.get("value", ""): v.get("frequency", 0.0) for v in stats.get("topValues", [])}


def _anomaly(path: str, detection: str, metric: str, value: float, threshold: float, worst: str | None) -> dict:
    pair = "training and serving" if detection == "SKEW" else "current and previous"
    name = "Linfty distance" if metric == "L_INFTY" else "approximate Jensen-Shannon divergence"
    short = f"High {name} between {pair}"
    text = f"The {name} between {pair} is {_significant(value)} (up to six significant digits), above the threshold {_significant(threshold)}."
    if worst is not None:
        text += f" The feature value with maximum difference is: {worst}"
    reason = "COMPARATOR_L_INFTY_HIGH" if metric == "L_INFTY" else "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"
    return {"path": {"step": path.split(".")}, "severity": "ERROR", "shortDescription": short, "description": text,
            "reason": [{"type": reason, "shortDescription": short, "description": text}]}  # fmt: skip


def _significant(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)

