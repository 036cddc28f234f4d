"""Changes through `sqlml ui`: alias moves and rollback (ALTER MODEL, shown on the page), the SQL
box, and the token rule — read-only without --token-file, 403 without the token, the login cookie."""

from __future__ import annotations

import html

import pytest

from sqlml.ui.sql_view import only_reads
from sqlml.ui.web import NEEDS_TOKEN, READ_ONLY
from tests.ui.conftest import TOKEN
from tests.ui.html_tables import records, tables

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def aliases(con, model: str = "ds.credit") -> dict[int, list[str]]:
    return {r["version"]: r["aliases"] for r in con.query(f"SELECT version, aliases FROM ML.VERSIONS(MODEL {model})").arrow().to_pylist()}


def test_moving_an_alias_runs_alter_model_shows_it_and_changes_ml_versions(client, store):
    con, _ = store
    page = client.post("/models/ds/credit/alias", data={"alias": "staging", "version": "1"}, headers=BEARER)
    assert page.status_code == 200
    assert "Ran: <code>ALTER MODEL `ds.credit@1` SET OPTIONS(version_aliases=[&#39;staging&#39;])</code>" in page.text
    assert "staging" in aliases(con)[1]
    page = client.post("/models/ds/credit/alias", data={"alias": "staging", "version": "2"}, headers=BEARER)
    assert "staging" in aliases(con)[2] and "staging" not in aliases(con)[1]
    # rollback is one click: the alias goes to the newest older version, with the SQL shown
    assert '<button type="submit" id="rollback-staging">Roll back staging to v1</button>' in page.text
    page = client.post("/models/ds/credit/rollback", data={"alias": "staging"}, headers=BEARER)
    assert page.status_code == 200 and "ALTER MODEL `ds.credit@1` SET OPTIONS(version_aliases=[&#39;staging&#39;])" in page.text
    assert "staging" in aliases(con)[1]
    page = client.post("/models/ds/credit/rollback", data={"alias": "staging"}, headers=BEARER)
    assert page.status_code == 400 and "ds.credit@staging has no older version to roll back to." in page.text


def test_a_bad_alias_or_version_is_refused_with_the_rule_and_changes_nothing(client, store):
    con, _ = store
    before = aliases(con)
    page = client.post("/models/ds/credit/alias", data={"alias": "1st", "version": "1"}, headers=BEARER)
    assert page.status_code == 400 and "&#39;1st&#39; cannot be a version alias: it does not start with a letter." in page.text
    page = client.post("/models/ds/credit/alias", data={"alias": "canary", "version": "9"}, headers=BEARER)
    assert page.status_code == 404 and "Model ds.credit has no version 9." in page.text
    page = client.post("/models/ds/credit/alias", data={"alias": "canary", "version": "x"}, headers=BEARER)
    assert page.status_code == 400 and "Version &#39;x&#39; is not a version number." in page.text
    assert aliases(con) == before


@pytest.mark.parametrize("path", ["/models/ds/credit/alias", "/models/ds/credit/rollback"])
def test_changes_without_the_token_are_403_and_change_nothing(client, reader, store, path):
    con, _ = store
    before = aliases(con)
    form = {"alias": "production", "version": "1"}
    for app, headers, message in ((reader, BEARER, READ_ONLY), (client, {}, NEEDS_TOKEN), (client, {"Authorization": "Bearer wrong"}, NEEDS_TOKEN)):
        page = app.post(path, data=form, headers=headers)
        assert page.status_code == 403 and html.escape(message) in page.text
    assert aliases(con) == before


def test_the_login_form_sets_a_cookie_that_allows_changes(client, store):
    con, _ = store
    assert "Moving aliases needs the token" in client.get("/models/ds/tuned").text
    wrong = client.post("/login", data={"token": "guess"})
    assert wrong.status_code == 403 and "That is not the token." in wrong.text
    done = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert done.status_code == 303 and "httponly" in done.headers["set-cookie"].lower() and "samesite=strict" in done.headers["set-cookie"].lower()
    page = client.get("/models/ds/tuned")
    assert 'id="alias-form"' in page.text
    page = client.post("/models/ds/tuned/alias", data={"alias": "production", "version": "1"})
    assert page.status_code == 200 and "production" in aliases(con, "ds.tuned")[1]
    client.post("/logout")
    assert client.post("/models/ds/tuned/alias", data={"alias": "production", "version": "1"}).status_code == 403


def test_the_sql_box_runs_queries_for_anyone_and_shows_the_result(reader, store):
    con, _ = store
    sql = "SELECT sex, COUNT(*) AS n FROM ds.applicants GROUP BY sex ORDER BY sex"
    page = reader.post("/sql", data={"sql": sql})
    assert page.status_code == 200
    assert tables(page.text)["result"] == [["sex", "n"], *[[s, str(n)] for s, n in con.query(sql).fetchall()]]
    evaluation = reader.post("/sql", data={"sql": "SELECT * FROM ML.EVALUATE(MODEL ds.credit)"})
    assert records(evaluation.text, "result")[0]["roc_auc"] == f"{con.query('SELECT roc_auc FROM ML.EVALUATE(MODEL ds.credit)').scalar():.4g}"
    bad = reader.post("/sql", data={"sql": "SELECT nope FROM ds.applicants"})
    assert bad.status_code == 400 and 'Unknown column nope.' in bad.text and ">SELECT nope FROM ds.applicants</textarea>" in bad.text


def test_writing_sql_needs_the_token(reader, client, store):
    con, _ = store
    for app, headers, message in ((reader, BEARER, READ_ONLY), (client, {}, NEEDS_TOKEN)):
        page = app.post("/sql", data={"sql": "CREATE TABLE ds.made AS SELECT 1 AS x"}, headers=headers)
        assert page.status_code == 403 and html.escape(message) in page.text
    assert con.relation_kind("ds.made") is None
    page = client.post("/sql", data={"sql": "CREATE TABLE ds.made AS SELECT 1 AS x; INSERT INTO ds.made VALUES (2), (3)"}, headers=BEARER)
    assert page.status_code == 200 and '<p id="affected">2 row(s) affected.</p>' in page.text
    assert con.query("SELECT COUNT(*) FROM ds.made").scalar() == 3
    con.query("DROP TABLE ds.made")


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("SELECT 1", True),
        ("WITH a AS (SELECT 1 AS x) SELECT x FROM a UNION ALL SELECT 2", True),
        ("SELECT * FROM ML.PREDICT(MODEL ds.m, TABLE ds.t); SELECT 2", True),
        ("SELECT 1; DELETE FROM ds.t WHERE TRUE", False),
        ("CREATE MODEL ds.m OPTIONS(model_type='linear_reg') AS SELECT 1 AS y", False),
        ("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['production'])", False),
        ("EXPORT DATA OPTIONS(uri='/tmp/x*.csv', format='CSV') AS SELECT 1", False),
        ("DECLARE x INT64 DEFAULT 1", False),
        ("BEGIN SELECT 1; END", False),
        ("DROP TABLE ds.t", False),
    ],
)
def test_only_queries_count_as_reads(sql, reads):
    assert only_reads(sql, "bigquery") is reads
