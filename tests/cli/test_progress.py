"""Training progress in the CLI: a live line on stderr with iterations, elapsed time and ETA."""

from __future__ import annotations

import io

from click.testing import CliRunner

from sqlml.cli.main import cli
from sqlml.cli.progress_bar import ProgressBar, render_line
from sqlml.progress import Task

TRAIN = (
    "CREATE SCHEMA ds; CREATE MODEL ds.m OPTIONS(model_type='boosted_tree_regressor', max_iterations=30, "
    "early_stop=FALSE) AS SELECT x, x * 2 AS label FROM UNNEST(GENERATE_ARRAY(1, 500)) AS x"
)


def test_render_line_shows_count_elapsed_and_eta():
    task = Task("Training ds.m (linear_reg)", total=20, unit="iterations", done=5, started=0.0)
    line = render_line(task, width=10)
    assert line.startswith("Training ds.m (linear_reg)  [##........] 5/20 iterations  ")
    assert "s elapsed, ETA " in line


def test_bar_draws_and_clears_the_line():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    task = Task("Training", total=2, unit="iterations")
    bar.started(task)
    task.done = 2
    bar.advanced(task)
    bar.finished(task)
    text = stream.getvalue()
    assert "0/2 iterations" in text and "2/2 iterations" in text
    assert text.endswith("\r\033[K")


def test_cli_shows_training_progress_when_asked():
    result = CliRunner().invoke(cli, ["query", "--warehouse", ":memory:", "--progress", TRAIN])
    assert result.exit_code == 0, result.output
    assert "Training ds.m (boosted_tree_regressor)" in result.stderr
    assert "30/30 iterations" in result.stderr


def test_cli_stays_quiet_without_a_terminal():
    result = CliRunner().invoke(cli, ["query", "--warehouse", ":memory:", TRAIN])
    assert result.exit_code == 0, result.output
    assert "iterations" not in result.stderr
