"""``sqlml ui``: the warehouse, the model registry and the project's runs as local web pages."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from sqlml.cli.main import cli, data_options, error_handler, open_connection


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless told otherwise.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--token-file", type=click.Path(exists=True, dir_okay=False),
    help="A file holding the token that allows changes (moving aliases, writing SQL); without it the UI is read-only.",
)  # fmt: skip
@click.option("--project", "project_dir", type=click.Path(exists=True, file_okay=False), help="A project folder whose DAG the runs pages draw.")
@data_options
@error_handler
def ui(host, port, token_file, project_dir, warehouse, models, dialect, lock_timeout):
    """Browse datasets, models (versions side by side, charts, compare, aliases) and project runs
    in a browser, and run SQL. Works offline; read-only unless --token-file is given.

    \b
    Examples:
      sqlml ui                                   # http://127.0.0.1:8765
      sqlml ui --token-file ~/.sqlml-ui-token --project sql
    """
    from sqlml.serve.server import run
    from sqlml.ui import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    token = Path(token_file).read_text().strip() if token_file else None
    if token_file and not token:
        raise click.BadParameter("the token file is empty.", param_hint="--token-file")
    with open_connection(warehouse, models, dialect, lock_timeout) as connection:
        click.echo(f"sqlml ui on http://{host}:{port} ({'changes need the token' if token else 'read-only'})", err=True)
        run(create_app(connection, token, project_dir), host=host, port=port)
