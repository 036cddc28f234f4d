"""Value distributions of input columns and the distances between two of them (skew and drift).

BigQuery's ML.VALIDATE_DATA_SKEW / ML.VALIDATE_DATA_DRIFT compare histograms the TFDV way
(https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-validate-data-drift):

* categorical columns (STRING, BOOL, dates…): the L-infinity distance between the two value
  frequency vectors (the largest difference of one value's share), or their Jensen-Shannon
  divergence;
* numeric columns: the Jensen-Shannon divergence (base 2, so between 0 and 1) of histograms
  over the same buckets — equal-width over the values' range, plus one bucket below and one
  above, so values outside the range the reference saw count as moved.

A :class:`Distribution` is small and JSON-able: CREATE MODEL keeps one per input column, so that
skew is measured later without the training data.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.ml.preprocessing.automatic.encoders import as_float
from sqlml.ml.preprocessing.automatic.preprocessor import is_numeric_type

#: Categorical values kept per column (the rest count together as one "other" value).
MAX_CATEGORIES = 1000
OTHER = "\x00other"
#: Rows sampled (evenly) to profile a training column: ample for histogram shares.
SAMPLE_ROWS = 100_000
METRICS = ("L_INFTY", "JENSEN_SHANNON_DIVERGENCE")


def kind_of(arrow_type: pa.DataType) -> str | None:
    """``numeric``, ``categorical``, or None for columns not compared (arrays, structs)."""
    if is_numeric_type(arrow_type):
        return "numeric"
    if pa.types.is_nested(arrow_type):
        return None
    return "categorical"


def profile(column: pa.Array | pa.ChunkedArray, buckets: int = 10, edges: list[float] | None = None, step: int = 1) -> dict | None:
    """The distribution of a column's non-NULL values (every ``step``-th row of each chunk):
    histogram counts over ``edges`` (equal width over the values' range when not given) for
    numbers, value counts otherwise."""
    kind = kind_of(column.type)
    if kind is None:
        return None
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if kind == "numeric":
        # NULL is NaN after as_float; a strided view of a chunk copies nothing.
        values = np.concatenate([as_float(chunk)[::step] for chunk in chunks]) if chunks else np.empty(0)
        values = values[~np.isnan(values)]
        if edges is None:
            low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
            edges = np.linspace(low, high if high > low else low + 1.0, buckets + 1).tolist()
        return {"kind": kind, "edges": list(edges), "counts": _histogram(values, edges).tolist()}
    sampled = [chunk.take(pa.array(np.arange(0, len(chunk), step))) if step > 1 else chunk for chunk in chunks]
    column = pa.chunked_array(sampled, type=column.type)
    column = column.filter(pc.is_valid(column))
    counts = pc.value_counts(column.cast(pa.string()))
    pairs = sorted(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()), key=lambda p: (-p[1], p[0]))
    kept = dict(pairs[:MAX_CATEGORIES])
    rest = sum(count for _, count in pairs[MAX_CATEGORIES:])
    if rest:
        kept[OTHER] = rest
    return {"kind": kind, "counts": kept}


def profile_table(table: pa.Table, columns: list[str], buckets: int = 10) -> dict[str, dict]:
    """Distributions of ``columns``, from an even sample of at most :data:`SAMPLE_ROWS` rows."""
    step = max(1, -(-table.num_rows // SAMPLE_ROWS))
    profiles = {}
    for name in columns:
        found = profile(table.column(name), buckets, step=step)
        if found is not None:
            profiles[name] = found
    return profiles


def shared_edges(base: pa.Array, study: pa.Array, buckets: int) -> list[float]:
    """Equal-width bucket edges over the range both numeric columns cover."""
    values = np.concatenate([as_float(c.filter(pc.is_valid(c))) for c in (base, study)])
    values = values[~np.isnan(values)]
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    return np.linspace(low, high if high > low else low + 1.0, buckets + 1).tolist()


def distance(reference: dict, other: dict, metric: str) -> float:
    """L_INFTY or JENSEN_SHANNON_DIVERGENCE between two distributions of the same kind."""
    if reference["kind"] == "numeric":
        p, q = np.asarray(reference["counts"], float), np.asarray(other["counts"], float)
    else:
        values = sorted(set(reference["counts"]) | set(other["counts"]))
        p = np.array([reference["counts"].get(v, 0) for v in values], float)
        q = np.array([other["counts"].get(v, 0) for v in values], float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0 if p.sum() == q.sum() else 1.0
    p, q = p / p.sum(), q / q.sum()
    if metric == "L_INFTY":
        return float(np.abs(p - q).max())
    middle = (p + q) / 2
    return float(0.5 * _kl(p, middle) + 0.5 * _kl(q, middle))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def _histogram(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bucket (the edges are equal-width), with one bucket below the first edge and
    one above the last."""
    low, high = edges[0], edges[-1]
    below, above = np.count_nonzero(values < low), np.count_nonzero(values > high)
    # NumPy's uniform-bins path (bins=k, range=…) is several times faster than searching edges.
    inner, _ = np.histogram(values, bins=len(edges) - 1, range=(low, high))
    return np.concatenate([[below], inner, [above]])
