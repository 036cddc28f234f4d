"""The Python API: connect, query, Result, register, load, parameters, threads, transactions, sessions."""

from __future__ import annotations

import concurrent.futures
import gc
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sqlml


def test_default_connection_creates_warehouse_and_model_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with sqlml.connect() as con:
        con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
        # statements that name no model leave the store's catalog unopened (cheap starts, issue 19)
        assert (tmp_path / "models").is_dir() and not (tmp_path / "models" / "catalog.sqlite").exists()
        assert con.models.models() == []
    assert (tmp_path / "warehouse" / "warehouse.duckdb").is_file()
    assert (tmp_path / "models" / "catalog.sqlite").is_file()
    with sqlml.connect() as again:  # persisted across connections
        assert again.query("SELECT x FROM ds.t").fetchall() == [(1,)]


def test_memory_connection_uses_a_temporary_model_store():
    con = sqlml.connect(":memory:")
    store = con.models_path
    assert store.is_dir()
    con.close()
    assert not store.exists()


def test_query_runs_a_script_and_returns_the_last_result(con):
    result = con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT * FROM UNNEST([1, 2, 3]) AS x; SELECT SUM(x) AS total FROM ds.t")
    assert result.columns == ["total"]
    assert result.fetchall() == [(6,)]
    assert result.df().equals(pd.DataFrame({"total": [6]}))
    assert result.arrow().schema == pa.schema([("total", pa.int64())])
    assert result.schema.names == ["total"]


def test_result_repr_is_a_readable_table(con):
    text = repr(con.query("SELECT 1 AS a, 'x' AS b, NULL AS c"))
    assert "| a | b | c    |" in text and "| 1 | x | NULL |" in text
    assert repr(con.query("CREATE TABLE t1 AS SELECT 1 AS a")) == "<sqlml.Result CREATE TABLE>"


def test_dml_reports_affected_rows(con):
    con.query("CREATE TABLE t2 AS SELECT * FROM UNNEST([1, 2, 3]) AS x")
    assert con.query("DELETE FROM t2 WHERE x > 1").rowcount == 2


def test_reader_streams_a_large_result_in_batches(disk_con):
    result = disk_con.query("SELECT range AS x, range * 2 AS y FROM range(3000000)")
    reader = result.reader(batch_size=500_000)
    batches = sizes = 0
    total = 0
    for batch in reader:
        batches += 1
        sizes = max(sizes, batch.num_rows)
        total += batch.num_rows
    assert total == 3_000_000 and batches >= 6 and sizes <= 500_000
    assert not disk_con._warehouse.is_attached  # the lease ended with the stream


def test_module_level_query(tmp_path, monkeypatch):
    import sqlml.api

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sqlml.api, "_default", None)
    assert sqlml.query("SELECT 1 AS x").df()["x"].tolist() == [1]
    sqlml.api._default.close()


def test_register_pandas_and_arrow(con):
    con.register("people", pd.DataFrame({"name": ["a", "b"], "age": [30, 40]}))
    con.register("scores", pa.table({"name": ["a", "b"], "score": [1.5, 2.5]}))
    rows = con.query("SELECT p.name, age, score FROM people p JOIN scores s USING (name) ORDER BY name").fetchall()
    assert rows == [("a", 30, 1.5), ("b", 40, 2.5)]
    con.unregister("people")
    with pytest.raises(sqlml.NotFoundError, match=r"Unknown table people"):
        con.query("SELECT * FROM people")


def test_load_csv_parquet_json(con, tmp_path):
    (tmp_path / "a.csv").write_text("id,name\n1,x\n2,y\n")
    pq.write_table(pa.table({"id": [3], "name": ["z"]}), tmp_path / "b.parquet")
    (tmp_path / "c.json").write_text(json.dumps([{"id": 4, "name": "w"}]))
    assert con.load("ds2.a", tmp_path / "a.csv") == 2
    assert con.load("ds2.b", tmp_path / "b.parquet") == 1
    assert con.load("ds2.c", tmp_path / "c.json") == 1
    rows = con.query("SELECT * FROM ds2.a UNION ALL SELECT * FROM ds2.b UNION ALL SELECT * FROM ds2.c ORDER BY id").fetchall()
    assert rows == [(1, "x"), (2, "y"), (3, "z"), (4, "w")]
    with pytest.raises(sqlml.ParameterError, match=r"Cannot tell the format of .*data.bin"):
        con.load("ds2.d", tmp_path / "data.bin")


def test_parameters_are_bound_as_values_never_pasted(con):
    con.query("CREATE TABLE victims AS SELECT 1 AS x")
    hostile = "1; DROP TABLE victims; --"
    assert con.query("SELECT @v AS v", {"v": hostile}).fetchall() == [(hostile,)]
    assert con.query("SELECT ? + ?, ?", [1, 2, "three"]).fetchall() == [(3, "three")]
    assert con.query("SELECT COUNT(*) FROM victims").fetchall() == [(1,)]
    with pytest.raises(sqlml.ParameterError, match=r"(?s)The query parameter @missing has no value\..*params="):
        con.query("SELECT @missing")
    with pytest.raises(sqlml.ParameterError, match=r"The statement has 2 positional parameter\(s\) \(\?\) but only 1 value\(s\) are left"):
        con.query("SELECT ?, ?", [1])


def test_one_connection_from_many_threads(disk_con):
    disk_con.query("CREATE TABLE numbers AS SELECT range AS x FROM range(1000)")

    def work(k):
        return disk_con.query("SELECT SUM(x) + @k FROM numbers", {"k": k}).fetchall()[0][0]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(32)))
    assert results == [499500 + k for k in range(32)]


def test_context_manager_closes(tmp_path):
    with sqlml.connect(tmp_path / "w", tmp_path / "m") as con:
        con.query("SELECT 1")
    with pytest.raises(sqlml.WarehouseError, match=r"This connection is closed"):
        con.query("SELECT 1")


def test_memory_connection_store_is_removed_when_collected_unclosed():
    con = sqlml.connect(":memory:")
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x")
    store = con.models_path
    assert store.is_dir()
    del con
    gc.collect()
    assert not store.exists()


def test_memory_connection_store_is_removed_at_exit_unclosed():
    script = "import sqlml; con = sqlml.connect(':memory:'); con.query('SELECT 1'); print(con.models_path)"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    store = Path(completed.stdout.strip())
    assert store.name.startswith("sqlml-models-") and not store.exists()


@pytest.fixture
def ledger(disk_con):
    disk_con.query("CREATE SCHEMA ds; CREATE TABLE ds.ledger (n INT64)")
    return disk_con


def _on_thread(work):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def test_a_transaction_covers_statements_from_every_thread(ledger):
    ledger.query("BEGIN TRANSACTION")
    _on_thread(lambda: ledger.query("INSERT INTO ds.ledger VALUES (1)"))
    assert ledger.in_transaction
    assert _on_thread(lambda: ledger.query("SELECT COUNT(*) FROM ds.ledger").scalar()) == 1
    ledger.query("ROLLBACK")
    assert not ledger.in_transaction
    assert ledger.query("SELECT COUNT(*) FROM ds.ledger").scalar() == 0
    assert not ledger._warehouse.is_attached  # the transaction's hold on the file ended too


def test_commit_from_another_thread_ends_the_transaction(ledger):
    ledger.query("BEGIN TRANSACTION; INSERT INTO ds.ledger VALUES (1)")
    _on_thread(lambda: ledger.query("INSERT INTO ds.ledger VALUES (2); COMMIT"))
    assert not ledger.in_transaction
    with pytest.raises(sqlml.TransactionError, match=r"COMMIT without an open transaction"):
        ledger.query("COMMIT")
    assert sorted(ledger.query("SELECT n FROM ds.ledger").fetchall()) == [(1,), (2,)]


def test_threads_take_turns_inside_one_transaction(ledger):
    ledger.query("BEGIN TRANSACTION")

    def insert(k):
        ledger.query("INSERT INTO ds.ledger VALUES (@k)", {"k": k})
        return ledger.query("SELECT COUNT(*) FROM ds.ledger WHERE n = @k", {"k": k}).scalar()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(insert, range(40)))
    assert seen == [1] * 40  # each thread saw its own row, in the one transaction, with no "busy" error
    assert ledger.query("SELECT COUNT(*) FROM ds.ledger").scalar() == 40
    _on_thread(lambda: ledger.query("ROLLBACK"))
    assert ledger.query("SELECT COUNT(*) FROM ds.ledger").scalar() == 0


def test_a_result_read_later_shows_the_rows_of_its_moment_in_the_transaction(ledger):
    ledger.query("BEGIN TRANSACTION; INSERT INTO ds.ledger VALUES (1)")
    before = ledger.query("SELECT COUNT(*) FROM ds.ledger")
    ledger.query("INSERT INTO ds.ledger VALUES (2); COMMIT")
    assert before.scalar() == 1


def test_a_failed_statement_from_another_thread_rolls_the_transaction_back(ledger):
    ledger.query("BEGIN TRANSACTION; INSERT INTO ds.ledger VALUES (1)")
    with pytest.raises(sqlml.NotFoundError):
        _on_thread(lambda: ledger.query("SELECT * FROM ds.nowhere"))
    assert not ledger.in_transaction
    assert ledger.query("SELECT COUNT(*) FROM ds.ledger").scalar() == 0


def test_information_schema_inside_a_transaction_then_a_write(ledger):
    # Reading INFORMATION_SCHEMA used to define a view in DuckDB's own catalog: a write there, after
    # which DuckDB refused the transaction's write to the warehouse ("a single transaction can only
    # write to a single attached database").
    ledger.query("BEGIN TRANSACTION")
    assert ledger.query("SELECT table_name FROM ds.INFORMATION_SCHEMA.TABLES").fetchall() == [("ledger",)]
    ledger.query("INSERT INTO ds.ledger VALUES (1); COMMIT")
    assert ledger.query("SELECT n FROM ds.ledger").fetchall() == [(1,)]


def test_sessions_from_cursor_have_transactions_of_their_own(ledger):
    ledger.query("CREATE TABLE ds.other (n INT64)")
    first, second = ledger.cursor(), ledger.cursor()
    first.query("BEGIN TRANSACTION; INSERT INTO ds.ledger VALUES (1)")
    second.query("BEGIN TRANSACTION; INSERT INTO ds.other VALUES (2)")
    assert first.query("SELECT (SELECT COUNT(*) FROM ds.ledger), (SELECT COUNT(*) FROM ds.other)").fetchall() == [(1, 0)]
    assert ledger.query("SELECT (SELECT COUNT(*) FROM ds.ledger), (SELECT COUNT(*) FROM ds.other)").fetchall() == [(0, 0)]
    assert not ledger.in_transaction
    second.query("ROLLBACK")
    first.query("COMMIT")
    assert ledger.query("SELECT (SELECT COUNT(*) FROM ds.ledger), (SELECT COUNT(*) FROM ds.other)").fetchall() == [(1, 0)]
    first.close()
    with pytest.raises(sqlml.WarehouseError, match=r"This connection is closed"):
        first.query("SELECT 1")
    assert second.query("SELECT COUNT(*) FROM ds.ledger").scalar() == 1


@pytest.fixture
def line(con):
    """A linear model of y = 2x + 1 trained on x = 1..20."""
    con.query(
        "CREATE SCHEMA ds; CREATE TABLE ds.points AS SELECT x, 2.0 * x + 1 AS y FROM UNNEST(GENERATE_ARRAY(1, 20)) AS x; "
        "CREATE MODEL ds.line OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT * FROM ds.points"
    )
    return con


def test_ml_functions_inside_a_transaction_read_its_writes(line):
    # ML inputs used to be read on side cursors outside the transaction: these saw 20 rows.
    line.query("BEGIN TRANSACTION; INSERT INTO ds.points VALUES (100, 201.0)")
    predicted = line.query("SELECT predicted_y FROM ML.PREDICT(MODEL ds.line, TABLE ds.points) WHERE x = 100").scalar()
    assert predicted == pytest.approx(2.0 * 100 + 1, rel=1e-4)
    assert line.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.line, (SELECT x FROM ds.points WHERE x > 10))").scalar() == 11
    errors = line.query("SELECT mean_absolute_error FROM ML.EVALUATE(MODEL ds.line, (SELECT * FROM ds.points WHERE x = 100))")
    assert errors.scalar() == pytest.approx(0.0, abs=0.05)
    line.query("ROLLBACK")
    assert line.query("SELECT COUNT(*) FROM ML.PREDICT(MODEL ds.line, TABLE ds.points)").scalar() == 20


@pytest.mark.parametrize(
    ("statement", "verb"),
    [
        ("CREATE OR REPLACE MODEL ds.line OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT * FROM ds.points", "CREATE MODEL"),
        ("ALTER MODEL ds.line SET OPTIONS(description='changed')", "ALTER MODEL"),
        ("DROP MODEL ds.line", "DROP MODEL"),
    ],
)
def test_model_statements_are_refused_inside_a_transaction(line, statement, verb):
    line.query("BEGIN TRANSACTION; INSERT INTO ds.points VALUES (100, 201.0)")
    with pytest.raises(
        sqlml.TransactionError,
        match=rf"^{verb} cannot run inside a transaction: BigQuery allows only SELECT, DML and DDL on temporary tables and functions there\.",
    ):
        line.query(statement)
    assert not line.in_transaction  # the failed statement rolled the transaction back, as on BigQuery
    assert line.query("SELECT COUNT(*) FROM ds.points").scalar() == 20
    assert [(m.name, len(m.versions), m.description) for m in line.models.models()] == [("line", 1, None)]


def test_a_load_is_recorded_as_a_write_of_its_table(disk_con, tmp_path):
    # Loads used to leave no trace in the write log: a materialized view over the table kept its old rows.
    (tmp_path / "first.csv").write_text("x\n1\n2\n")
    (tmp_path / "second.csv").write_text("x\n10\n20\n30\n")
    assert disk_con.load("ds.t", tmp_path / "first.csv") == 2
    disk_con.query("CREATE MATERIALIZED VIEW ds.total AS SELECT SUM(x) AS s FROM ds.t")
    assert disk_con.query("SELECT s FROM ds.total").scalar() == 3
    assert disk_con.load("ds.t", tmp_path / "second.csv") == 3
    assert disk_con.query("SELECT s FROM ds.total").scalar() == 60
