"""Every page of `sqlml ui` read through FastAPI's TestClient: the figures shown are those of
sqlml's own SQL (INFORMATION_SCHEMA, ML.EVALUATE, ML.VERSIONS, ML.TRIAL_INFO, the run history)."""

from __future__ import annotations

import re

from sqlml.report.figures import fmt
from tests.ui.html_tables import by_label, records, tables


def rows_of(con, sql: str) -> list[dict]:
    return con.query(sql).arrow().to_pylist()


def test_the_datasets_page_lists_every_table_with_rows_columns_and_partitioning(reader):
    page = reader.get("/datasets")
    assert page.status_code == 200
    head = ["table", "type", "rows", "columns", "partitioned by"]
    assert tables(page.text)["tables-ds"] == [head, ["applicants", "BASE TABLE", "400", "5", "signup"]]
    assert tables(page.text)["tables-shop"] == [head, ["points", "BASE TABLE", "40", "2", "—"], ["scored", "VIEW", "—", "2", "—"]]
    assert "sqlml_meta" not in page.text


def test_a_table_page_shows_columns_partitions_and_first_rows(reader, store):
    con, _ = store
    page = reader.get("/tables/ds/applicants")
    assert page.status_code == 200
    assert re.search(r'<b id="row-count">400</b> rows, partitioned by signup', page.text)
    assert tables(page.text)["columns"][1:] == [
        ["sex", "STRING", "YES", "NO"], ["income", "INT64", "YES", "NO"], ["debt", "INT64", "YES", "NO"],
        ["signup", "DATE", "YES", "YES"], ["approved", "BOOL", "YES", "NO"],
    ]  # fmt: skip
    counts = rows_of(con, "SELECT FORMAT_DATE('%Y%m%d', signup) AS id, COUNT(*) AS n FROM ds.applicants GROUP BY 1 ORDER BY 1")
    assert [row[:2] for row in tables(page.text)["partitions"][1:]] == [[r["id"], str(r["n"])] for r in counts]
    first = con.query("SELECT * FROM ds.applicants LIMIT 20").fetchall()
    assert tables(page.text)["first-rows"][1:] == [[fmt(v) for v in row] for row in first]


def test_a_missing_table_is_a_404_naming_the_tables_there(reader):
    page = reader.get("/tables/ds/nope")
    assert page.status_code == 404
    assert "Table ds.nope was not found." in page.text and "Tables of ds: applicants." in page.text


def test_the_models_page_shows_type_current_version_aliases_headline_metric_and_training_time(reader, store):
    con, _ = store
    page = reader.get("/models")
    assert page.status_code == 200
    shown = {row["model"]: row for row in records(page.text, "models")}
    assert list(shown) == ["ds.credit", "ds.tuned", "shop.fit"]
    credit = rows_of(con, "SELECT * FROM ML.EVALUATE(MODEL ds.credit)")[0]
    latest = rows_of(con, "SELECT version, creator, created_at FROM ML.VERSIONS(MODEL ds.credit) ORDER BY version DESC LIMIT 1")[0]
    assert shown["ds.credit"]["type"] == "BOOSTED_TREE_CLASSIFIER" and shown["ds.credit"]["current version"] == "2"
    assert shown["ds.credit"]["versions"] == "2" and "default→2" in shown["ds.credit"]["aliases"]
    assert (shown["ds.credit"]["headline metric"], shown["ds.credit"]["value"]) == ("roc_auc", fmt(credit["roc_auc"]))
    assert shown["ds.credit"]["last trained"] == latest["created_at"].strftime("%Y-%m-%d %H:%M:%S")
    assert shown["ds.credit"]["by"] == latest["creator"]
    # the gated retrain kept version 1 current: the page says so, with version 1's R²
    fit = rows_of(con, "SELECT * FROM ML.EVALUATE(MODEL shop.fit)")[0]
    assert (shown["shop.fit"]["current version"], shown["shop.fit"]["versions"]) == ("1", "2")
    assert (shown["shop.fit"]["headline metric"], shown["shop.fit"]["value"]) == ("r2_score", fmt(fit["r2_score"]))


def test_the_model_page_puts_versions_side_by_side_and_draws_the_reports_charts(reader, store):
    con, _ = store
    page = reader.get("/models/ds/credit")
    assert page.status_code == 200
    versions = rows_of(con, "SELECT * FROM ML.VERSIONS(MODEL ds.credit) ORDER BY version")
    side = by_label(page.text, "versions")
    for field in ("training_rows", "eval_rows", "data_fingerprint", "creator", "model_type"):
        assert side[field] == [fmt(v[field]) for v in versions], field
    assert side["roc_auc"] == [fmt(v["roc_auc"]) for v in versions]
    assert side["learn_rate"] == ["0.3", "0.2"] and side["max_iterations"] == ["5", "8"]
    assert "l2_reg" not in side  # the same in both: under "options the same in every version"
    evaluation = rows_of(con, "SELECT * FROM ML.EVALUATE(MODEL ds.credit)")[0]
    assert tables(page.text)["evaluation"] == [list(evaluation), [fmt(v) for v in evaluation.values()]]
    for chart in ("Training curve", "Confusion matrix", "ROC curve", "Precision-recall curve", "Feature importance"):
        assert f"<title>{chart}</title>" in page.text, chart
    assert "Disparate impact by group" not in page.text


def test_the_model_page_shows_any_version_and_fairness_and_skew_on_request(reader, store):
    con, _ = store
    page = reader.get("/models/ds/credit", params={"version": 1, "data": "ds.applicants", "sensitive_feature": "sex"})
    assert page.status_code == 200
    assert '<b id="shown-version">1</b>' in page.text
    evaluation = rows_of(con, "SELECT * FROM ML.EVALUATE(MODEL `ds.credit@1`)")[0]
    assert tables(page.text)["evaluation"][1] == [fmt(v) for v in evaluation.values()]
    assert "<title>Disparate impact by group</title>" in page.text and "<title>Skew by column</title>" in page.text


def test_a_tuned_models_page_evaluates_its_optimal_trial(reader, store):
    con, _ = store
    page = reader.get("/models/ds/tuned")
    optimal = con.query("SELECT trial_id FROM ML.TRIAL_INFO(MODEL ds.tuned) WHERE is_optimal").scalar()
    evaluation = [r for r in rows_of(con, "SELECT * FROM ML.EVALUATE(MODEL ds.tuned)") if r["trial_id"] == optimal]
    assert tables(page.text)["evaluation"] == [list(evaluation[0]), [fmt(v) for v in evaluation[0].values()]]
    assert f"model (AUC {evaluation[0]['roc_auc']:.3f})" in page.text  # the ROC curve's legend, drawn as text
    assert 'id="compare-trials"' in page.text and "<title>Training curve</title>" not in page.text


def test_fairness_data_must_be_an_existing_table(reader, store):
    con, _ = store
    for data in ("ds.nothing", "ds.applicants); DROP TABLE ds.applicants; --"):
        page = reader.get("/models/ds/credit", params={"data": data, "sensitive_feature": "sex"})
        assert page.status_code == 404 and "to check fairness and skew on." in page.text
    assert con.relation_kind("ds.applicants") == "table"


def test_a_missing_model_or_version_is_a_404_with_sqlmls_message(reader):
    page = reader.get("/models/ds/nope")
    assert page.status_code == 404 and "Model &#39;ds.nope&#39; was not found." in page.text
    page = reader.get("/models/ds/credit", params={"version": 7})
    assert page.status_code == 404 and "Model ds.credit has no version 7." in page.text


def test_compare_diffs_two_versions_and_draws_parallel_coordinates(reader, store):
    con, _ = store
    page = reader.get("/compare", params={"model": "ds.credit", "version": [1, 2]})
    assert page.status_code == 200
    versions = rows_of(con, "SELECT * FROM ML.VERSIONS(MODEL ds.credit) ORDER BY version")
    metrics = by_label(page.text, "compare-metrics")
    assert metrics[""] == ["v1", "v2"]
    for name in ("roc_auc", "log_loss", "accuracy"):
        assert metrics[name] == [fmt(v[name]) for v in versions]
    options = by_label(page.text, "compare-options")
    assert options == {"": ["v1", "v2"], "learn_rate": ["0.3", "0.2"], "max_iterations": ["5", "8"]}
    chart = page.text[page.text.index('aria-label="Parallel coordinates"') :]
    assert "<title>Parallel coordinates</title>" in chart and "learn_rate" in chart and "roc_auc" in chart


def test_compare_needs_two_existing_versions(reader):
    page = reader.get("/compare", params={"model": "ds.credit", "version": [2]})
    assert page.status_code == 400 and "Pick two or more versions to compare." in page.text
    page = reader.get("/compare", params={"model": "ds.credit", "version": [1, 9]})
    assert page.status_code == 404 and "Model ds.credit has no version 9." in page.text


def test_compare_of_tuning_trials_shows_each_trials_hyperparameters_and_metrics(reader, store):
    con, _ = store
    page = reader.get("/compare", params={"model": "ds.tuned", "tuned": "true"})
    assert page.status_code == 200
    trials = rows_of(con, "SELECT * FROM ML.TRIAL_INFO(MODEL ds.tuned) ORDER BY trial_id")
    labels = [f"trial {t['trial_id']}" + (" (optimal)" if t["is_optimal"] else "") for t in trials]
    metrics = by_label(page.text, "compare-metrics")
    assert metrics[""] == labels
    assert metrics["roc_auc"] == [fmt(t["hparam_tuning_evaluation_metrics"]["roc_auc"]) for t in trials]
    hyperparameters = {**by_label(page.text, "compare-options")}
    assert hyperparameters["learn_rate"] == [fmt(t["hyperparameters"]["learn_rate"]) for t in trials]
    assert "<title>Parallel coordinates</title>" in page.text
    assert [f'id="trial-{t["trial_id"]}"' in page.text for t in trials] == [True] * len(trials)
    picked = reader.get("/compare", params={"model": "ds.tuned", "trials_of": 1, "trial": [1, 3]})
    assert by_label(picked.text, "compare-metrics")[""] == [labels[0], labels[2]]
    page = reader.get("/compare", params={"model": "ds.credit", "tuned": "true"})
    assert page.status_code == 400 and "ML.TRIAL_INFO needs a model trained with num_trials" in page.text


def test_runs_pages_show_runs_node_outcomes_gates_and_the_dag(reader, store):
    con, _ = store
    page = reader.get("/runs")
    recorded = rows_of(con, "SELECT run_id, status, nodes, failures FROM sqlml_meta.runs ORDER BY started_at DESC")
    shown = records(page.text, "runs")
    assert [(r["run"], r["status"], r["nodes"], r["failures"]) for r in shown] == [
        (r["run_id"], r["status"], str(r["nodes"]), str(r["failures"])) for r in recorded
    ]
    page = reader.get(f"/runs/{recorded[0]['run_id']}")
    assert page.status_code == 200
    nodes = {r["node"]: r for r in records(page.text, "node-runs")}
    assert (nodes["points"]["status"], nodes["points"]["rows written"]) == ("success", "40")
    assert nodes["fit"]["status"] == "gate_failed" and "gate failed: r2_score >= 1.5" in nodes["fit"]["error, gate or message"]
    assert "version 1 stays current" in nodes["fit"]["error, gate or message"]
    dag = page.text[page.text.index('aria-label="DAG"') :]
    drawn = {name: (status, int(x)) for name, status, x in re.findall(r'data-node="(\w+)" data-status="(\w+)">.*?<rect x="(\d+)"', dag)}
    assert {name: status for name, (status, _) in drawn.items()} == {"points": "success", "fit": "gate_failed", "scored": "success"}
    assert drawn["points"][1] < drawn["fit"][1] < drawn["scored"][1]  # each node right of what it depends on
    assert dag.count("<line ") == 3  # points → fit, points → scored, fit → scored
    missing = reader.get("/runs/000000000000")
    assert missing.status_code == 404 and "No run 000000000000 was recorded." in missing.text


def test_pages_need_nothing_online_and_no_script(reader):
    for url in ("/models", "/models/ds/credit", "/compare?model=ds.credit&version=1&version=2", "/datasets", "/runs", "/sql", "/login"):
        page = reader.get(url).text
        assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page), url
        assert '<link rel="stylesheet" href="/static/ui.css">' in page
    css = reader.get("/static/ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "@import" not in css.text
    assert reader.get("/nowhere").status_code == 404
