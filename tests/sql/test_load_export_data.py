"""EXPORT DATA and LOAD DATA on local files (sqlml.warehouse.export_data / load_data).

https://cloud.google.com/bigquery/docs/reference/standard-sql/other-statements#export_data_statement
https://cloud.google.com/bigquery/docs/reference/standard-sql/load-statements
"""

from __future__ import annotations

import json
import os

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlglot import parse_one

import sqlml
from sqlml.errors import InvalidOptionError, NotFoundError, SqlError
from sqlml.sql.expressions import LoadDataFiles
from sqlml.sql.planner import StatementKind, plan


@pytest.fixture(scope="module")
def con():
    with sqlml.connect(":memory:") as connection:
        connection.query("CREATE SCHEMA d")
        connection.query(
            "CREATE TABLE d.src AS SELECT * FROM UNNEST([STRUCT(1 AS id, 'a' AS name, 1.5 AS x), (2, 'b;c', 2.5), (3, NULL, -1.0)])"
        )
        yield connection


def _export(con, folder, fmt, extra=""):
    uri = f"{folder}/part-*.{fmt.lower()}"
    con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='{fmt}'{extra}) AS SELECT * FROM d.src ORDER BY id")
    return uri


def _schema(con, table):
    return [(f.name, f.type) for f in con.query(f"SELECT * FROM {table}").schema]


def test_export_data_csv_names_the_shard_as_bigquery_and_writes_header_and_delimiter(con, tmp_path):
    _export(con, tmp_path, "CSV", ", header=true, field_delimiter=';'")
    assert os.listdir(tmp_path) == ["part-000000000000.csv"]
    lines = (tmp_path / "part-000000000000.csv").read_text().splitlines()
    assert lines == ["id;name;x", "1;a;1.5", '2;"b;c";2.5', "3;;-1.0"]
    back = duckdb.sql(f"SELECT * FROM read_csv('{tmp_path}/part-000000000000.csv', delim=';', header=true)").fetchall()
    assert back == [(1, "a", 1.5), (2, "b;c", 2.5), (3, None, -1.0)]


def test_export_data_csv_without_header_and_file_uri(con, tmp_path):
    con.query(f"EXPORT DATA OPTIONS(uri='file://{tmp_path}/*.csv', format='CSV', header=false) AS SELECT id FROM d.src ORDER BY id")
    assert (tmp_path / "000000000000.csv").read_text().splitlines() == ["1", "2", "3"]


def test_export_data_parquet_and_json_read_back_directly(con, tmp_path):
    _export(con, tmp_path, "PARQUET", ", compression='ZSTD'")
    table = pq.read_table(tmp_path / "part-000000000000.parquet")
    assert table.schema.names == ["id", "name", "x"] and table.schema.types == [pa.int64(), pa.string(), pa.float64()]
    assert table.column("name").to_pylist() == ["a", "b;c", None]
    _export(con, tmp_path, "JSON")
    rows = [json.loads(line) for line in (tmp_path / "part-000000000000.json").read_text().splitlines()]
    assert rows == [{"id": 1, "name": "a", "x": 1.5}, {"id": 2, "name": "b;c", "x": 2.5}, {"id": 3, "name": None, "x": -1.0}]


def test_export_data_overwrite_false_refuses_existing_files_and_true_replaces_them(con, tmp_path):
    uri = _export(con, tmp_path, "CSV")
    with pytest.raises(InvalidOptionError, match=r"EXPORT DATA would overwrite 1 existing file\(s\) matching uri '.*/part-\*\.csv' .*, and overwrite is false\.") as error:
        _export(con, tmp_path, "CSV")
    assert error.value.option == "overwrite"
    con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV', overwrite=true) AS SELECT 7 AS id")
    assert (tmp_path / "part-000000000000.csv").read_text().splitlines() == ["id", "7"]


def _files(folder):
    return sorted(os.listdir(folder))


def test_export_data_overwrite_replaces_every_shard_the_uri_matches_and_nothing_else(con, tmp_path):
    # a previous, larger export left three shards; "part-old.csv" matches the uri too
    for name in ["part-000000000000.csv", "part-000000000001.csv", "part-000000000002.csv", "part-old.csv"]:
        (tmp_path / name).write_text("id\n0\n")
    for name in ["other.csv", "part-000000000001.json", "part.csv", ".part-000000000003.csv", "notes-part-1.csv"]:
        (tmp_path / name).write_text("keep")
    (tmp_path / "part-dir.csv").mkdir()  # a folder is not a file the uri matches
    uri = f"{tmp_path}/part-*.csv"
    with pytest.raises(InvalidOptionError, match=rf"EXPORT DATA would overwrite 4 existing file\(s\) matching uri '.*/part-\*\.csv' \(first: .*/part-000000000000\.csv\), and overwrite is false\."):
        con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV') AS SELECT 7 AS id")
    con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV', overwrite=true) AS SELECT 7 AS id")
    assert _files(tmp_path) == [".part-000000000003.csv", "notes-part-1.csv", "other.csv", "part-000000000000.csv",
                                "part-000000000001.json", "part-dir.csv", "part.csv"]  # fmt: skip
    assert (tmp_path / "part-000000000000.csv").read_text().splitlines() == ["id", "7"]
    assert all((tmp_path / n).read_text() == "keep" for n in ["other.csv", "part-000000000001.json", "part.csv", "notes-part-1.csv"])


def test_a_failed_export_leaves_the_previous_files_as_they_were(con, tmp_path):
    uri = f"{tmp_path}/part-*.csv"
    con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV') AS SELECT 5 AS id")
    (tmp_path / "part-000000000001.csv").write_text("id\n2\n")
    with pytest.raises(SqlError) as error:  # the query fails after its first row
        con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV', overwrite=true) AS SELECT IF(id > 1, ERROR('boom'), id) AS id FROM d.src")
    assert error.value.message == "boom"
    assert _files(tmp_path) == ["part-000000000000.csv", "part-000000000001.csv"]  # no staging file left either
    assert (tmp_path / "part-000000000000.csv").read_text().splitlines() == ["id", "5"]


def test_export_data_matches_brackets_in_the_uri_literally(con, tmp_path):
    folder = tmp_path / "run[1]"  # a shell glob would read [1] as a character class and see no file
    folder.mkdir()
    uri = f"{folder}/p?rt-*.csv"
    con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV') AS SELECT 1 AS id")
    (folder / "part-000000000001.csv").write_text("not matched: '?' is a plain character")
    with pytest.raises(InvalidOptionError, match=r"EXPORT DATA would overwrite 1 existing file\(s\) matching uri '.*/run\[1\]/p\?rt-\*\.csv'"):
        con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV') AS SELECT 2 AS id")
    con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV', overwrite=true) AS SELECT 2 AS id")
    assert _files(folder) == ["p?rt-000000000000.csv", "part-000000000001.csv"]
    assert (folder / "p?rt-000000000000.csv").read_text().splitlines() == ["id", "2"]


@pytest.mark.parametrize(
    ("options", "message", "option"),
    [
        ("uri='gs://bucket/x-*.csv', format='CSV'", r"EXPORT DATA reads and writes local files only; the 'uri' option names cloud storage: gs://bucket/x-\*\.csv\.", "uri"),
        ("uri='s3://bucket/x-*.csv', format='CSV'", r"the 'uri' option names cloud storage: s3://", "uri"),
        ("uri='{tmp}/x-*.avro', format='AVRO'", r"EXPORT DATA cannot write format 'AVRO': DuckDB has no Avro writer\.", "format"),
        ("uri='{tmp}/x-*.orc', format='ORC'", r"The 'format' option of EXPORT DATA must be one of CSV, JSON, PARQUET, AVRO\. Got 'ORC' instead\.", "format"),
        ("uri='{tmp}/x.csv', format='CSV'", r"The 'uri' option of EXPORT DATA must contain exactly one '\*' wildcard\. Got '.*/x\.csv' instead\.", "uri"),
        ("uri='{tmp}/*/x.csv', format='CSV'", r"The 'uri' option of EXPORT DATA must have its '\*' wildcard in the file name, not in a folder\. Got '.*/\*/x\.csv' instead\.", "uri"),
        ("uri='{tmp}/x-*.csv'", r"EXPORT DATA needs the option format\.", "format"),
        ("uri='{tmp}/x-*.json', format='JSON', header=true", r"The 'header' option of EXPORT DATA applies to format='CSV' only \(format is 'JSON'\)\.", "header"),
        ("uri='{tmp}/x-*.csv', format='CSV', compression='SNAPPY'", r"The 'compression' option of EXPORT DATA with format='CSV' must be one of NONE, GZIP\. Got 'SNAPPY' instead\.", "compression"),
        ("uri='{tmp}/x-*.csv', format='CSV', colour='red'", r"EXPORT DATA has no option 'colour'\.", "colour"),
    ],
)
def test_export_data_refuses_bad_options_by_name(con, tmp_path, options, message, option):
    with pytest.raises(InvalidOptionError, match=message) as error:
        con.query(f"EXPORT DATA OPTIONS({options.format(tmp=tmp_path)}) AS SELECT 1 AS a")
    assert error.value.option == option
    assert os.listdir(tmp_path) == []


def test_export_data_with_connection_is_refused_naming_it(con, tmp_path):
    with pytest.raises(InvalidOptionError, match=r"EXPORT DATA WITH CONNECTION myproject\.us\.conn writes to cloud storage, which sqlml cannot reach\.") as error:
        con.query(f"EXPORT DATA WITH CONNECTION myproject.us.conn OPTIONS(uri='{tmp_path}/*.csv', format='CSV') AS SELECT 1 AS a")
    assert error.value.option == "connection" and "export to a local path" in str(error.value)


def test_export_data_into_a_missing_folder_is_not_found(con, tmp_path):
    with pytest.raises(NotFoundError, match=r"EXPORT DATA cannot write '.*/no/000000000000\.csv': the folder '.*/no' does not exist\."):
        con.query(f"EXPORT DATA OPTIONS(uri='{tmp_path}/no/*.csv', format='CSV') AS SELECT 1 AS a")


def test_load_data_into_new_table_then_append_then_overwrite(con, tmp_path):
    uri = _export(con, tmp_path, "CSV")
    result = con.query(f"LOAD DATA INTO d.loaded FROM FILES(format='CSV', uris=['{uri}'], skip_leading_rows=1)")
    assert result.rowcount == 3
    assert _schema(con, "d.loaded") == [("id", pa.int64()), ("name", pa.string()), ("x", pa.float64())]
    assert con.query("SELECT * FROM d.loaded ORDER BY id").fetchall() == [(1, "a", 1.5), (2, "b;c", 2.5), (3, None, -1.0)]
    con.query(f"LOAD DATA INTO d.loaded FROM FILES(format='CSV', uris=['{uri}'], skip_leading_rows=1)")
    assert con.query("SELECT id, COUNT(*) FROM d.loaded GROUP BY id ORDER BY id").fetchall() == [(1, 2), (2, 2), (3, 2)]
    parquet = _export(con, tmp_path, "PARQUET")
    con.query(f"LOAD DATA OVERWRITE d.loaded FROM FILES(format='PARQUET', uris=['file://{parquet}'])")
    assert con.query("SELECT * FROM d.loaded ORDER BY id").fetchall() == [(1, "a", 1.5), (2, "b;c", 2.5), (3, None, -1.0)]


def test_load_data_with_a_schema_uses_its_columns_and_types(con, tmp_path):
    uri = _export(con, tmp_path, "CSV", ", field_delimiter='|'")
    con.query(f"LOAD DATA INTO d.typed (id INT64, label STRING, x NUMERIC) FROM FILES(format='CSV', uris=['{uri}'], skip_leading_rows=1, field_delimiter='|')")
    assert _schema(con, "d.typed") == [("id", pa.int64()), ("label", pa.string()), ("x", pa.decimal128(38, 9))]
    assert con.query("SELECT label FROM d.typed ORDER BY id").fetchall() == [("a",), ("b;c",), (None,)]
    json_uri = _export(con, tmp_path, "JSON")
    con.query(f"LOAD DATA INTO TEMP TABLE tj (id INT64, x FLOAT64) FROM FILES(format='JSON', uris=['{json_uri}'])")
    assert _schema(con, "tj") == [("id", pa.int64()), ("x", pa.float64())]


def test_failed_load_leaves_the_table_as_it_was(con, tmp_path):
    con.query("CREATE OR REPLACE TABLE d.kept (id INT64, name STRING)")
    con.query("INSERT INTO d.kept VALUES (10, 'z')")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,a\nnot-a-number,b\n")
    for verb in ("INTO", "OVERWRITE"):
        with pytest.raises(SqlError):
            con.query(f"LOAD DATA {verb} d.kept FROM FILES(format='CSV', uris=['{bad}'], skip_leading_rows=1)")
        assert con.query("SELECT * FROM d.kept").fetchall() == [(10, "z")]


@pytest.mark.parametrize(
    ("files", "error", "message"),
    [
        ("format='CSV', uris=['gs://bucket/a.csv']", InvalidOptionError, r"LOAD DATA reads and writes local files only; the 'uris' option names cloud storage: gs://bucket/a\.csv\."),
        ("format='CSV', uris=['{tmp}/missing-*.csv']", NotFoundError, r"LOAD DATA found no file matching the uri '.*/missing-\*\.csv'\."),
        ("format='XLSX', uris=['{tmp}/a.csv']", InvalidOptionError, r"The 'format' option of LOAD DATA must be one of CSV, JSON, PARQUET, AVRO\. Got 'XLSX' instead\."),
        ("uris=['{tmp}/a.csv']", InvalidOptionError, r"LOAD DATA needs the option format\."),
        ("format='CSV'", InvalidOptionError, r"LOAD DATA needs the option uris, a non-empty ARRAY of paths\."),
        ("format='PARQUET', uris=['{tmp}/a.csv'], skip_leading_rows=1", InvalidOptionError, r"The 'skip_leading_rows' option of LOAD DATA applies to format='CSV' only \(format is 'PARQUET'\)\."),
    ],
)
def test_load_data_errors_name_the_option_or_file(con, tmp_path, files, error, message):
    (tmp_path / "a.csv").write_text("a\n1\n")
    with pytest.raises(error, match=message):
        con.query(f"LOAD DATA INTO d.never FROM FILES({files.format(tmp=tmp_path)})")
    assert con.query("SELECT COUNT(*) FROM d.INFORMATION_SCHEMA.TABLES WHERE table_name = 'never'").scalar() == 0


@pytest.mark.parametrize(
    "sql",
    [
        "LOAD DATA INTO d.t (a INT64, b STRING) PARTITION BY a CLUSTER BY b OPTIONS (description='x') FROM FILES(FORMAT='CSV', uris=['/x/*.csv'], skip_leading_rows=1) WITH PARTITION COLUMNS (r STRING) WITH CONNECTION p.us.c",
        "LOAD DATA OVERWRITE TEMP TABLE t FROM FILES(FORMAT='PARQUET', uris=['/x/a.parquet']) WITH PARTITION COLUMNS",
    ],
)
def test_load_data_parses_every_clause_and_round_trips(sql):
    tree = parse_one(sql, read="sqlml")
    assert isinstance(tree, LoadDataFiles) and plan(tree).kind is StatementKind.LOAD_DATA
    assert tree.sql(dialect="sqlml") == sql


def test_load_data_partition_columns_and_partitioning_are_kept(con, tmp_path):
    for region, rows in (("eu", "1,a\n2,b\n"), ("us", "3,c\n")):
        (tmp_path / f"region={region}").mkdir()
        (tmp_path / f"region={region}" / "f.csv").write_text("id,v\n" + rows)
    con.query(
        f"LOAD DATA OVERWRITE d.parts (id INT64, v STRING, region STRING) PARTITION BY RANGE_BUCKET(id, GENERATE_ARRAY(0, 10, 1)) "
        f"CLUSTER BY v OPTIONS(require_partition_filter=true) FROM FILES(format='CSV', uris=['{tmp_path}/*/*.csv'], skip_leading_rows=1, "
        f"hive_partition_uri_prefix='{tmp_path}') WITH PARTITION COLUMNS (region STRING)"
    )
    assert con.query("SELECT * FROM d.parts WHERE id > 0 ORDER BY id").fetchall() == [(1, "a", "eu"), (2, "b", "eu"), (3, "c", "us")]
    assert con.query("SELECT partition_id, total_rows FROM d.INFORMATION_SCHEMA.PARTITIONS WHERE table_name = 'parts' ORDER BY 1").fetchall() == [
        ("1", 1), ("2", 1), ("3", 1)
    ]  # fmt: skip
    # appending to a table that requires a partition filter is a write, not a read of it
    con.query(f"LOAD DATA INTO d.parts FROM FILES(format='CSV', uris=['{tmp_path}/region=us/*.csv'], skip_leading_rows=1) WITH PARTITION COLUMNS (region STRING)")
    assert con.query("SELECT COUNT(*) FROM d.parts WHERE id = 3").scalar() == 2


def test_load_data_with_connection_is_refused_naming_it(con, tmp_path):
    with pytest.raises(InvalidOptionError, match=r"LOAD DATA WITH CONNECTION p\.us\.c reads cloud storage, which sqlml cannot reach\.") as error:
        con.query(f"LOAD DATA INTO d.never FROM FILES(format='CSV', uris=['{tmp_path}/*.csv']) WITH CONNECTION p.us.c")
    assert error.value.option == "connection"


def test_export_data_reads_parameters_and_load_data_rolls_back_with_its_transaction(con, tmp_path):
    con.query(f"EXPORT DATA OPTIONS(uri='{tmp_path}/p-*.csv', format='CSV') AS SELECT id FROM d.src WHERE id > @low ORDER BY id", {"low": 1})
    assert (tmp_path / "p-000000000000.csv").read_text().splitlines() == ["id", "2", "3"]
    con.query("CREATE OR REPLACE TABLE d.tx (id INT64)")
    con.query(f"BEGIN TRANSACTION; LOAD DATA INTO d.tx FROM FILES(format='CSV', uris=['{tmp_path}/p-*.csv'], skip_leading_rows=1); ROLLBACK")
    assert con.query("SELECT COUNT(*) FROM d.tx").scalar() == 0
    con.query(f"BEGIN TRANSACTION; LOAD DATA INTO d.tx FROM FILES(format='CSV', uris=['{tmp_path}/p-*.csv'], skip_leading_rows=1); COMMIT")
    assert con.query("SELECT id FROM d.tx ORDER BY id").fetchall() == [(2,), (3,)]


def _two_shard_export(tmp_path):
    """A previous export of two shards (ids 5 and 6), which overwrite=true replaces."""
    (tmp_path / "part-000000000000.csv").write_text("id\n5\n")
    (tmp_path / "part-000000000001.csv").write_text("id\n6\n")
    return f"{tmp_path}/part-*.csv"


def test_an_export_interrupted_as_its_shard_goes_into_place_leaves_the_previous_files(con, tmp_path, monkeypatch):
    """Ctrl-C landing once the new shard is renamed into place, before the statement ends: the
    previous export's shards are all put back (part-000000000001.csv was left beside the new one)."""
    from sqlml.warehouse import export_data

    uri, replace = _two_shard_export(tmp_path), os.replace

    def replace_then_interrupt(source, target):
        replace(source, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(export_data.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV', overwrite=true) AS SELECT 7 AS id")
    monkeypatch.undo()
    assert _files(tmp_path) == ["part-000000000000.csv", "part-000000000001.csv"]  # no hidden file left either
    assert [(tmp_path / n).read_text() for n in _files(tmp_path)] == ["id\n5\n", "id\n6\n"]


def test_an_export_interrupted_once_its_shard_is_in_place_completes(con, tmp_path, monkeypatch):
    """Ctrl-C landing while the previous shards, moved aside, are removed: the export is complete,
    the statement succeeds and the interrupt stops the script's next statement."""
    from sqlml.warehouse import export_data

    uri, remove = _two_shard_export(tmp_path), os.remove

    def remove_then_interrupt(path):
        remove(path)
        raise KeyboardInterrupt

    monkeypatch.setattr(export_data.os, "remove", remove_then_interrupt)
    with pytest.raises(sqlml.Cancelled, match=r"The statement was cancelled; nothing it started was kept\.") as cancelled:
        con.query(f"EXPORT DATA OPTIONS(uri='{uri}', format='CSV', overwrite=true) AS SELECT 7 AS id; SELECT 1 AS x")
    monkeypatch.undo()
    assert cancelled.value.location.statement == 2
    assert _files(tmp_path) == ["part-000000000000.csv"]
    assert (tmp_path / "part-000000000000.csv").read_text().splitlines() == ["id", "7"]
