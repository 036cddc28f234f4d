"""``sqlml shell``: the interactive prompt, or a script runner when given ``-c`` or piped input."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sqlml.cli.main import cli, data_options, engine_options, error_handler, open_connection


@cli.command()
@click.option("-c", "--command", "command", help="Run this SQL (and dot-commands) and exit.")
@click.option("--history", type=click.Path(dir_okay=False), default="~/.sqlml_history", show_default=True, help="History file.")
@data_options
@engine_options
@error_handler
def shell(command, history, warehouse, models, dialect, lock_timeout):
    """An interactive SQL prompt: highlighting, completion, history, progress, Ctrl-C to cancel.

    \b
    Examples:
      sqlml shell
      sqlml shell --warehouse ./warehouse --models ./models
      echo "SELECT 1;" | sqlml shell
      sqlml shell -c "SELECT * FROM ML.EVALUATE(MODEL ds.churn)"
    """
    from sqlml.shell.app import run_interactive, run_script
    from sqlml.shell.session import Session

    interactive = command is None and sys.stdin.isatty()
    with open_connection(warehouse, models, dialect, lock_timeout) as connection:
        session = Session(connection, interactive=interactive and sys.stderr.isatty())
        try:
            if command is not None:
                status = run_script(session, command, "<command>")
            elif not interactive:
                status = run_script(session, sys.stdin.read(), "<stdin>")
            else:
                status = run_interactive(session, Path(history))
        finally:
            session.close()
    sys.exit(status)
