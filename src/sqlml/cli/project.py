"""Project commands: ``sqlml run``, ``build``, ``seed``, ``test``, ``ls``, ``dag``, ``compile``, ``runs``, ``schedule``."""

from __future__ import annotations

import functools
from pathlib import Path

import click

import sqlml
from sqlml.cli.main import cli, emit, engine_choice, engine_options, error_handler, warehouse_options
from sqlml.project import RunOptions, Runner, load_project
from sqlml.project.history import History
from sqlml.project.kinds import Command, NodeKind


def project_options(func):
    """``--project``, ``--warehouse``, ``--models``, ``--lock-timeout`` and ``--vars``."""
    options = [
        click.option("--project", "project_dir", type=click.Path(file_okay=False), help="The project folder (default: . if it has sqlml_project.yml or dbt_project.yml, else ./sql)."),
        warehouse_options(warehouse=None, models=None),
        click.option("--vars", "vars_json", default=None, help="Project vars as JSON or YAML, e.g. '{cutoff: 2026-01-01}'."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def selection_options(func):
    """``--select``, ``--exclude``, ``--full-refresh``, ``--threads`` and friends."""
    options = [
        click.option("-s", "--select", multiple=True, help="Nodes: name, name+, +name, tag:daily, path:marts, kind:ml."),
        click.option("--exclude", multiple=True, help="Nodes to leave out (same syntax)."),
        click.option("--full-refresh", is_flag=True, help="Rebuild incremental tables and retrain every model."),
        click.option("--threads", type=int, default=1, show_default=True, help="Nodes run at once."),
        click.option("--changed-only", is_flag=True, help="Skip nodes whose SQL and inputs are unchanged."),
        click.option("--retry-failed", is_flag=True, help="Run only what did not succeed last time: failed, skipped, interrupted or never started."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def open_runner(project_dir, warehouse, models, vars_json, lock_timeout, echo=click.echo) -> Runner:
    """Load the project and open its warehouse; ``echo`` prints the runner's progress lines."""
    import yaml

    variables = yaml.safe_load(vars_json) if vars_json else None
    if variables is not None and not isinstance(variables, dict):
        raise sqlml.ProjectError("--vars must be a mapping, e.g. '{\"cutoff\": \"2026-01-01\"}'.")
    engine, master = engine_choice()
    project = load_project(project_dir, vars=variables, warehouse=warehouse, models=models, engine=engine, master=master)
    return Runner(project, echo=echo, lock_timeout=lock_timeout)


def _run(command: Command, project_dir, warehouse, models, lock_timeout, vars_json, select, exclude, full_refresh, threads,
         changed_only, retry_failed):  # fmt: skip
    options = RunOptions(command, list(select), list(exclude), full_refresh, threads, changed_only, retry_failed)
    with open_runner(project_dir, warehouse, models, vars_json, lock_timeout) as runner:
        outcomes = runner.run(options)
    if any(o.status.is_failure for o in outcomes):
        raise click.exceptions.Exit(1)


@cli.command()
@project_options
@selection_options
@engine_options
@error_handler
def run(**kwargs):
    """Build seeds, data models, ML models and scripts in dependency order."""
    _run(Command.RUN, **kwargs)


@cli.command()
@project_options
@selection_options
@engine_options
@error_handler
def build(**kwargs):
    """Run and test in dependency order; a failing test skips everything downstream."""
    _run(Command.BUILD, **kwargs)


@cli.command()
@project_options
@selection_options
@error_handler
def seed(**kwargs):
    """Load the CSV files under seeds/ as tables."""
    _run(Command.SEED, **kwargs)


@cli.command()
@project_options
@selection_options
@error_handler
def test(**kwargs):
    """Run the project's data tests (YAML generic tests and tests/*.sql)."""
    _run(Command.TEST, **kwargs)


@cli.command(name="ls")
@project_options
@click.option("-s", "--select", multiple=True)
@click.option("--exclude", multiple=True)
@error_handler
def list_nodes(project_dir, warehouse, models, lock_timeout, vars_json, select, exclude):
    """List the project's nodes: name, kind, materialization, relation and tags."""
    with open_runner(project_dir, warehouse, models, vars_json, lock_timeout) as runner:
        for name in runner.graph.select(list(select), list(exclude), runner.project.root):
            node = runner.nodes[name]
            how = node.materialized if node.kind is NodeKind.DATA else ""
            tags = ",".join(node.tags)
            click.echo("\t".join([name, node.kind, how, node.relation or "", tags]).rstrip())


@cli.command()
@project_options
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid", "dot"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the graph to a file.")
@error_handler
def dag(project_dir, warehouse, models, lock_timeout, vars_json, fmt, output):
    """Print the dependency graph (text), or write it as Mermaid or Graphviz DOT."""
    with open_runner(project_dir, warehouse, models, vars_json, lock_timeout) as runner:
        text = {"text": runner.graph.text, "mermaid": runner.graph.mermaid, "dot": runner.graph.dot}[fmt]()
    if output:
        Path(output).write_text(text)
    else:
        click.echo(text)


@cli.command(name="compile")
@project_options
@click.option("-s", "--select", multiple=True)
@error_handler
def compile_nodes(project_dir, warehouse, models, lock_timeout, vars_json, select):
    """Show the SQL each node will run, Jinja rendered."""
    with open_runner(project_dir, warehouse, models, vars_json, lock_timeout) as runner:
        for name in runner.graph.select(list(select), None, runner.project.root):
            click.echo(f"-- {name} ({runner.nodes[name].kind})\n{runner.compile(runner.nodes[name])};\n")


@cli.command()
@project_options
@click.option("--run", "run_id", default=None, help="Show the node runs of one run.")
@click.option("-n", "--limit", type=int, default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table")
@error_handler
def runs(project_dir, warehouse, models, lock_timeout, vars_json, run_id, limit, fmt):
    """Show recent runs, or the nodes of one run (--run ID); runs whose process died show as interrupted."""
    echo = functools.partial(click.echo, err=True)  # the table (or CSV, JSON) alone goes to stdout
    with open_runner(project_dir, warehouse, models, vars_json, lock_timeout, echo) as runner:
        history = History(runner.connection)
        runner.recover(history)
        emit(history.node_runs(run_id) if run_id else history.recent_runs(limit), fmt, None)


@cli.command()
@project_options
@click.option("--once", is_flag=True, help="Run what is due now and exit (for system cron).")
@click.option("--retries", type=int, default=2, show_default=True)
@click.option("--backoff", type=float, default=30.0, show_default=True, help="Seconds before the first retry; doubles each time.")
@click.option("--catchup-hours", type=float, default=24.0, show_default=True, help="How old a missed run may be and still be caught up.")
@error_handler
def schedule(project_dir, warehouse, models, lock_timeout, vars_json, once, retries, backoff, catchup_hours):
    """Run nodes on their cron schedules (config(schedule=…) or the project's `schedule`)."""
    from sqlml.project import scheduler  # croniter and APScheduler: loaded for this command only

    policy = scheduler.SchedulePolicy(retries, backoff, catchup_hours)
    with open_runner(project_dir, warehouse, models, vars_json, lock_timeout) as runner:
        if not once:
            scheduler.run_forever(runner, policy)
            return
        history = History(runner.connection)
        runner.recover(history)
        due = scheduler.due_nodes(runner, history, catchup_hours=catchup_hours)
        if not due:
            click.echo("Nothing is due.")
            return
        outcomes = scheduler.run_due(runner, due, policy)
    if any(o.status.is_failure for o in outcomes):
        raise click.exceptions.Exit(1)


__all__ = ["build", "compile_nodes", "dag", "list_nodes", "run", "runs", "schedule", "seed", "test"]
