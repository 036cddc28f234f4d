"""Replaying a model's TRANSFORM clause on new rows (models without one pass rows through)."""

from __future__ import annotations

import pyarrow as pa


def apply_transform(model, data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """The rows the model's features are computed from: ``data`` itself without a TRANSFORM."""
    if not model.spec.get("transform"):
        return data
    raise NotImplementedError("TRANSFORM replay is added with the TRANSFORM clause")
