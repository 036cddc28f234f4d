"""`sqlml shell` without a terminal: statement ends, dot-commands, output modes, completion,
scripts piped in or given with -c and their exit status."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from prompt_toolkit.document import Document

import sqlml.cli.shell  # noqa: F401 — adds the shell command to the group
from sqlml.cli.main import cli
from sqlml.shell.completion import SqlCompleter
from sqlml.shell.session import Session
from sqlml.shell.statement_input import is_complete
from sqlml.sql.dialect import DIALECTS


@pytest.fixture
def session(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.orders AS SELECT x AS id, MOD(x, 3) = 0 AS big, 10.0 * x AS amount FROM UNNEST(GENERATE_ARRAY(1, 60)) AS x")
    out, err = io.StringIO(), io.StringIO()
    shell = Session(con, out=out, err=err, interactive=False)
    yield shell
    shell.close()


def output(shell: Session) -> str:
    text = shell.out.getvalue()
    shell.out.seek(0)
    shell.out.truncate()
    return text


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("SELECT 1", False),
        ("SELECT 1;", True),
        ("SELECT 'a;", False),  # inside a string
        ("SELECT 1 /* ; */", False),
        ("BEGIN\n  SELECT 1;", False),
        ("BEGIN\n  SELECT 1;\nEND;", True),
        ("IF TRUE THEN SELECT 1;", False),
        ("IF TRUE THEN SELECT 1; END IF;", True),
        ("CREATE PROCEDURE ds.p() BEGIN SELECT 1;", False),
        ("CREATE PROCEDURE ds.p() BEGIN SELECT 1; END;", True),
        ("BEGIN TRANSACTION;", True),
        ("SELECT CASE WHEN TRUE THEN 1 END;", True),
        ("SELEC 1;", True),  # a syntax error runs, to be reported, rather than waiting for more
    ],
)
def test_input_runs_once_it_is_a_complete_script(text, complete):
    assert is_complete(text, DIALECTS["bigquery"]) is complete


def test_results_print_as_a_table_with_a_row_count(session):
    assert session.run("SELECT id, big, amount FROM ds.orders WHERE id <= 2 ORDER BY id;")
    assert output(session).splitlines() == [
        "+----+-------+--------+",
        "| id | big   | amount |",
        "+----+-------+--------+",
        "|  1 | false |     10 |",
        "|  2 | false |     20 |",
        "+----+-------+--------+",
    ]
    assert "(2 rows)" in session.err.getvalue()


def test_long_results_are_cut_with_the_total_and_wide_ones_turn_vertical(session, monkeypatch):
    session.run("SELECT id FROM ds.orders ORDER BY id;")
    assert output(session).count("\n") == 40 + 4
    assert "(60 rows, first 40 shown (.maxrows N to change))" in session.err.getvalue()
    monkeypatch.setenv("COLUMNS", "30")
    session.run("SELECT 'a rather long value here' AS first_column, 'and another long one' AS second_column;")
    text = output(session)
    assert "-[ RECORD 1 ]" in text and "second_column | and another long one" in text


def test_nested_values_and_null_print_readably(session):
    session.run("SELECT [STRUCT(TRUE AS label, 0.75 AS prob), STRUCT(FALSE, 0.25)] AS probs, NULL AS missing;")
    text = output(session)
    assert "[{label: true, prob: 0.75}, {label: false, prob: 0.25}]" in text and "| NULL    |" in text


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("csv", "id,big\n1,false\n"),
        ("markdown", "| id | big |\n|---|---|\n| 1 | false |\n"),
        ("vertical", "-[ RECORD 1 ]--------------------\n id | 1\nbig | false\n"),
    ],
)
def test_mode_changes_the_output_format(session, mode, expected):
    assert session.run(f".mode {mode}")
    session.run("SELECT id, big FROM ds.orders WHERE id = 1;")
    assert output(session) == expected


def test_json_mode(session):
    session.run(".mode json")
    session.run("SELECT id FROM ds.orders WHERE id < 3 ORDER BY id;")
    assert json.loads(output(session)) == [{"id": 1}, {"id": 2}]


def test_catalog_dot_commands(session):
    session.connection.query("CREATE VIEW ds.big_orders AS SELECT * FROM ds.orders WHERE big")
    session.run(".tables ds")
    text = output(session)
    assert "| ds           | big_orders | VIEW       |" in text and "| ds           | orders     | BASE TABLE |" in text
    session.run(".schema ds.orders")
    text = output(session)
    assert "| id          | INT64     |" in text and "| amount      | FLOAT64   |" in text
    assert not session.run(".schema ds.nothing")
    assert "No table or view ds.nothing" in session.err.getvalue()


def test_describe_shows_a_model_on_one_screen(session):
    session.connection.query(
        "CREATE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['big'], max_iterations=5) AS SELECT id, amount, big FROM ds.orders"
    )
    session.run(".models ds")
    assert "| ds           | m          |             1 |" in output(session)
    assert session.run(".describe ds.m")
    text = output(session)
    assert text.startswith("Model ds.m, version 1: LOGISTIC_REG")
    for part in ("Options: ", "max_iterations=5", "Label: big (bool), classes [false, true]", "Features:",
                 "  amount: min 10, max 600", "Metrics: ", "roc_auc ", "Training: ", "Query: SELECT id, amount, big FROM ds.orders"):  # fmt: skip
        assert part in text, part
    session.connection.query(
        "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='logistic_reg', input_label_cols=['big'], max_iterations=3) AS SELECT id, big FROM ds.orders"
    )
    session.connection.query("ALTER MODEL `ds.m@1` SET OPTIONS(version_aliases=['production'])")
    session.run(".models ds")
    listing = output(session)
    assert "| ds           | m          |             2 |               2 | default=2, production=1 |" in listing, listing
    session.run(".describe ds.m@production")
    text = output(session)
    assert text.startswith("Model ds.m, version 1: LOGISTIC_REG") and "Aliases: production" in text
    assert not session.run(".describe ds.nope")
    assert "ds.nope" in session.err.getvalue()


def test_timer_output_read_and_dialect(session, tmp_path):
    session.run(".timer on")
    session.run("SELECT 1;")
    assert "Run time: " in session.err.getvalue()
    output(session)
    target = tmp_path / "out.txt"
    session.run(f".output {target}")
    session.run("SELECT 7 AS seven;")
    session.run(".output")
    assert "|     7 |" in target.read_text() and output(session) == ""
    script = tmp_path / "s.sql"
    script.write_text("CREATE TABLE ds.copy AS SELECT * FROM ds.orders;\nSELECT COUNT(*) AS n FROM ds.copy;\n")
    assert session.run(f".read {script}")
    assert "| 60 |" in output(session)
    session.run(".dialect duckdb")
    session.run("SELECT list_sum([1, 2, 3]) AS s;")
    assert "| 6 |" in output(session)


def test_errors_are_one_message_and_the_session_goes_on(session):
    assert not session.run("SELECT nope FROM ds.orders;")
    assert not session.run(".tabels")
    assert session.run("SELECT 1 AS ok;")
    err = session.err.getvalue()
    assert "Error: Unknown column nope" in err and "Traceback" not in err
    assert "Unknown command .tabels. Did you mean .tables?" in err


def test_completion_offers_catalog_names_functions_types_and_options(session):
    completer = SqlCompleter(session, DIALECTS["bigquery"])

    def offered(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), None)]

    assert "orders" in offered("SELECT * FROM ds.or")
    assert offered("SELECT * FROM ML.PRED") == ["PREDICT"]
    assert "amount" in offered("SELECT ds.orders.am")
    assert "boosted_tree_classifier" in offered("CREATE MODEL ds.m OPTIONS(model_type='boosted")
    assert "max_iterations" in offered("CREATE MODEL ds.m OPTIONS(max_it")
    assert "SELECT" in offered("SEL")
    # refreshed after DDL
    session.run("CREATE TABLE ds.returns AS SELECT 1 AS id;")
    assert "returns" in offered("SELECT * FROM ds.re")


def test_a_transaction_typed_over_several_prompts_with_completion_in_between(session):
    """What the prompt does between two lines: the completer may look at the catalog. It used to
    write DuckDB's own catalog inside the open transaction, after which the INSERT failed
    ("a transaction that has already modified database memory") and rolled the transaction back."""
    completer = SqlCompleter(session, DIALECTS["bigquery"])

    def offered(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), None)]

    assert offered("SELECT * FROM ds.ord") == ["orders"]
    assert session.run("BEGIN TRANSACTION;")
    assert offered("INSERT INTO ds.ord") == ["orders"]  # the names read before it began
    assert session.run("INSERT INTO ds.orders (id) VALUES (61);")
    assert session.run(".tables ds")  # reads INFORMATION_SCHEMA inside the transaction
    assert session.run("COMMIT;")
    assert "Error" not in session.err.getvalue()
    assert session.connection.query("SELECT COUNT(*) FROM ds.orders").scalar() == 61
    assert session.run("BEGIN TRANSACTION;") and session.run("DELETE FROM ds.orders WHERE TRUE;")
    assert offered("SELECT * FROM ds.o") == ["orders"]
    assert session.run("ROLLBACK;")
    assert session.connection.query("SELECT COUNT(*) FROM ds.orders").scalar() == 61


@pytest.fixture
def invoke(tmp_path):
    def run(*args, input=None):
        return CliRunner().invoke(cli, ["shell", "--warehouse", str(tmp_path / "w"), "--models", str(tmp_path / "m"), *args], input=input)

    return run


def test_piped_script_runs_and_exits_with_its_status(invoke):
    good = invoke(input="CREATE SCHEMA ds;\nCREATE TABLE ds.t AS\n  SELECT 1 AS x;\n.tables\nSELECT x + 1 AS y FROM ds.t;\n")
    assert good.exit_code == 0
    assert "| ds           | t          | BASE TABLE |" in good.output and "| 2 |" in good.output
    bad = invoke(input="SELECT 1;\nSELECT nope;\nSELECT 3 AS never;\n")
    assert bad.exit_code == 1
    assert "never" not in bad.output and "Error: " in bad.stderr


def test_command_option_runs_and_exits(invoke):
    result = invoke("-c", "SELECT 40 + 2 AS answer")
    assert result.exit_code == 0 and "| 42     |" in result.output.replace("|     42 |", "| 42     |")
    assert invoke("-c", "SELECT * FROM ds.missing").exit_code == 1


def test_cancelling_leaves_the_warehouse_unchanged(session):
    """Ctrl-C (here: the interrupt the shell sends) stops a running CTAS; no table appears."""
    import threading
    import time

    timer = threading.Timer(1.0, session.connection.interrupt)
    timer.start()
    started = time.monotonic()
    ok = session.run_sql(
        "CREATE TABLE ds.huge AS SELECT COUNT(*) AS n FROM UNNEST(GENERATE_ARRAY(1, 4000)) a, "
        "UNNEST(GENERATE_ARRAY(1, 4000)) b, UNNEST(GENERATE_ARRAY(1, 4000)) c;"
    )
    timer.join()
    assert not ok and time.monotonic() - started < 30
    assert session.connection.relation_kind("ds.huge") is None
    assert session.run("SELECT 1 AS still_working;")



def test_cancelling_training_keeps_the_previous_model(session):
    import threading

    create = (
        "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['amount'], "
        "max_iterations={n}, early_stop=FALSE, data_split_method='NO_SPLIT') AS SELECT id, big, amount FROM ds.big_rows;"
    )
    session.connection.query(
        "CREATE TABLE ds.big_rows AS SELECT x AS id, MOD(x, 3) = 0 AS big, MOD(x * 7919, 1000) / 10 AS amount "
        "FROM UNNEST(GENERATE_ARRAY(1, 200000)) AS x"
    )
    assert session.run(create.format(n=2))
    before = [v.version for v in session.connection.models.versions("ds", "m")]
    timer = threading.Timer(1.5, session.connection.interrupt)
    timer.start()
    assert not session.run(create.format(n=5000))
    timer.join()
    assert "Cancelled" in session.err.getvalue() or "cancelled" in session.err.getvalue()
    assert [v.version for v in session.connection.models.versions("ds", "m")] == before
