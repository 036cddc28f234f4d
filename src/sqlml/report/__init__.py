"""``sqlml report``: one self-contained HTML page about a model, for people to read.

* :mod:`.collect` gathers the figures with sqlml's own SQL (ML.EVALUATE, ML.CONFUSION_MATRIX,
  ML.ROC_CURVE, ML.FEATURE_IMPORTANCE / ML.WEIGHTS, ML.EVALUATE_FAIRNESS, ML.VALIDATE_DATA_SKEW);
* :mod:`.charts` draws them with Matplotlib as inline SVG (no script, no CDN: the page opens
  offline and prints);
* :mod:`.page` lays them out with a Jinja template.
"""

from sqlml.report.page import write_report

__all__ = ["write_report"]
