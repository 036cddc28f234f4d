"""The report page: a Jinja template filled with the collected figures and the SVG charts."""

from __future__ import annotations

import datetime
import html
from pathlib import Path

import jinja2
from markupsafe import Markup

import sqlml
from sqlml.report import charts
from sqlml.report.collect import ReportData, collect

# Autoescaped: names and values are text; charts and tables come in as Markup, already safe HTML.
TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Model report: {{ data.model }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1f2328; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: right; }
th { background: #f6f8fa; } td.text, th.text { text-align: left; } .charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.bad { color: #cf222e; font-weight: 600; } .note { color: #59636e; } .scroll { overflow-x: auto; }
</style></head><body>
<h1>Model report: {{ data.model }}</h1>
<p>Version {{ data.record.version }} of <b>{{ data.record.dataset }}.{{ data.record.name }}</b>, a {{ data.record.model_type }} model,
trained {{ data.record.created_at }}{% if data.record.aliases %}; aliases {{ data.record.aliases | join(", ") }}{% endif %}.
Generated {{ generated }} by sqlml {{ version }}.</p>
<h2>Summary</h2>
<table>{% for key, value in summary %}<tr><th class="text">{{ key }}</th><td class="text">{{ value }}</td></tr>{% endfor %}</table>
<h2>Evaluation metrics</h2>
<table><tr>{% for key in data.metrics %}<th>{{ key }}</th>{% endfor %}</tr>
<tr>{% for value in data.metrics.values() %}<td>{{ fmt(value) }}</td>{% endfor %}</tr></table>
<div class="charts">{% for chart in performance %}{{ chart }}{% endfor %}</div>
{% if importance %}<h2>Feature importance</h2><p class="note">{{ data.importance_kind }}</p>{{ importance }}{% endif %}
<h2>Fairness</h2>
{% if data.fairness is not none %}
<p class="note">ML.EVALUATE_FAIRNESS by {{ data.sensitive_feature }}; a disparate impact below 0.8 fails the four-fifths rule.</p>
{{ table(data.fairness) }}{{ fairness_chart }}
{% else %}<p class="note">Not computed.</p>{% endif %}
<h2>Data skew against the training rows</h2>
{% if data.skew is not none %}{{ table(data.skew) }}{{ skew_chart }}{% else %}<p class="note">Not computed.</p>{% endif %}
{% for note in data.notes %}<p class="note">{{ note }}</p>{% endfor %}
</body></html>
"""
)


def write_report(con: sqlml.Connection, model: str, output: str | Path, data: str | None = None,
                 sensitive_feature: str | None = None, privileged_group: str | None = None) -> Path:  # fmt: skip
    """Collect the figures of ``model`` and write the HTML page to ``output``."""
    report = collect(con, model, data, sensitive_feature, privileged_group)
    target = Path(output)
    target.write_text(render(report), encoding="utf-8")
    return target


def render(report: ReportData) -> str:
    """The page's HTML."""
    performance = []
    if report.confusion is not None:
        performance.append(Markup(charts.confusion_matrix(report.confusion)))
    if report.roc is not None and report.roc.num_rows:
        performance.append(Markup(charts.roc_curve(report.roc, report.metrics.get("roc_auc"))))
        performance.append(Markup(charts.precision_recall_curve(report.roc)))
    importance = None
    if report.importance is not None and report.importance.num_rows:
        rows = report.importance.to_pylist()
        importance = Markup(charts.horizontal_bars([r["feature"] for r in rows], [r["value"] or 0.0 for r in rows], "Feature importance", "importance"))
    fairness_chart = skew_chart = ""
    if report.fairness is not None and report.fairness.num_rows:
        groups = report.fairness.to_pylist()
        labels = [str(g[report.sensitive_feature]) for g in groups]
        fairness_chart = Markup(charts.horizontal_bars(labels, [g["disparate_impact"] or 0.0 for g in groups], "Disparate impact by group", "disparate impact", reference=0.8))
    if report.skew is not None and report.skew.num_rows:
        rows = report.skew.to_pylist()
        skew_chart = Markup(charts.horizontal_bars([r["input"] for r in rows], [r["value"] for r in rows], "Skew by column", "distance", reference=rows[0]["threshold"]))
    meta = report.record.metadata
    split = meta.get("split") or {}
    summary = [
        ("label", (meta.get("label") or {}).get("name", "—")),
        ("features", ", ".join(meta.get("features") or [])),
        ("training rows", split.get("training_rows", "—")), ("evaluation rows", split.get("eval_rows", "—")),
        ("training time", f"{meta.get('training_seconds', 0):.2f} s"),
        ("training query", (meta.get("lineage") or {}).get("query", "—")),
    ]  # fmt: skip
    return TEMPLATE.render(
        data=report, summary=summary, performance=performance, importance=importance, fairness_chart=fairness_chart,
        skew_chart=skew_chart, table=_table, fmt=_fmt, version=sqlml.__version__,
        generated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )  # fmt: skip


def _fmt(value) -> str:
    """A cell's text (escaped where it goes into the pre-built tables; the template escapes its own)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return "NULL" if value is None else html.escape(str(value))


def _table(table) -> str:
    """An HTML table of an Arrow table, anomalies and failed four-fifths checks marked."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in table.column_names)
    body = []
    for row in table.to_pylist():
        cells = []
        for name, value in row.items():
            bad = (name == "is_anomaly" and value) or (name == "disparate_impact" and value is not None and value < 0.8)
            css = ' class="bad"' if bad else (' class="text"' if isinstance(value, str) else "")
            cells.append(f"<td{css}>{_fmt(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return Markup(f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>')
