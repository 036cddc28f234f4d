"""Building the served application from the ``sqlml serve`` options, in this process or in each
of several worker processes (uvicorn starts workers from an import string, so the options travel
in an environment variable as JSON)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import sqlml
from sqlml.serve.app import create_app
from sqlml.serve.batching import MAX_WAIT_SECONDS
from sqlml.serve.models import ModelSet, parse_split
from sqlml.serve.prediction_log import LOCK_TIMEOUT, PredictionLog

if TYPE_CHECKING:
    from fastapi import FastAPI

CONFIG_VARIABLE = "SQLML_SERVE_CONFIG"


def build_app(config: dict) -> FastAPI:
    """The FastAPI app for ``config`` (warehouse, models, pinned, splits, token_file, log_table,
    refresh_seconds, lock_timeout, max_batch_wait_ms); it closes what it opened when the server
    shuts down."""
    # The server uses the warehouse only for the prediction log, which retries with back-off
    # rather than wait (one attempt waits at most LOCK_TIMEOUT) and lets go of the file as soon
    # as a write is done, so that other processes find it free.
    lock_timeout = min(config.get("lock_timeout", 30.0), LOCK_TIMEOUT)
    connection = sqlml.connect(config["warehouse"], config["models"], lock_timeout=lock_timeout, idle_release=0)
    served = ModelSet(connection.models, config.get("pinned", []), dict(parse_split(s) for s in config.get("splits", [])), config.get("refresh_seconds", 2.0))
    prediction_log = PredictionLog(connection, config["log_table"]) if config.get("log_table") else None
    token = Path(config["token_file"]).read_text().strip() if config.get("token_file") else None

    def close() -> None:
        served.close()
        if prediction_log is not None:
            prediction_log.close()
        connection.close()

    max_batch_wait = config.get("max_batch_wait_ms", MAX_WAIT_SECONDS * 1000) / 1000
    return create_app(served, connection.models, token=token, prediction_log=prediction_log, on_shutdown=close, max_batch_wait=max_batch_wait)


def app_from_environment() -> FastAPI:
    """The app of one worker process, from :data:`CONFIG_VARIABLE`."""
    return build_app(json.loads(os.environ[CONFIG_VARIABLE]))
