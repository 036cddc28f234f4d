"""``sqlml serve``: an HTTP prediction endpoint for the models of a store."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys

import click

from sqlml.cli.main import cli, data_options, error_handler


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless told otherwise.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--model", "pinned", multiple=True, help="A model to load at start (dataset.model[@version|alias]); repeatable.")
@click.option("--split", "splits", multiple=True, help="Traffic split, e.g. ds.m@production=90,ds.m@staging=10; repeatable.")
@click.option(
    "--token-file", type=click.Path(exists=True, dir_okay=False), help="Require Authorization: Bearer <the file's token> on every path but /healthz."
)
@click.option(
    "--log-table",
    help="Append every served prediction to this warehouse table (dataset.table), spooled to disk first: none is lost while the warehouse is busy or the server is killed.",
)
@click.option("--refresh-seconds", default=2.0, show_default=True, type=float, help="How often moved aliases are picked up.")
@click.option(
    "--max-batch-wait-ms",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="The longest a :predict request waits for concurrent ones to be scored in the same batch (0: only those already arrived).",
)
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (each keeps its own warm models).")
@data_options
@error_handler
def serve(host, port, pinned, splits, token_file, log_table, refresh_seconds, max_batch_wait_ms, workers, warehouse, models, dialect, lock_timeout):
    """Serve predictions over HTTP: POST /v1/models/{dataset.model[@alias]}:predict with
    {"instances": [{…}]}. OpenAPI at /openapi.json, docs at /docs.

    \b
    Examples:
      sqlml serve --model credit.credit_decision@production
      sqlml serve --split credit.credit_decision@production=90,credit.credit_decision@staging=10
      curl -s localhost:8080/v1/models/credit.credit_decision:predict -H 'content-type: application/json' \\
           -d '{"instances": [{"age": 30, …}]}'
    """
    from sqlml.serve.factory import CONFIG_VARIABLE, build_app
    from sqlml.serve.prediction_log import parse_table
    from sqlml.serve.server import run

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    config = {
        "warehouse": warehouse, "models": models, "lock_timeout": lock_timeout, "pinned": list(pinned), "splits": list(splits),
        "token_file": token_file, "log_table": log_table, "refresh_seconds": refresh_seconds, "max_batch_wait_ms": max_batch_wait_ms,
    }  # fmt: skip
    # uvicorn stops taking connections on SIGTERM and lets in-flight requests finish, then raises
    # the signal again; this handler takes it, so a graceful stop exits with status 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    if log_table:
        parse_table(log_table)  # a bad name is an error here, not in each worker
    if workers > 1:
        os.environ[CONFIG_VARIABLE] = json.dumps(config)
        run("sqlml.serve.factory:app_from_environment", host=host, port=port, workers=workers)
    else:
        run(build_app(config), host=host, port=port)
