"""The ``sqlml`` group: every command that opens a warehouse takes the same warehouse options."""

from __future__ import annotations

import importlib

import click

from sqlml.cli.commands import COMMAND_MODULES
from sqlml.cli.main import cli


def test_every_command_takes_warehouse_models_and_lock_timeout_the_same_way():
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    assert {"query", "shell", "report", "serve", "run", "build", "seed", "test", "schedule", "runs", "compile", "ls", "dag"} <= set(cli.commands)
    for name, command in cli.commands.items():  # each opens a connection (project commands through their Runner)
        options = {param.name: param for param in command.params}
        assert {"warehouse", "models", "lock_timeout"} <= set(options), name
        assert (options["warehouse"].opts, options["models"].opts) == (["--warehouse"], ["--models"]), name
        timeout = options["lock_timeout"]
        assert (timeout.opts, timeout.type, timeout.default) == (["--lock-timeout"], click.FLOAT, 30.0), name
