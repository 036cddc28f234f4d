"""Split a script's tokens into statements and procedural blocks: the :mod:`sqlml.sql.nodes` tree.

sqlglot parses single statements but leaves procedural SQL (``BEGIN … END``, ``IF … END IF``,
``LOOP``, ``WHILE``, ``REPEAT``, ``FOR … IN``, procedural ``CASE``, ``CREATE PROCEDURE … BEGIN …
END``) to the caller (tobymao/sqlglot#2890, #3780). :class:`BlockReader` walks the token list once,
so semicolons inside strings and comments (which the tokenizer has already consumed) and inside
blocks are never boundaries; it parses nothing itself (:class:`sqlml.sql.script.ScriptParser` does).
https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from sqlml.errors import Location, SqlSyntaxError
from sqlml.sql import depth
from sqlml.sql.diagnostics import location_of
from sqlml.sql.nodes import Block, Case, If, Loop, Node, ProcedureDefinition, Statement

_OPAQUE = {TokenType.STRING, TokenType.IDENTIFIER, TokenType.NUMBER, TokenType.NATIONAL_STRING}

#: The blocks of the procedural language and, for a word that continues one, the words that open it.
_BLOCK_KINDS = ("IF", "LOOP", "WHILE", "REPEAT", "FOR", "CASE")
_BLOCK_PARTS = {"ELSE": "IF or CASE", "ELSEIF": "IF", "THEN": "IF or CASE", "WHEN": "CASE", "UNTIL": "REPEAT",
                "DO": "WHILE or FOR", "EXCEPTION": "BEGIN", "END": "BEGIN, IF, CASE or loop"}  # fmt: skip


class BlockReader:
    """Reads a script's tokens into its top-level :class:`Node` trees, blocks nested inside.

    Args:
        tokens: the script's tokens, from the dialect's tokenizer.
        sql: the script text, for error messages.
        path: the file the script came from, for error messages.
    """

    def __init__(self, tokens: list[Token], sql: str, path: str | None = None):
        self.tokens = tokens
        self.sql = sql
        self.path = path
        self._i = 0
        self._number = 0
        self._blocks = 0  # blocks open around the node being read

    def nodes(self) -> list[Node]:
        """Every top-level node of the script, in order."""
        nodes = []
        while self._skip_semicolons():
            self._number += 1
            nodes.append(self._node())
            self._end_statement()
        return nodes

    def _peek(self, ahead: int = 0) -> Token | None:
        index = self._i + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def _word(self, ahead: int = 0) -> str:
        token = self._peek(ahead)
        if token is None or token.token_type in _OPAQUE:
            return ""
        return token.text.upper()

    def _advance(self) -> Token:
        if self._i >= len(self.tokens):  # the script ends inside a statement (``FOR``)
            at = self._prev_token()
            raise SqlSyntaxError(f"The script ends after '{at.text}'", hint="Finish the statement.", location=self._location(at))
        token = self.tokens[self._i]
        self._i += 1
        return token

    def _prev_token(self) -> Token:
        return self.tokens[min(self._i, len(self.tokens)) - 1]

    def _location(self, token: Token) -> Location:
        return location_of(token, self.sql, self._number, self.path)

    def _expect(self, *words: str) -> list[Token]:
        taken = []
        for word in words:
            if self._word() != word:
                found = self._peek()
                at = found or self._prev_token()
                got = f"'{found.text}'" if found else "the end of the script"
                raise SqlSyntaxError(f"Expected {' '.join(words)} but found {got}", location=self._location(at))
            taken.append(self._advance())
        return taken

    def _skip_semicolons(self) -> bool:
        while self._peek() is not None and self._peek().token_type == TokenType.SEMICOLON:
            self._i += 1
        return self._peek() is not None

    def _end_statement(self) -> None:
        token = self._peek()
        if token is not None and token.token_type != TokenType.SEMICOLON:
            raise SqlSyntaxError(
                f"Expected ';' before '{token.text}'",
                hint="End each statement with a semicolon.",
                location=self._location(token),
            )

    def _node(self) -> Node:
        label = None
        if self._peek(1) is not None and self._peek(1).token_type == TokenType.COLON and self._word(2) in (
            "BEGIN", "LOOP", "WHILE", "REPEAT", "FOR",
        ):  # fmt: skip
            label = self._advance().text
            self._advance()
        start = self._i
        word = self._word()
        opens_block = (word == "BEGIN" and self._word(1) not in ("", ";", "TRANSACTION")) or word in _BLOCK_KINDS
        if not (opens_block or (word == "CREATE" and self._is_procedure_definition())):
            return self._statement()
        self._blocks += 1  # blocks count towards the nesting limit like parentheses
        if self._blocks > depth.MAX_NESTING:
            raise depth.nested_too_deeply(self._location(self._peek()))
        try:
            node = self._block_node(word, label)
        finally:
            self._blocks -= 1
        node.tokens = self.tokens[start : self._i]
        return node

    def _block_node(self, word: str, label: str | None) -> Node:
        if word == "BEGIN":
            return self._block(label)
        if word == "IF":
            return self._if()
        if word == "CASE":
            return self._case()
        if word == "CREATE":
            return self._procedure()
        return self._loop(word, label)

    def _statement(self) -> Statement:
        start, verb = self._i, self._word()
        if verb in _BLOCK_PARTS:
            self._stray_block_part(verb)
        while self._peek() is not None and self._peek().token_type != TokenType.SEMICOLON:
            self._i += 1
        tokens = self.tokens[start : self._i]
        return Statement(tokens, self._number, verb=verb.split()[0] if verb else "")

    def _stray_block_part(self, word: str) -> None:
        # ELSE, END IF … where no block is open: sqlglot would read ELSE as a statement of its own.
        opener = _BLOCK_PARTS[word]
        if word == "END" and self._word(1) in _BLOCK_KINDS:
            word, opener = f"END {self._word(1)}", self._word(1)
        raise SqlSyntaxError(
            f"Syntax error: {word} without a matching {opener}",
            hint="Check that every BEGIN … END, IF … END IF, CASE … END CASE and loop is complete and in order.",
            location=self._location(self._peek()),
        )

    def _body(self, *stops: str) -> list[Node]:
        nodes = []
        while self._skip_semicolons() and not self._at_stop(stops):
            nodes.append(self._node())
            self._end_statement()
        if self._peek() is None:
            raise SqlSyntaxError(
                f"Expected {' or '.join(stops)} before the end of the script",
                hint="Close every BEGIN, IF, LOOP, WHILE, REPEAT, FOR and CASE block.",
                location=self._location(self._prev_token()),
            )
        return nodes

    def _at_stop(self, stops: tuple[str, ...]) -> bool:
        for stop in stops:
            words = stop.split()
            if all(self._word(k) == w for k, w in enumerate(words)):
                if stop == "END" and self._word(1) in _BLOCK_KINDS:
                    continue
                return True
        return False

    def _until(self, *stops: str) -> list[Token]:
        """Tokens up to the first stop word outside parentheses and CASE … END expressions."""
        start, depth, cases = self._i, 0, 0
        while self._peek() is not None:
            token, word = self._peek(), self._word()
            if depth == 0 and cases == 0 and self._at_stop(stops):
                return self.tokens[start : self._i]
            if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
                depth += 1
            elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
                depth -= 1
            elif word == "CASE":
                cases += 1
            elif word == "END" and cases:
                cases -= 1
            self._i += 1
        raise SqlSyntaxError(
            f"Expected {' or '.join(stops)} before the end of the script",
            location=self._location(self._prev_token()),
        )

    def _condition(self, *stops: str) -> list[Token]:
        """A block's condition (or FOR's query): the tokens up to a stop word, at least one."""
        keyword = self._prev_token()
        tokens = self._until(*stops)
        if not tokens:
            raise SqlSyntaxError(f"Expected an expression after {keyword.text.upper()}", location=self._location(self._peek()))
        return tokens

    def _closing_label(self, label: str | None) -> None:
        token = self._peek()
        if token is not None and token.token_type not in (TokenType.SEMICOLON,):
            if label is None or token.text.lower() != label.lower():
                raise SqlSyntaxError(f"Unexpected '{token.text}' after the end of a block", location=self._location(token))
            self._advance()

    def _block(self, label: str | None) -> Block:
        self._expect("BEGIN")
        body = self._body("EXCEPTION", "END")
        handler = None
        if self._word() == "EXCEPTION":
            self._expect("EXCEPTION", "WHEN", "ERROR", "THEN")
            handler = self._body("END")
        self._expect("END")
        self._closing_label(label)
        return Block([], self._number, body=body, handler=handler, label=label)

    def _if(self) -> If:
        node = If([], self._number)
        keyword = "IF"
        while keyword in ("IF", "ELSEIF"):
            self._advance()
            condition = self._condition("THEN")
            self._expect("THEN")
            node.branches.append((condition, self._body("ELSEIF", "ELSE", "END IF")))
            keyword = self._word()
        if keyword == "ELSE":
            self._advance()
            node.otherwise = self._body("END IF")
        self._expect("END", "IF")
        return node

    def _case(self) -> Case:
        self._expect("CASE")
        node = Case([], self._number)
        if self._word() != "WHEN":
            node.subject = self._until("WHEN")
        while self._word() == "WHEN":
            self._advance()
            condition = self._condition("THEN")
            self._expect("THEN")
            node.branches.append((condition, self._body("WHEN", "ELSE", "END CASE")))
        if self._word() == "ELSE":
            self._advance()
            node.otherwise = self._body("END CASE")
        self._expect("END", "CASE")
        return node

    def _loop(self, kind: str, label: str | None) -> Loop:
        self._advance()
        node = Loop([], self._number, kind=kind, label=label)
        if kind == "WHILE":
            node.condition = self._condition("DO")
            self._expect("DO")
        elif kind == "FOR":
            node.variable = self._advance().text
            self._expect("IN")
            node.condition = self._condition("DO")
            self._expect("DO")
        node.body = self._body("UNTIL" if kind == "REPEAT" else f"END {kind}")
        if kind == "REPEAT":
            self._expect("UNTIL")
            node.condition = self._condition("END REPEAT")
        self._expect("END", kind)
        self._closing_label(label)
        return node

    def _is_procedure_definition(self) -> bool:
        for ahead in range(1, 6):
            word = self._word(ahead)
            if word == "PROCEDURE":
                return True
            if word not in ("OR", "REPLACE", "TEMP", "TEMPORARY"):
                return False
        return False

    def _procedure(self) -> ProcedureDefinition:
        header = self._until("BEGIN")
        body = self._block(None)
        return ProcedureDefinition([], self._number, header=header, body=body)
