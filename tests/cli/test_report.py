"""`sqlml report`: one self-contained HTML page with real charts, checked in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner

import sqlml
import sqlml.cli.report  # noqa: F401 — adds the report command to the group
from sqlml.cli.main import cli

CHARTS = ["Confusion matrix", "ROC curve", "Precision-recall curve", "Feature importance", "Disparate impact by group", "Skew by column"]


@pytest.fixture
def model_and_data(tmp_path):
    with sqlml.connect(tmp_path / "wh", tmp_path / "models") as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.applicants AS SELECT IF(MOD(i, 3) = 0, 'female', 'male') AS sex, MOD(i * 37, 100) AS income, "
            "MOD(i * 13, 60) AS debt, MOD(i * 37, 100) - MOD(i * 13, 60) + MOD(i * 29, 31) - IF(MOD(i, 3) = 0, 10, 0) > 25 AS approved "
            "FROM UNNEST(GENERATE_ARRAY(1, 800)) AS i"
        )
        con.query(
            "CREATE MODEL ds.credit OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['approved'], max_iterations=10) "
            "AS SELECT sex, income, debt, approved FROM ds.applicants"
        )
    return tmp_path


def make_report(folder, *extra) -> tuple[int, str]:
    target = folder / "report.html"
    target.unlink(missing_ok=True)
    result = CliRunner().invoke(
        cli, ["report", "ds.credit", "--warehouse", str(folder / "wh"), "--models", str(folder / "models"), "-o", str(target), *extra]
    )
    return result.exit_code, target.read_text() if target.exists() else result.stderr


def test_report_has_every_section_and_chart_and_needs_nothing_online(model_and_data):
    code, page = make_report(model_and_data, "--data", "ds.applicants", "--sensitive-feature", "sex", "--privileged-group", "male")
    assert code == 0, page
    for chart in CHARTS:
        assert f"<title>{chart}</title>" in page
    for heading in ("Summary", "Evaluation metrics", "Feature importance", "Fairness", "Data skew against the training rows"):
        assert f"<h2>{heading}</h2>" in page
    assert "<td class=\"text\">female</td>" in page and "roc_auc" in page
    assert "<script" not in page and 'src="http' not in page and "href=\"http" not in page


def test_without_data_the_report_says_what_is_missing(model_and_data):
    code, page = make_report(model_and_data)
    assert code == 0
    assert "<title>ROC curve</title>" in page and "<title>Skew by column</title>" not in page
    assert "run sqlml report with --data TABLE" in page
    code, output = make_report(model_and_data, "--data", "ds.nothing")
    assert code == 1 and "No table or view ds.nothing" in output


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs a chromium browser (apt install chromium)")
def test_headless_chromium_renders_the_charts(model_and_data):
    code, _ = make_report(model_and_data, "--data", "ds.applicants", "--sensitive-feature", "sex")
    assert code == 0
    report = model_and_data / "report.html"
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    for chart in CHARTS:
        assert f'aria-label="{chart}"' in dom
    shot = model_and_data / "report.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a rendered page with charts, not a blank one
