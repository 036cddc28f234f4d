"""The ``sqlml`` command: a thin front door over :class:`sqlml.Connection`.

Every command that opens a warehouse takes ``--warehouse``, ``--models`` and ``--lock-timeout``
(:func:`warehouse_options`); ``query`` takes ``--read-only`` too (:func:`read_only_option`). Errors print as
``Error: <message>`` on stderr with exit status 1; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

import sqlml
from sqlml.cli.commands import COMMANDS
from sqlml.errors import Error
from sqlml.render import FORMATS

if TYPE_CHECKING:
    from sqlml.connection import Connection
    from sqlml.result import Result

EXAMPLES = """
\b
Examples:
  sqlml query "SELECT 1 AS x"
  sqlml query "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT * FROM UNNEST([1,2,3]) AS x; SELECT SUM(x) FROM ds.t"
  sqlml query -f script.sql --format csv --output out.csv
  sqlml query "SELECT * FROM ds.t WHERE x > @min" --param min=1
  sqlml run                      # run the SQL project in ./sql (or --project DIR)
  sqlml shell                    # an interactive prompt (.help lists its commands)
  sqlml report ds.model -o report.html
  sqlml serve --model ds.model@production
"""


def error_handler(func):
    """Turn sqlml errors into one clear message and exit status 1 (traceback with --debug)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = ctx.find_root().params.get("debug", False)
        try:
            return func(*args, **kwargs)
        except Error as error:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {error}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Cancelled.", err=True)
            ctx.exit(130)

    return wrapper


def warehouse_options(warehouse: str | None = "warehouse", models: str | None = "models"):
    """A decorator adding ``--warehouse``, ``--models`` and ``--lock-timeout``.

    Every command that opens a warehouse takes these three, spelled and defaulted the same way.

    Args:
        warehouse / models: the defaults; None where the project names them (``sqlml run`` …).
    """
    project = " Default: the project's." if warehouse is None else ""
    options = [
        click.option("--warehouse", default=warehouse, show_default=warehouse is not None, help="Warehouse folder, or :memory:." + project),
        click.option("--models", default=models, show_default=models is not None, help="Model store folder." + project),
        click.option("--lock-timeout", type=float, default=30.0, show_default=True,
                     help="Seconds to wait for another process to release the warehouse."),
    ]  # fmt: skip

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def data_options(func):
    """``--warehouse``, ``--models``, ``--lock-timeout`` and ``--dialect``."""
    func = click.option("--dialect", type=click.Choice(["bigquery", "duckdb"]), default="bigquery", show_default=True)(func)
    return warehouse_options()(func)


def engine_options(func):
    """``--engine duckdb|spark`` and ``--master URL``: where the SQL runs. Kept in click's context
    for :func:`open_connection` and the project runner (:func:`engine_choice`), so the command's own
    parameters stay as they are; pyspark is imported only when a Spark connection opens."""

    @functools.wraps(func)
    def wrapper(*args, engine, master, **kwargs):
        if master is not None and engine != "spark":
            raise click.UsageError("--master is the Spark master URL: use it with --engine spark.")
        click.get_current_context().meta["sqlml.engine"] = (engine, master)
        return func(*args, **kwargs)

    wrapper = click.option("--master", default=None, help="With --engine spark: the Spark master URL (default local[2]).")(wrapper)
    return click.option(
        "--engine", type=click.Choice(["duckdb", "spark"]), default=None, help="Where the SQL runs (default duckdb, or the project's)."
    )(wrapper)


def read_only_option(func):
    """``--read-only``: open the warehouse read-only (:func:`sqlml.connect`'s ``read_only``), so a
    statement that writes fails instead of changing it. Kept in click's context for
    :func:`open_connection` (:func:`read_only_choice`), as ``--engine`` is, so the command's own
    parameters stay as they are."""

    @functools.wraps(func)
    def wrapper(*args, read_only, **kwargs):
        click.get_current_context().meta["sqlml.read_only"] = read_only
        return func(*args, **kwargs)

    return click.option("--read-only", is_flag=True, help="Open the warehouse read-only: statements that write fail.")(wrapper)


def read_only_choice() -> bool:
    """Whether the running command was given ``--read-only``."""
    context = click.get_current_context(silent=True)
    return bool(context.meta.get("sqlml.read_only")) if context is not None else False


def engine_choice() -> tuple[str | None, str | None]:
    """``(--engine, --master)`` of the running command, ``(None, None)`` when not given."""
    context = click.get_current_context(silent=True)
    return context.meta.get("sqlml.engine", (None, None)) if context is not None else (None, None)


def open_connection(warehouse: str, models: str, dialect: str, lock_timeout: float, **options) -> Connection:
    """A connection for a CLI command (on Spark with ``--engine spark``)."""
    engine, master = engine_choice()
    if engine == "spark":
        options.update(engine="spark", spark=master)
    if read_only_choice():
        options.update(read_only=True)
    return sqlml.connect(warehouse, models, dialect, lock_timeout=lock_timeout, **options)


class LazyGroup(click.Group):
    """A group that imports the module of a command (:data:`~sqlml.cli.commands.COMMANDS`) when it is asked for.

    ``sqlml query`` thus never imports the project runner, the shell, the report or the server.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, including those whose module is not imported yet."""
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name``, importing the module that defines it the first time."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name])
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, epilog=EXAMPLES)
@click.version_option(sqlml.__version__, prog_name="sqlml")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
def cli(debug: bool) -> None:
    """sqlml: BigQuery ML's SQL on an embedded DuckDB warehouse."""


@cli.command(epilog=EXAMPLES)
@click.argument("sql", required=False)
@click.option("-f", "--file", "file", type=click.Path(exists=True, dir_okay=False), help="Read the SQL from a file.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the result to a file.")
@click.option("-p", "--param", "params", multiple=True, help="A query parameter: name=value or name:TYPE=value.")
@click.option("--progress/--no-progress", default=None, help="Show training progress (default: when stderr is a terminal).")
@data_options
@engine_options
@read_only_option
@error_handler
def query(sql, file, fmt, output, params, progress, warehouse, models, dialect, lock_timeout):
    """Run SQL (a statement or a whole script) and print the last statement's result."""
    from sqlml.cli.params import parse_param

    if file:
        sql, path = Path(file).read_text(), file
    elif sql == "-" or (sql is None and not sys.stdin.isatty()):
        sql, path = sys.stdin.read(), "<stdin>"
    elif sql is None:
        raise click.UsageError("Give the SQL as an argument, with -f FILE, or on standard input.")
    else:
        path = None
    values = dict(parse_param(p) for p in params)
    show = sys.stderr.isatty() if progress is None else progress
    with open_connection(warehouse, models, dialect, lock_timeout) as connection:

        def work() -> None:
            with progress_reporting(show):
                emit(connection.query(sql, values or None, path=path), fmt, output)

        interruptible(connection, work)


def interruptible(connection: Connection, work) -> None:
    """``work()`` on a worker thread, so that Ctrl-C stops the statement at once.

    On the main thread, Python hands Ctrl-C over only between bytecodes, and DuckDB asks for it
    only between its tasks — one task of a large join runs for minutes. Here the main thread
    waits; at Ctrl-C it interrupts the connection (DuckDB's interrupt; training stops at its next
    iteration), waits for the statement to stop cleanly (it changed nothing) and raises
    KeyboardInterrupt ("Cancelled.", status 130) — unless it had completed all the same.
    """
    import threading

    outcome: list = []
    done = threading.Event()  # not Thread.join: on 3.11 a join that Ctrl-C interrupts marks the thread ended

    def run() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - handed back to the main thread
            outcome.append(error)
        finally:
            done.set()

    threading.Thread(target=run, name="sqlml-query", daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        connection.interrupt()
        done.wait()
        if outcome:
            raise KeyboardInterrupt from outcome[0]
    if outcome:
        raise outcome[0]


def progress_reporting(show: bool):
    """A context that draws progress of long statements on stderr, or does nothing."""
    if not show:
        return contextlib.nullcontext()
    from sqlml.cli.progress_bar import ProgressBar
    from sqlml.progress import reporting

    return reporting(ProgressBar())


def emit(result: Result, fmt: str, output: str | None) -> None:
    """Print or write a result in the chosen format (text formats read the rows without Arrow
    when their types allow, see :meth:`sqlml.Result.rows`)."""
    from sqlml.render import render, write_parquet

    if not result.columns:
        if result.rowcount >= 0:
            click.echo(f"{result.rowcount} row(s) affected.", err=output is None)
        return
    if fmt == "parquet":
        if output is None:
            raise click.UsageError("--format parquet needs --output FILE.")
        write_parquet(result.arrow(), output)
        return
    rows = result.rows()
    text = render(rows, fmt)
    if output:
        Path(output).write_text(text + "\n")
    else:
        click.echo(text)
        if fmt in ("table", "vertical"):
            count = len(rows.values)
            click.echo(f"({count} row{'s' if count != 1 else ''})", err=True)


def main() -> None:
    """Entry point of the ``sqlml`` console script.

    When the command is done, every object alive is frozen (:func:`gc.freeze`): the interpreter's
    teardown then skips them in its cycle collections, which otherwise walk everything a statement's
    imports made — sqlglot's classes and parsed templates — once more on the way out (about a
    sixth of a first ``sqlml query "SELECT 1"``'s CPU time; the process is ending, so nothing
    is kept longer). Exit handlers and finalizers still run.
    """
    try:
        cli(prog_name="sqlml")
    finally:
        gc.freeze()
