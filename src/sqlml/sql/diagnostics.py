"""Syntax errors that point at the user's text: sqlglot's reworded, and the checks it does not make.

sqlglot is lenient where BigQuery is strict: it reads an invisible character as part of a name,
an expression (``''``, ``x + 1``) as a statement, and ``CREATE VIEW v`` without its query. The
checks here refuse those with :class:`~sqlml.errors.SqlSyntaxError`, each naming the line and
column, before anything runs. They read characters, tokens and trees, never SQL text patterns.
"""

from __future__ import annotations

import dataclasses
import unicodedata

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from sqlml.errors import Location, SqlSyntaxError
from sqlml.sql.depth import MAX_NESTING, nested_too_deeply

#: Tokens whose text is the user's data (strings, quoted names): any character may be in them.
_QUOTED = {
    TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.RAW_STRING, TokenType.NATIONAL_RAW_STRING,
    TokenType.BYTE_STRING, TokenType.HEX_STRING, TokenType.BIT_STRING, TokenType.HEREDOC_STRING,
    TokenType.UNICODE_STRING, TokenType.IDENTIFIER,
}  # fmt: skip
_OPENING = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE}
_CLOSING = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END}
_STATEMENT_HINT = (
    "Start a statement with a keyword such as SELECT, WITH, CREATE, INSERT, UPDATE, DELETE, MERGE, "
    "DECLARE or SET; to compute a value, write SELECT <expression>."
)


def location_of(token: Token, sql: str, number: int | None = None, path: str | None = None) -> Location:
    """The :class:`Location` of a token in the script text ``sql``."""
    return location_at(sql, token.start, number, length=max(1, token.end - token.start + 1), path=path)


def location_at(sql: str, offset: int, number: int | None = None, length: int = 1, path=None) -> Location:
    """The :class:`Location` of a character offset in the script text ``sql``."""
    offset = max(0, min(offset, len(sql)))
    line_start = sql.rfind("\n", 0, offset) + 1
    line_end = sql.find("\n", offset)
    source_line = sql[line_start : line_end if line_end >= 0 else len(sql)]
    line = sql.count("\n", 0, offset) + 1
    return Location(number, line, offset - line_start + 1, source_line, length, path)


# -- before parsing --------------------------------------------------------------------------


def check_unicode(sql: str, path: str | None = None) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate cannot reach DuckDB as UTF-8)."""
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as error:
        location = location_at(sql, error.start, path=path)
        printable = location.source_line.encode("utf-8", "replace").decode("utf-8")  # '?' for each surrogate
        raise SqlSyntaxError(
            f"The SQL text is not valid Unicode: it holds the lone surrogate U+{ord(sql[error.start]):04X}.",
            hint="Pass text decoded from UTF-8; a lone surrogate is half of a character that was cut in two.",
            location=dataclasses.replace(location, source_line=printable),
        ) from None


def check_characters(tokens: list[Token], sql: str, path: str | None = None) -> None:
    """Refuse invisible characters outside strings, quoted names and comments.

    sqlglot reads a zero-width space, a byte-order mark inside the text or a control character
    as part of a name, so ``SELECT\\u200b 1`` failed far from the cause (BigQuery: "Illegal input
    character").
    """
    for token in tokens:
        if token.token_type in _QUOTED:
            continue
        text = sql[token.start : token.end + 1]
        if text.isprintable():
            continue
        for index, char in enumerate(text):
            if unicodedata.category(char) in ("Cf", "Cc"):
                name = unicodedata.name(char, "")
                raise SqlSyntaxError(
                    f"Syntax error: illegal input character U+{ord(char):04X}{f' ({name})' if name else ''}",
                    hint="It is invisible in most editors; delete it. Text copied from web pages and documents often carries one.",
                    location=location_at(sql, token.start + index, path=path),
                )


def check_nesting(tokens: list[Token], sql: str, number: int, path: str | None = None) -> None:
    """Refuse a statement nested more than :data:`~sqlml.sql.depth.MAX_NESTING` levels deep."""
    level = 0
    for token in tokens:
        if token.token_type in _OPENING:
            level += 1
            if level > MAX_NESTING:
                raise nested_too_deeply(location_of(token, sql, number, path))
        elif token.token_type in _CLOSING:
            level -= 1


# -- after parsing ---------------------------------------------------------------------------


def check_statement(tree, tokens: list[Token], statement_parsers, sql: str, number: int, path: str | None = None) -> None:
    """Refuse a parse that is not a whole statement.

    Args:
        tree: what sqlglot parsed (None when it parsed nothing).
        tokens: the statement's tokens.
        statement_parsers: the dialect parser's ``STATEMENT_PARSERS``: the tokens that start a
            statement other than a query.
    """
    first = tokens[0]
    where = location_of(first, sql, number, path)
    if not isinstance(tree, exp.Expression):
        raise SqlSyntaxError(f"Syntax error: unexpected '{first.text}'", hint=_STATEMENT_HINT, location=where)
    if not isinstance(tree, (exp.Query, exp.Values)) and first.token_type not in statement_parsers:
        if first.token_type == TokenType.VAR or first.text.isidentifier():  # a word: a name or keyword
            message = f"Syntax error: a statement cannot start with '{first.text}'"
        else:
            message = f"Syntax error: {_excerpt(sql, tokens)} is an expression, not a statement"
        raise SqlSyntaxError(message, hint=_STATEMENT_HINT, location=where)
    if isinstance(tree, exp.Create) and (tree.kind or "").upper() == "VIEW" and tree.expression is None:
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_view_statement
        raise SqlSyntaxError(
            "Syntax error: CREATE VIEW needs AS <query>",
            hint=f"Define the view by its query: CREATE VIEW {tree.this.sql(dialect='bigquery')} AS SELECT …",
            location=location_of(tokens[-1], sql, number, path),
        )


def _excerpt(sql: str, tokens: list[Token], width: int = 40) -> str:
    text = sql[tokens[0].start : tokens[-1].end + 1]
    return text if len(text) <= width else text[: width - 1] + "…"


# -- sqlglot's errors ------------------------------------------------------------------------


def parse_error(error: ParseError, sql: str, fallback: Location) -> SqlSyntaxError:
    """sqlglot's ParseError, reworded and placed at the offending token (else at ``fallback``)."""
    detail = error.errors[0] if error.errors else {}
    line, col = detail.get("line"), detail.get("col")
    highlight = detail.get("highlight") or ""
    location = fallback
    if line and col:
        offset = _offset_of(sql, line, col) - max(len(highlight) - 1, 0)
        location = location_at(sql, offset, fallback.statement, max(1, len(highlight)), fallback.path)
    message = _describe_parse_error(detail.get("description") or str(error), highlight)
    return SqlSyntaxError(f"Syntax error: {message}", location=location)


def token_error(error: TokenError, sql: str, path: str | None = None) -> SqlSyntaxError:
    """sqlglot's TokenError: an unterminated string, quoted name or comment."""
    return SqlSyntaxError(
        "Unterminated string, quoted identifier or comment",
        hint="Close the quote (', \", ` or ''') or the /* comment.",
        location=location_at(sql, _token_error_offset(error), None, path=path),
    )


def _describe_parse_error(description: str, near: str) -> str:
    """sqlglot's parser message, reworded for someone who wrote SQL rather than a parser."""
    description = description.rstrip(".")
    near_text = f" near '{near}'" if near else ""
    if description.startswith("Required keyword"):
        # "Required keyword: 'this' missing for <class 'sqlglot.expressions.query.Where'>"
        construct = description.rsplit(".", 1)[-1].rstrip("'>")
        return f"incomplete {construct.upper()} expression{near_text}"
    if "but got <Token" in description:
        # "Expected table name but got <Token token_type: TokenType.SENTINEL, …>"
        expected = description.split(" but got <Token", 1)[0]
        got = "the end of the statement" if "SENTINEL" in description else f"'{near}'"
        return f"{expected[0].lower()}{expected[1:]} but got {got}"
    if description.startswith("Invalid expression / Unexpected token"):
        return f"unexpected '{near}'" if near else "unexpected end of statement"
    return f"{description}{near_text}" if near and near not in description else description


def _offset_of(sql: str, line: int, col: int) -> int:
    """Character offset of a 1-based (line, col) pair as sqlglot reports them."""
    offset = 0
    for _ in range(line - 1):
        offset = sql.find("\n", offset) + 1
    return offset + col - 1


def _token_error_offset(error: TokenError) -> int:
    # sqlglot reports the start of the unterminated token as "Missing ' from <line>:<offset>".
    cause = str(error.__cause__ or "")
    tail = cause.rsplit(":", 1)[-1]
    if tail.strip().isdigit():
        return int(tail)
    return getattr(error, "start", 0) or 0
