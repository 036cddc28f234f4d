"""`sqlml query --read-only`: the warehouse opens read-only (sqlml.connect(read_only=True)), so reads
work and a write fails without changing it."""

from __future__ import annotations

from click.testing import CliRunner

from sqlml.cli.main import cli


def query(tmp_path, *args):
    base = ["query", "--warehouse", str(tmp_path / "w"), "--models", str(tmp_path / "m"), "--format", "csv"]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def test_read_only_reads_and_refuses_writes(tmp_path):
    assert query(tmp_path, "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS x").exit_code == 0
    read = query(tmp_path, "--read-only", "SELECT x FROM ds.t")
    assert (read.exit_code, read.stdout) == (0, "x\n1\n")
    write = query(tmp_path, "--read-only", "INSERT INTO ds.t VALUES (2)")
    assert write.exit_code == 1
    assert write.stderr.splitlines()[0] == (
        'Error: Cannot execute statement of type "INSERT" on database "warehouse" which is attached in read-only mode!'
    )
    assert query(tmp_path, "SELECT count(*) AS n FROM ds.t").stdout == "n\n1\n"


def test_read_only_does_not_create_a_missing_warehouse(tmp_path):
    result = query(tmp_path, "--read-only", "SELECT 1 AS x")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: Cannot open the warehouse {tmp_path / 'w' / 'warehouse.duckdb'}: ")
    assert "read-only mode: database does not exist" in result.stderr
    assert not (tmp_path / "w" / "warehouse.duckdb").exists()
