"""sqlglot's function builders, made to fail as a syntax error when given arguments they cannot take.

sqlglot builds a known function's node from its argument list without checking the list first:
``DATE_ADD()`` returns None, ``REGEXP_EXTRACT()`` indexes past the end, ``WEEK()`` converts an
empty name, ``FEATURES_AT_TIME(1, 2)`` reads ``.name`` of a string. Each surfaced as a Python
error from deep in the parser. Others raise a bare ``ParseError`` (``DATE_ADD(d, 'x')``: "INTERVAL
expression expected") without the parser's error record, which ``Parser.parse_into`` (an IF
condition, a DEFAULT value) indexes, failing with an IndexError. The wrappers here turn any such
failure into :class:`BadArguments`, which the dialect's parser reports as a syntax error at the
call (found by ``tests/test_fuzz.py`` and the outside fuzz campaign).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlglot.errors import ParseError

#: What a builder raises when the argument list has the wrong shape for it.
_BUILD_FAILURES = (AttributeError, IndexError, KeyError, TypeError, ValueError)


class BadArguments(Exception):
    """A function's builder could not take the arguments it was given."""

    def __init__(self, name: str, detail: str = ""):
        super().__init__(name)
        self.name = name
        self.detail = detail

    @property
    def message(self) -> str:
        reason = f": {self.detail}" if self.detail else ""
        return f"wrong number or kind of arguments for {self.name}(...){reason}"


def checked_builders(functions: Mapping[str, Callable]) -> dict[str, Callable]:
    """``functions`` (a parser's FUNCTIONS) with every builder raising :class:`BadArguments` on bad input."""
    return {name: _checked_builder(name, build) for name, build in functions.items()}


def checked_parsers(parsers: Mapping[str, Callable]) -> dict[str, Callable]:
    """``parsers`` (a parser's FUNCTION_PARSERS) with every one raising :class:`BadArguments` on bad input."""
    return {name: _checked_parser(name, parse) for name, parse in parsers.items()}


def _checked_builder(name: str, build: Callable) -> Callable:
    # sqlglot calls a builder as build(args) and, on TypeError, as build(args, dialect=…): requiring
    # ``dialect`` here makes it take the second call, which serves builders of either kind.
    def checked(args, dialect):
        try:
            try:
                node = build(args)
            except TypeError:
                node = build(args, dialect=dialect)
        except _BUILD_FAILURES as error:
            raise BadArguments(name) from error
        except ParseError as error:  # a builder's own, without the parser's error record
            if error.errors:
                raise
            raise BadArguments(name, str(error)) from error
        if node is None:
            raise BadArguments(name)
        return node

    return checked


def _checked_parser(name: str, parse: Callable) -> Callable:
    def checked(parser):
        try:
            return parse(parser)
        except _BUILD_FAILURES as error:
            raise BadArguments(name) from error
        except ParseError as error:  # a builder's own, without the parser's error record
            if error.errors:
                raise
            raise BadArguments(name, str(error)) from error

    return checked
