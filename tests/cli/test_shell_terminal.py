"""`sqlml shell` in a real pseudo-terminal (pexpect): typing, completion, progress, Ctrl-C, Ctrl-D."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

SQLML = shutil.which("sqlml", path=str(Path(sys.executable).parent)) or "sqlml"


@pytest.fixture
def shell(tmp_path):
    """A shell on a fresh warehouse, with a prepared table; closed at the end."""
    import sqlml

    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models") as con:
        con.query(
            "CREATE SCHEMA ds; CREATE TABLE ds.orders AS SELECT x AS id, MOD(x * 7, 11) AS amount, MOD(x, 3) = 0 AS big "
            "FROM UNNEST(GENERATE_ARRAY(1, 20000)) AS x"
        )
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "120", "LINES": "40"}
    child = pexpect.spawn(
        SQLML, ["shell", "--history", str(tmp_path / "history")], cwd=str(tmp_path), env=env,
        encoding="utf-8", timeout=60, dimensions=(40, 120),
    )  # fmt: skip
    child.expect("sqlml>")
    yield child
    if child.isalive():
        child.terminate(force=True)


def type_line(child, text: str) -> None:
    """Type ``text`` and Enter once the prompt is reading keys."""
    time.sleep(0.3)
    child.send(text + "\r")


@pytest.mark.slow
def test_a_session_at_the_terminal(shell):
    # A statement typed over two lines runs when the ';' arrives.
    type_line(shell, "SELECT SUM(amount) AS total")
    type_line(shell, "  FROM ds.orders WHERE big;")
    shell.expect(r"\| total \|")
    shell.expect(r"\(1 row\)")

    # Tab completes a table name of the dataset.
    time.sleep(0.3)
    shell.send("SELECT COUNT(*) AS n FROM ds.ord")
    time.sleep(0.5)
    shell.send("\t")
    time.sleep(0.5)
    shell.send(";\r")
    shell.expect(r"\|\s+20000 \|")

    # Training shows a live progress bar with iterations, elapsed time and ETA.
    type_line(
        shell,
        "CREATE MODEL ds.m OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['big'], max_iterations=40, "
        "early_stop=FALSE, data_split_method='NO_SPLIT') AS SELECT id, amount, big FROM ds.orders;",
    )
    shell.expect(r"/40 iterations")
    shell.expect("elapsed")

    # A long query shows DuckDB's progress; Ctrl-C stops it and returns to the prompt; nothing is written.
    type_line(shell, "CREATE TABLE ds.huge AS SELECT COUNT(DISTINCT a.id * 40000 + b.id) AS n FROM ds.orders a, ds.orders b;")
    shell.expect(r"Running query \(Ctrl-C cancels\)  \[[#.]+\] \d+/100 %  \d+\.\ds elapsed")
    shell.sendintr()
    shell.expect("Cancelled; nothing was changed")

    # An error is one message; the next statement runs.
    type_line(shell, "SELECT nope FROM ds.orders;")
    shell.expect("Error: Unknown column nope")
    type_line(shell, "SELECT COUNT(*) AS tables FROM ds.INFORMATION_SCHEMA.TABLES WHERE table_name = 'huge';")
    shell.expect(r"\|      0 \|")

    # History is kept and Ctrl-R searches it: the two-line SUM statement comes back and runs.
    time.sleep(0.3)
    shell.sendcontrol("r")
    time.sleep(0.3)
    shell.send("SUM(amount)")
    time.sleep(0.3)
    shell.send("\r")
    time.sleep(0.3)
    shell.send("\r")
    shell.expect(r"\| total \|")

    # Ctrl-D leaves with status 0.
    time.sleep(0.3)
    shell.sendcontrol("d")
    shell.expect(pexpect.EOF)
    shell.close()
    assert shell.exitstatus == 0
    assert "Traceback" not in (shell.before or "")


@pytest.mark.slow
def test_a_transaction_typed_at_the_prompt(shell):
    # The completer runs as keys arrive; it used to touch the catalog inside the open transaction,
    # which then refused the INSERT and was gone at COMMIT.
    type_line(shell, "BEGIN TRANSACTION;")
    type_line(shell, "INSERT INTO ds.orders (id, amount, big) VALUES (20001, 5, TRUE);")
    assert shell.expect([r"1 row affected\.", r"Error: [^\r\n]*"]) == 0, shell.after
    type_line(shell, "SELECT COUNT(*) AS n FROM ds.orders;")
    shell.expect(r"\|\s+20001 \|")
    type_line(shell, "ROLLBACK;")
    type_line(shell, "BEGIN TRANSACTION;")
    type_line(shell, "DELETE FROM ds.orders WHERE id > 10;")
    shell.expect(r"19990 rows affected\.")
    type_line(shell, "COMMIT;")
    type_line(shell, "SELECT COUNT(*) AS n FROM ds.orders;")
    shell.expect(r"\|\s+10 \|")
    time.sleep(0.3)
    shell.sendcontrol("d")
    shell.expect(pexpect.EOF)
    assert "Error" not in shell.before and "Traceback" not in shell.before
