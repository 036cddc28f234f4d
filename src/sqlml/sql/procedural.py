"""The procedural statements sqlglot does not parse, read from their tokens.

:mod:`sqlml.sql.script` hands over each statement's tokens (the scripting interpreter,
:mod:`sqlml.script`, runs what comes out); DECLARE and SET parse with sqlglot
(``exp.Declare``, ``exp.Set``) there, the rest (ASSERT, RAISE, BREAK/LEAVE, CONTINUE/ITERATE, RETURN,
EXECUTE IMMEDIATE, CALL) are split here at their keywords and their expressions parsed with the
dialect's expression parser, so every part keeps its position in the script.

https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from sqlml.errors import SqlSyntaxError
from sqlml.sql.diagnostics import location_of
from sqlml.sql.nodes import Statement

if TYPE_CHECKING:
    from sqlml.sql.script import ScriptParser


@dataclass
class Assert:
    """``ASSERT condition [AS 'description']``."""

    condition: exp.Expression
    description: str | None


@dataclass
class Raise:
    """``RAISE [USING MESSAGE = message]`` (no message: re-raise the error being handled)."""

    message: exp.Expression | None


@dataclass
class Jump:
    """``BREAK``/``LEAVE`` (``leave``) or ``CONTINUE``/``ITERATE``, optionally naming a label."""

    leave: bool
    label: str | None


@dataclass
class Return:
    """``RETURN``: end the procedure or script."""


@dataclass
class ExecuteImmediate:
    """``EXECUTE IMMEDIATE sql [INTO var, …] [USING value [AS name], …]``."""

    sql: exp.Expression
    into: list[str] = field(default_factory=list)
    using: list[tuple[exp.Expression, str | None]] = field(default_factory=list)


@dataclass
class Call:
    """``CALL [dataset.]procedure(argument, …)``."""

    dataset: str | None
    name: str
    arguments: list[exp.Expression]


#: Procedural statements sqlglot parses itself (``exp.Declare``, ``exp.Set``).
SQLGLOT_PARSED = ("DECLARE", "SET")


def parse_procedural(parser: ScriptParser, statement: Statement):
    """One of this module's records for a procedural statement other than DECLARE and SET.

    Called through :meth:`ScriptParser.parse_statement`, which remembers the result.

    Raises:
        SqlSyntaxError: the statement is malformed.
    """
    verb, tokens = statement.verb, statement.tokens
    rest = tokens[1:]
    if verb == "ASSERT":
        parts = _split_words(rest, ("AS",))
        condition = parser.parse_expression(parts[0][1], statement.number, after=statement.first)
        description = None
        if len(parts) > 1:
            text = parts[1][1]
            if len(text) != 1 or text[0].token_type != TokenType.STRING:
                raise _error(parser, statement, text[0] if text else tokens[-1], "ASSERT … AS takes a string literal")
            description = text[0].text
        return Assert(condition, description)
    if verb == "RAISE":
        if not rest:
            return Raise(None)
        if [t.text.upper() for t in rest[:3]] != ["USING", "MESSAGE", "="] or len(rest) < 4:
            raise _error(parser, statement, rest[0], "Expected RAISE USING MESSAGE = <message>")
        return Raise(parser.parse_expression(rest[3:], statement.number, after=rest[2]))
    if verb in ("BREAK", "LEAVE", "CONTINUE", "ITERATE"):
        if len(rest) > 1:
            raise _error(parser, statement, rest[1], f"{verb} takes at most a label")
        return Jump(verb in ("BREAK", "LEAVE"), rest[0].text if rest else None)
    if verb == "RETURN":
        if rest:
            raise _error(parser, statement, rest[0], "RETURN takes no value in a script or procedure")
        return Return()
    if verb == "EXECUTE":
        return _execute_immediate(parser, statement, rest)
    if verb == "CALL":
        return _call(parser, statement, rest)
    raise _error(parser, statement, tokens[0], f"Unexpected {verb}")


def _execute_immediate(parser: ScriptParser, statement: Statement, tokens: list[Token]) -> ExecuteImmediate:
    if not tokens or tokens[0].text.upper() != "IMMEDIATE":
        raise _error(parser, statement, tokens[0] if tokens else statement.first, "Expected EXECUTE IMMEDIATE")
    parts = _split_words(tokens[1:], ("INTO", "USING"))
    node = ExecuteImmediate(parser.parse_expression(parts[0][1], statement.number, after=tokens[0]))
    for word, part in parts[1:]:
        items = _split_commas(part)
        if word == "INTO":
            for item in items:
                if len(item) != 1:
                    raise _error(parser, statement, item[0] if item else statement.first, "INTO takes variable names")
                node.into.append(item[0].text)
        else:
            for item in items:
                value = _split_words(item, ("AS",))
                alias = value[1][1][0].text if len(value) > 1 and value[1][1] else None
                node.using.append((parser.parse_expression(value[0][1], statement.number, after=statement.first), alias))
    return node


def _call(parser: ScriptParser, statement: Statement, tokens: list[Token]) -> Call:
    expression = parser.parse_expression(tokens, statement.number, after=statement.first)
    dataset = None
    if isinstance(expression, exp.Dot):
        dataset, expression = expression.this.name, expression.expression
    if not isinstance(expression, exp.Func):
        raise _error(parser, statement, tokens[0] if tokens else statement.first, "Expected CALL <procedure>(<arguments>)")
    name = expression.name if isinstance(expression, exp.Anonymous) else expression.sql_name()
    arguments = list(expression.expressions) if isinstance(expression, exp.Anonymous) else list(expression.iter_expressions())
    return Call(dataset, name, arguments)


_BRACKETS = ({TokenType.L_PAREN, TokenType.L_BRACKET}, {TokenType.R_PAREN, TokenType.R_BRACKET})
#: Also the angle brackets of ``ARRAY<…>``/``STRUCT<…>``, for type lists (no comparisons there).
TYPE_BRACKETS = ({*_BRACKETS[0], TokenType.LT}, {*_BRACKETS[1], TokenType.GT})


def split_tokens(tokens: list[Token], is_separator, brackets=_BRACKETS) -> list[tuple[Token | None, list[Token]]]:
    """``tokens`` cut at the separators outside brackets: ``[(None, head), (separator, part), …]``."""
    parts: list[tuple[Token | None, list[Token]]] = [(None, [])]
    depth = 0
    for token in tokens:
        if token.token_type in brackets[0]:
            depth += 1
        elif token.token_type in brackets[1]:
            depth -= 1
        if depth == 0 and is_separator(token):
            parts.append((token, []))
        else:
            parts[-1][1].append(token)
    return parts


def _split_words(tokens: list[Token], words: tuple[str, ...]) -> list[tuple[str | None, list[Token]]]:
    """``tokens`` cut at each of ``words`` (keywords, not strings or quoted names)."""
    is_word = lambda t: t.token_type not in (TokenType.STRING, TokenType.IDENTIFIER) and t.text.upper() in words  # noqa: E731
    return [(None if word is None else word.text.upper(), part) for word, part in split_tokens(tokens, is_word)]


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    return [part for _, part in split_tokens(tokens, lambda t: t.token_type == TokenType.COMMA)]


def _error(parser: ScriptParser, statement: Statement, token: Token, message: str) -> SqlSyntaxError:
    return SqlSyntaxError(message, location=location_of(token, parser.sql, statement.number, parser.path))
