"""Modules that add commands to the ``sqlml`` group; imported by :func:`sqlml.cli.main.main`.

Each module defines its click command(s) and attaches them with ``cli.add_command``.
"""

COMMAND_MODULES: tuple[str, ...] = ("sqlml.cli.project", "sqlml.cli.shell", "sqlml.cli.report", "sqlml.cli.serve")
