"""The shell's front ends: the interactive prompt (prompt_toolkit) and the non-interactive runner.

Interactive: Enter runs the input once it is a complete script (:func:`is_complete`) or a
dot-command, else starts a new line; SQL is highlighted (Pygments' SQL lexer); history persists
in ``~/.sqlml_history`` and Ctrl-R searches it; Tab completes (:mod:`.completion`). Ctrl-C at the
prompt clears the input, during a statement cancels it; Ctrl-D (or ``.quit``) leaves.

Non-interactive (``-c SQL``, or input piped in): runs the input statement by statement and stops at
the first failure, so the exit status tells a calling script whether everything ran.
"""

from __future__ import annotations

from pathlib import Path

from sqlml.shell.dot_commands import is_dot_command
from sqlml.shell.session import Session
from sqlml.shell.statement_input import is_complete

PROMPT = "sqlml> "
CONTINUATION = "   ...> "
HISTORY_FILE = Path("~/.sqlml_history")
BANNER = "sqlml shell — warehouse {warehouse}, models {models}, {dialect} SQL. End statements with ';'; .help lists commands; Ctrl-D leaves."


def run_interactive(session: Session, history: Path = HISTORY_FILE) -> int:
    """The read-eval-print loop; returns the exit status (0)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.enums import DEFAULT_BUFFER
    from prompt_toolkit.filters import has_focus
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer
    from pygments.lexers.sql import SqlLexer

    from sqlml.shell.completion import SqlCompleter

    bindings = KeyBindings()

    @bindings.add("enter", filter=has_focus(DEFAULT_BUFFER))  # not while Ctrl-R searches history
    def _enter(event) -> None:
        buffer = event.current_buffer
        text = buffer.text
        if not text.strip() or is_dot_command(text) or is_complete(text, session.dialect_class):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    history_path = history.expanduser()
    history_path.parent.mkdir(parents=True, exist_ok=True)
    prompt = PromptSession(
        history=FileHistory(str(history_path)),
        lexer=PygmentsLexer(SqlLexer),
        completer=SqlCompleter(session, session.dialect_class),
        multiline=True,
        key_bindings=bindings,
        prompt_continuation=lambda width, line, soft: CONTINUATION.rjust(width),
    )
    connection = session.connection
    session.message(BANNER.format(warehouse=connection.warehouse_path or ":memory:", models=connection.models_path, dialect=connection.dialect))
    while True:
        try:
            text = prompt.prompt(PROMPT)
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt drops what was typed
        except EOFError:
            break
        if not text.strip():
            continue
        try:
            session.run(text)
        except EOFError:
            break
    return 0


def run_script(session: Session, text: str, path: str | None = None) -> int:
    """Run piped or ``-c`` input: dot-commands line by line, SQL statement by statement; stop at
    the first failure. Returns the exit status: 0 when everything ran, 1 otherwise."""
    dialect = session.dialect_class
    pending: list[str] = []
    for line in text.splitlines():
        if not pending and is_dot_command(line):
            try:
                if not session.run(line):
                    return 1
            except EOFError:
                return 0
            continue
        pending.append(line)
        if is_complete("\n".join(pending), dialect):
            if not session.run_sql("\n".join(pending), path=path):
                return 1
            pending = []
    rest = "\n".join(pending)
    if rest.strip() and not session.run_sql(rest, path=path):
        return 1
    return 0
