"""The pieces a script is split into: simple statements and the procedural blocks around them.

:class:`Statement` is the leaf; the blocks keep their parts (conditions as token lists, bodies as
nodes). Every node keeps its tokens, so errors point at the original line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot.tokens import Token


@dataclass
class Node:
    """A piece of a script: a statement or a procedural block.

    Attributes:
        tokens: every token of the node, from its first keyword to before its ``;``.
        number: 1-based number of the top-level statement the node belongs to.
    """

    tokens: list[Token]
    number: int

    @property
    def first(self) -> Token:
        """The node's first token, for its position."""
        return self.tokens[0]

    def expressions(self) -> list[list[Token]]:
        """The token lists of the node's own expressions (conditions, FOR's query)."""
        return []

    def children(self) -> list[Node]:
        """The nodes inside this one (bodies, branches, handlers), in order."""
        return []


@dataclass
class Statement(Node):
    """One simple statement; ``verb`` is its first keyword, upper-case."""

    verb: str = ""


@dataclass
class Block(Node):
    """``[label:] BEGIN body [EXCEPTION WHEN ERROR THEN handler] END [label]``."""

    body: list[Node] = field(default_factory=list)
    handler: list[Node] | None = None
    label: str | None = None

    def children(self) -> list[Node]:
        return [*self.body, *(self.handler or [])]


@dataclass
class If(Node):
    """``IF c THEN … [ELSEIF c THEN …]… [ELSE …] END IF``; conditions are token lists."""

    branches: list[tuple[list[Token], list[Node]]] = field(default_factory=list)
    otherwise: list[Node] | None = None

    def expressions(self) -> list[list[Token]]:
        return [condition for condition, _ in self.branches]

    def children(self) -> list[Node]:
        return [*(node for _, body in self.branches for node in body), *(self.otherwise or [])]


@dataclass
class Case(Node):
    """Procedural ``CASE [subject] WHEN w THEN … [ELSE …] END CASE``."""

    subject: list[Token] | None = None
    branches: list[tuple[list[Token], list[Node]]] = field(default_factory=list)
    otherwise: list[Node] | None = None

    def expressions(self) -> list[list[Token]]:
        return [*([self.subject] if self.subject else []), *(when for when, _ in self.branches)]

    def children(self) -> list[Node]:
        return [*(node for _, body in self.branches for node in body), *(self.otherwise or [])]


@dataclass
class Loop(Node):
    """``LOOP``, ``WHILE c DO``, ``REPEAT … UNTIL c`` and ``FOR v IN (q) DO`` loops.

    Attributes:
        kind: LOOP, WHILE, REPEAT or FOR.
        condition: WHILE's and REPEAT's condition tokens; FOR's query tokens.
        variable: FOR's loop variable.
    """

    kind: str = "LOOP"
    body: list[Node] = field(default_factory=list)
    condition: list[Token] | None = None
    variable: str | None = None
    label: str | None = None

    def expressions(self) -> list[list[Token]]:
        return [self.condition] if self.condition else []

    def children(self) -> list[Node]:
        return self.body


@dataclass
class ProcedureDefinition(Node):
    """``CREATE [OR REPLACE] PROCEDURE name(args) [OPTIONS(…)] BEGIN … END``."""

    header: list[Token] = field(default_factory=list)
    body: Block | None = None

    def children(self) -> list[Node]:
        return [self.body] if self.body else []
