"""The charts the UI adds to `sqlml report`'s: the parallel-coordinates view of runs."""

from __future__ import annotations

import re

from sqlml.report.charts import parallel_coordinates


def test_parallel_coordinates_scale_each_axis_to_its_range_with_choices_at_their_rank():
    rows = [
        {"learn_rate": 0.1, "booster_type": "GBTREE", "roc_auc": 0.8},
        {"learn_rate": 0.3, "booster_type": "DART", "roc_auc": 0.9},
        {"learn_rate": None, "booster_type": "DART", "roc_auc": 0.85},
    ]
    svg = parallel_coordinates(["learn_rate", "booster_type"], rows, "roc_auc", ["v1", "v2", "v3"])
    assert svg.startswith("<svg") and '<title>Parallel coordinates</title>' in svg
    texts = re.findall(r"<!-- (.*?) -->", svg)  # Matplotlib keeps each drawn text as a comment
    for text in ("learn_rate", "booster_type", "roc_auc", "v1", "v2", "v3", "0.1", "0.3", "DART", "GBTREE", "0.8", "0.9"):
        assert text in texts, text
