"""The report page: a Jinja template filled with the collected figures and the SVG charts."""

from __future__ import annotations

import datetime
from pathlib import Path

import jinja2

import sqlml
from sqlml.report.collect import ReportData, collect
from sqlml.report.figures import draw, fmt, html_table

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
    figures = draw(report)
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
        data=report, summary=summary, performance=figures.performance, importance=figures.importance, fairness_chart=figures.fairness,
        skew_chart=figures.skew, table=html_table, fmt=fmt, version=sqlml.__version__,
        generated=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )  # fmt: skip

