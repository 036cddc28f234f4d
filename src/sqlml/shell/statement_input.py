"""When does typed text form a script ready to run?

Text is complete when its last token is ``;`` and the script parser finds no block left open
(BEGIN … END, IF … END IF, loops, CASE, CREATE PROCEDURE bodies) and no string or comment
unterminated. Any other syntax error also counts as complete, so that the shell reports it
instead of waiting for more lines. The check uses sqlml's own tokenizer and script parser, so
the shell and the executor never disagree about where a statement ends.
"""

from __future__ import annotations

from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from sqlml.errors import SqlSyntaxError
from sqlml.sql.script import ScriptParser

#: What the script parser says when the text ends inside a block.
_OPEN_BLOCK = "the end of the script"


def is_complete(text: str, dialect) -> bool:
    """Whether ``text`` (SQL typed so far) should run now rather than wait for more lines."""
    if not text.strip():
        return False
    try:
        tokens = dialect().tokenize(text)
    except TokenError:
        return False  # an unterminated string, quoted name or comment
    if not tokens or tokens[-1].token_type != TokenType.SEMICOLON:
        return False
    try:
        ScriptParser(text, dialect).nodes()
    except SqlSyntaxError as error:
        return _OPEN_BLOCK not in error.message
    return True
