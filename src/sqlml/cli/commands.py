"""Modules that add commands to the ``sqlml`` group, and which command each one adds.

Each module defines its click command(s) and attaches them with ``cli.add_command``. The group
(:class:`sqlml.cli.main.LazyGroup`) imports a module only when one of its commands is asked for,
so ``sqlml query`` never loads the project runner, the shell, the report or the server.
"""

#: The module that defines each command, by command name.
COMMANDS: dict[str, str] = {
    **dict.fromkeys(("run", "build", "seed", "test", "ls", "dag", "compile", "runs", "schedule"), "sqlml.cli.project"),
    "shell": "sqlml.cli.shell",
    "report": "sqlml.cli.report",
    "serve": "sqlml.cli.serve",
    "ui": "sqlml.cli.ui",
}

COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))
