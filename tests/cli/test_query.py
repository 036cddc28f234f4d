"""`sqlml query`: formats, files, parameters, exit codes and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import sqlml
from sqlml.cli.main import cli


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args, input=None):
        base = ["--warehouse", str(tmp_path / "w"), "--models", str(tmp_path / "m")]
        command = [args[0], *base, *args[1:]] if args and args[0] == "query" else list(args)
        return runner.invoke(cli, command, input=input, catch_exceptions=False)

    return invoke


def test_query_prints_an_aligned_table(run):
    result = run("query", "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT * FROM UNNEST([1,2,3]) AS x; SELECT SUM(x) AS total FROM ds.t")
    assert result.exit_code == 0
    assert "| total |" in result.output and "|     6 |" in result.output
    assert "(1 row)" in result.stderr


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("csv", "x,y\n1,a\n"),
        ("json", '[\n  {\n    "x": 1,\n    "y": "a"\n  }\n]\n'),
        ("jsonl", '{"x": 1, "y": "a"}\n'),
        ("markdown", "| x | y |\n|---|---|\n| 1 | a |\n"),
    ],
)
def test_text_formats(run, fmt, expected):
    assert run("query", "SELECT 1 AS x, 'a' AS y", "--format", fmt).stdout == expected


def test_file_output_and_parquet(run, tmp_path):
    script = tmp_path / "script.sql"
    script.write_text("SELECT 1 AS x;\nSELECT 2 AS x, 'b' AS y;\n")
    out = tmp_path / "out.csv"
    assert run("query", "-f", str(script), "--format", "csv", "--output", str(out)).exit_code == 0
    assert out.read_text() == "x,y\n2,b\n"
    parquet = tmp_path / "out.parquet"
    assert run("query", "SELECT 3 AS x", "--format", "parquet", "-o", str(parquet)).exit_code == 0
    assert pq.read_table(parquet).to_pylist() == [{"x": 3}]


def test_parameters_typed_and_inferred(run):
    result = run("query", "SELECT @n + 1 AS n, @d AS d, @s AS s", "-p", "n=41", "-p", "d:DATE=2020-01-02", "-p", "s=hello", "--format", "json")
    assert json.loads(result.stdout) == [{"n": 42, "d": "2020-01-02", "s": "hello"}]


def test_sql_from_stdin(run):
    assert run("query", "-", input="SELECT 5 AS v").stdout.startswith("+")


def test_errors_exit_1_with_one_message_and_no_traceback(run):
    result = run("query", "SELECT * FROM ds.nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Unknown table ds.nope.")
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["--debug", "query", "--warehouse", str(tmp_path / "w"), "--models", str(tmp_path / "m"), "SELECT * FROM nope"])
    assert result.exit_code == 1 and "Traceback" in result.stderr


def test_version_and_help():
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).output == f"sqlml, version {sqlml.__version__}\n"
    help_text = runner.invoke(cli, ["query", "--help"]).output
    assert "Examples:" in help_text and "--format" in help_text and "--param" in help_text


def test_console_script_runs_in_a_real_process(tmp_path):
    command = [sys.executable, "-m", "sqlml", "query", "--warehouse", str(tmp_path / "w"), "--models", str(tmp_path / "m"), "SELECT 1 AS one", "--format", "csv"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "one\n1\n")
    failed = subprocess.run(command[:-3] + ["SELEC 1"], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and failed.stderr.startswith("Error: Syntax error") and "Traceback" not in failed.stderr
