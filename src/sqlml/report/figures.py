"""The report's figures as HTML pieces: the charts of a :class:`~sqlml.report.collect.ReportData`
and the tables beside them, shared by ``sqlml report``'s page and ``sqlml ui``'s model page."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from markupsafe import Markup

from sqlml.report import charts
from sqlml.report.collect import ReportData


@dataclass
class Figures:
    """The charts of one model; an entry is empty where its data was not collected."""

    performance: list[Markup] = field(default_factory=list)  # confusion matrix, ROC, precision-recall
    importance: Markup | None = None
    fairness: Markup | str = ""
    skew: Markup | str = ""


def draw(report: ReportData) -> Figures:
    """Draw every chart the collected data allows."""
    figures = Figures()
    if report.confusion is not None:
        figures.performance.append(Markup(charts.confusion_matrix(report.confusion)))
    if report.roc is not None and report.roc.num_rows:
        figures.performance.append(Markup(charts.roc_curve(report.roc, report.metrics.get("roc_auc"))))
        figures.performance.append(Markup(charts.precision_recall_curve(report.roc)))
    if report.importance is not None and report.importance.num_rows:
        rows = report.importance.to_pylist()
        figures.importance = Markup(charts.horizontal_bars([r["feature"] for r in rows], [r["value"] or 0.0 for r in rows], "Feature importance", "importance"))
    if report.fairness is not None and report.fairness.num_rows:
        groups = report.fairness.to_pylist()
        labels = [str(g[report.sensitive_feature]) for g in groups]
        figures.fairness = Markup(charts.horizontal_bars(labels, [g["disparate_impact"] or 0.0 for g in groups], "Disparate impact by group", "disparate impact", reference=0.8))
    if report.skew is not None and report.skew.num_rows:
        rows = report.skew.to_pylist()
        figures.skew = Markup(charts.horizontal_bars([r["input"] for r in rows], [r["value"] for r in rows], "Skew by column", "distance", reference=rows[0]["threshold"]))
    return figures


def fmt(value) -> str:
    """A cell's text (escaped where it goes into the pre-built tables; the templates escape their own)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "NULL" if value is None else html.escape(str(value))


def html_table(table) -> Markup:
    """An HTML table of an Arrow table, anomalies and failed four-fifths checks marked."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in table.column_names)
    body = []
    for row in table.to_pylist():
        cells = []
        for name, value in row.items():
            bad = (name == "is_anomaly" and value) or (name == "disparate_impact" and value is not None and value < 0.8)
            css = ' class="bad"' if bad else (' class="text"' if isinstance(value, str) else "")
            cells.append(f"<td{css}>{fmt(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Markup(f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>')
