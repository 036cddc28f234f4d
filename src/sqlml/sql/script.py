"""Read a script: tokenize it, split it into statements and blocks (:mod:`sqlml.sql.blocks`), and
parse each simple statement and each block's expressions with sqlglot, once per script (what was
parsed is kept), or with :mod:`sqlml.sql.procedural` for the procedural statements sqlglot does not
parse.

The result is a list of :mod:`sqlml.sql.nodes` objects; :class:`Statement` is the leaf.
"""

from __future__ import annotations

import copy

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token

from sqlml.errors import Location, SqlSyntaxError, UnsupportedStatementError
from sqlml.sql import depth
from sqlml.sql.blocks import BlockReader
from sqlml.sql.diagnostics import check_characters, check_nesting, check_statement, check_unicode, location_of, parse_error, token_error
from sqlml.sql.external_tables import external_table_error, is_external_table
from sqlml.sql.nodes import Node, Statement
from sqlml.sql.procedural import SQLGLOT_PARSED, parse_procedural

#: Statements handled by the scripting interpreter rather than by sqlglot's statement parser.
# CREATE [OR REPLACE] {VECTOR | SEARCH} INDEX, DROP … INDEX, ALTER VECTOR INDEX: BigQuery's indexes only
# speed searches up (https://cloud.google.com/bigquery/docs/vector-index); sqlml's VECTOR_SEARCH reads
# every row, as BigQuery's does without an index.
_INDEX_HINT = "sqlml keeps no indexes: VECTOR_SEARCH reads every row (an exact search), so remove the statement."


def _index_kind(tokens: list[Token]) -> str | None:
    words = [token.text.upper() for token in tokens[1:5]]
    words = words[2:] if words[:2] == ["OR", "REPLACE"] else words
    return words[0] if words[:2] in (["VECTOR", "INDEX"], ["SEARCH", "INDEX"]) else None


PROCEDURAL_VERBS = {"DECLARE", "SET", "RAISE", "ASSERT", "BREAK", "LEAVE", "CONTINUE", "ITERATE", "RETURN", "CALL", "EXECUTE"}


class ScriptParser:
    """Turns script text into :class:`Node` trees with the given sqlglot dialect.

    Args:
        sql: the script text.
        dialect: a sqlglot Dialect class (``Sqlml`` or ``SqlmlDuckdb``).
        path: the file the script came from, for error messages.
    """

    def __init__(self, sql: str, dialect, path: str | None = None):
        # A leading byte-order mark is not part of the script (BigQuery ignores it); elsewhere it is illegal.
        self.sql = sql.removeprefix("\ufeff")
        self.dialect = dialect
        self.path = path
        self.tokens = self._tokenize()
        self._parsed: dict[int, tuple] = {}  # id(statement or tokens) → (it, what it parsed to)

    def nodes(self) -> list[Node]:
        """Every top-level node of the script, in order."""
        return BlockReader(self.tokens, self.sql, self.path).nodes()

    def parse_all(self, nodes: list[Node]) -> None:
        """Parse every statement and expression of ``nodes`` and of the nodes inside them, keeping
        the results for running: a syntax error anywhere stops a script before any of it runs, as
        BigQuery parses a multi-statement query whole (https://cloud.google.com/bigquery/docs/multi-statement-queries).
        SQL built at run time (EXECUTE IMMEDIATE's string, a CALLed procedure's text) is parsed when it runs.
        """
        for node in nodes:
            for tokens in node.expressions():
                self.parse_expression(tokens, node.number)
            if isinstance(node, Statement):
                self.parse_statement(node)
            else:
                self.parse_all(node.children())

    def parse_statement(self, statement: Statement):
        """A simple statement's tokens as one sqlglot tree, or as a record of
        :mod:`sqlml.sql.procedural` for a procedural statement sqlglot does not parse.

        Each statement is parsed once per script: later calls return the same object. The
        executor runs a top-level statement's tree itself (once); the interpreter runs a copy
        with the variables bound, so a statement in a loop is not parsed again.

        Raises:
            SqlSyntaxError: the tokens do not parse, are not a whole statement or nest too deeply.
            UnsupportedStatementError: sqlglot fell back to an opaque Command.
        """
        return self._remembered(statement, lambda: self._parse_statement(statement))

    def _parse_statement(self, statement: Statement):
        if statement.verb in PROCEDURAL_VERBS and statement.verb not in SQLGLOT_PARSED:
            return parse_procedural(self, statement)
        trees = self._parse(statement.tokens, statement.number, lambda parser: parser.parse(statement.tokens, self.sql))
        tree = trees[0] if trees else None
        if isinstance(tree, exp.Command) and is_external_table(statement.tokens):  # … WITH CONNECTION
            raise external_table_error(location_of(statement.first, self.sql, statement.number, self.path))
        if isinstance(tree, exp.Command):
            index = _index_kind(statement.tokens)
            raise UnsupportedStatementError(
                f"sqlml does not support the statement {statement.verb} {index} INDEX …" if index else f"sqlml does not support the statement {statement.verb} …",
                hint=_INDEX_HINT if index else "See README.md for the statements sqlml runs.",
                location=location_of(statement.first, self.sql, statement.number, self.path),
            )
        check_statement(tree, statement.tokens, self.dialect.parser_class.STATEMENT_PARSERS, self.sql, statement.number, self.path)
        return tree

    def parse_expression(self, tokens: list[Token], number: int, after: Token | None = None) -> exp.Expression:
        """Parse a token list that holds one expression (an IF condition, a DEFAULT value), once:
        later calls with the same list return the same tree, which callers copy before changing.

        Args:
            after: the keyword the expression follows, where an empty one is reported.
        """
        if not tokens:
            at = after or self.tokens[-1]  # an empty expression without a keyword ends the script
            raise SqlSyntaxError(f"Expected an expression after {at.text}", location=self._location(at, number))
        return self._remembered(tokens, lambda: self._parse_expression(tokens, number))

    def _parse_expression(self, tokens: list[Token], number: int) -> exp.Expression:
        trees = self._parse(tokens, number, lambda parser: parser.parse_into(exp.Condition, tokens, self.sql))
        if not trees or trees[0] is None:
            raise SqlSyntaxError(f"Syntax error: unexpected '{tokens[0].text}'", location=self._location(tokens[0], number))
        return trees[0]

    def fresh_copy(self) -> ScriptParser:
        """This parser with its own copy of every parsed tree (a run changes its trees in place)."""
        clone = copy.copy(self)
        clone._parsed = {k: (key, it.copy() if isinstance(it, exp.Expression) else it) for k, (key, it) in self._parsed.items()}
        return clone

    def _remembered(self, key, parse):
        # ``key`` (a statement or a token list) is kept beside its result so that its id stays its own
        found = self._parsed.get(id(key))
        if found is None:
            found = self._parsed[id(key)] = (key, parse())
        return found[1]

    def _parse(self, tokens: list[Token], number: int, parse) -> list:
        """``parse(parser)`` with a fresh parser, on a deeper stack if the statement needs one."""
        check_nesting(tokens, self.sql, number, self.path)
        try:
            return depth.call(parse, self.dialect().parser())
        except ParseError as error:
            raise parse_error(error, self.sql, self._location(tokens[0], number)) from None
        except RecursionError:
            raise depth.nested_too_deeply(self._location(tokens[0], number)) from None

    def _tokenize(self) -> list[Token]:
        check_unicode(self.sql, self.path)
        try:
            tokens = self.dialect().tokenize(self.sql)
        except TokenError as error:
            raise token_error(error, self.sql, self.path) from None
        check_characters(tokens, self.sql, self.path)
        return tokens

    def _location(self, token: Token, number: int) -> Location:
        return location_of(token, self.sql, number, self.path)
