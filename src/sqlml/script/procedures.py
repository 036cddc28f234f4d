"""Stored procedures: ``CREATE [OR REPLACE] PROCEDURE ds.p(IN a T, OUT b T, INOUT c T) BEGIN … END``
and ``CALL ds.p(…)``.

A procedure is kept in the routines catalog (:mod:`sqlml.warehouse.routines`) as the text of its
CREATE statement (a slice of the script it came from, so line numbers inside it stay readable),
with the dialect it was written in. CALL parses that text again, binds the arguments to a fresh scope
— a procedure sees only its parameters, as in BigQuery — runs the body and copies OUT and INOUT
parameters back to the caller's variables.

https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_procedure
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.tokens import Token, TokenType

from sqlml.errors import AlreadyExistsError, Error, NotFoundError, ScriptError, SqlSyntaxError
from sqlml.execution.context import ScriptRun
from sqlml.result import Result
from sqlml.script.variables import Scope, Variable
from sqlml.sql.diagnostics import location_of
from sqlml.sql.dialect import DIALECTS
from sqlml.sql.nodes import Node, ProcedureDefinition
from sqlml.sql.procedural import TYPE_BRACKETS, split_tokens
from sqlml.sql.procedural import Call
from sqlml.sql.script import ScriptParser
from sqlml.warehouse.routines import SYSTEM_PROCEDURES, known_procedures, store_procedure, stored_procedure

if TYPE_CHECKING:
    from sqlml.script.interpreter import Interpreter

#: "The maximum depth of procedure calls is 50 frames."
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#call
MAX_CALL_DEPTH = 50

@dataclass
class Parameter:
    """One procedure parameter: ``[IN|OUT|INOUT] name type``."""

    mode: str
    name: str
    type: exp.DataType


@dataclass
class Header:
    """What precedes a procedure's body."""

    dataset: str
    name: str
    replace: bool
    if_not_exists: bool
    parameters: list[Parameter]


def define(interpreter: Interpreter, node: ProcedureDefinition) -> Result:
    """Store the procedure ``node`` defines (CREATE [OR REPLACE] PROCEDURE)."""
    parser = interpreter.run.parser
    header = parse_header(parser, node, interpreter.system.dataset_id)
    text = parser.sql[node.tokens[0].start : node.tokens[-1].end + 1]
    with interpreter.executor.engine.lease() as cursor:
        if not cursor.dataset_exists(header.dataset):
            raise NotFoundError(
                f"Dataset {header.dataset} not found; a procedure lives in a dataset.",
                hint=f"Create it first: CREATE SCHEMA {header.dataset};",
                location=location_of(node.first, parser.sql, node.number, parser.path),
            )
        exists = stored_procedure(cursor, header.dataset, header.name) is not None
        if exists and header.if_not_exists:
            return Result.empty("CREATE PROCEDURE")
        if exists and not header.replace:
            raise AlreadyExistsError(
                f"Procedure {header.dataset}.{header.name} already exists.",
                hint="Use CREATE OR REPLACE PROCEDURE to change it.",
                location=location_of(node.first, parser.sql, node.number, parser.path),
            )
        store_procedure(cursor, header.dataset, header.name, interpreter.executor.dialect, text)
    return Result.empty("CREATE PROCEDURE")


def call(interpreter: Interpreter, statement: Call, node: Node, scope: Scope) -> None:
    """Run ``CALL ds.p(args)`` from ``interpreter``, in the caller's ``scope``."""
    dataset, name = routine_name([statement.dataset, statement.name], interpreter.system.dataset_id)
    system = SYSTEM_PROCEDURES.get(f"{dataset}.{name}".upper())
    if system is not None:
        system(interpreter.executor, [interpreter.evaluate(argument, scope, node)[0] for argument in statement.arguments])
        return
    with interpreter.executor.engine.lease() as cursor:
        stored = stored_procedure(cursor, dataset, name) if dataset else None
        known = known_procedures(cursor)
    if stored is None:
        hint = f"Known procedures: {', '.join(known)}." if known else "Create one with CREATE PROCEDURE ds.name(…) BEGIN … END;"
        raise NotFoundError(f"Procedure {dataset + '.' if dataset else ''}{name} not found.", hint=hint)
    dialect, text = stored
    label = f"procedure {dataset}.{name}"
    if interpreter.depth >= MAX_CALL_DEPTH:
        raise ScriptError(
            f"Procedure calls nest at most {MAX_CALL_DEPTH} deep; calling {label} here would go deeper.",
            hint="A procedure that calls itself needs a condition that ends the recursion (IF … THEN CALL … END IF) "
            f"within {MAX_CALL_DEPTH} calls; a loop (WHILE, LOOP) has no such limit.",
        )
    parser = ScriptParser(text, DIALECTS[dialect], path=label)
    definition = parser.nodes()[0]
    parser.parse_all([definition])  # a syntax error in the body: none of it runs
    header = parse_header(parser, definition, dataset)
    if len(statement.arguments) != len(header.parameters):
        raise ScriptError(
            f"{label} takes {len(header.parameters)} argument(s) but the CALL passes {len(statement.arguments)}.",
            hint="Signature: " + ", ".join(f"{p.mode} {p.name} {p.type.sql(dialect='bigquery')}" for p in header.parameters),
        )
    own = Scope()
    for parameter, argument in zip(header.parameters, statement.arguments):
        if parameter.mode == "IN":
            value, _ = interpreter.evaluate(argument, scope, node, cast=parameter.type)
        else:
            if not isinstance(argument, exp.Column) or argument.table:
                raise ScriptError(f"The {parameter.mode} argument {parameter.name} of {label} must be a variable.")
            value = scope.get(argument.name).value if parameter.mode == "INOUT" else None
        own.declare(parameter.name, Variable(value, parameter.type))
    try:
        result = interpreter.call_procedure(ScriptRun(parser=parser, named={}, positional=[]), definition.body, own)
    except Error as error:
        # named by the innermost call of the procedure it happened in (a recursive one is its caller too)
        if error.location is not None and error.location.path == label and not getattr(error, "call_named", False):
            error.message = f"{error.message} (in {label}, called from line {node.first.line})"
            error.call_named = True
        raise
    interpreter.replace_result(result)
    for parameter, argument in zip(header.parameters, statement.arguments):
        if parameter.mode != "IN":
            scope.get(argument.name).value = own.get(parameter.name).value


def routine_name(parts: list[str | None], default_dataset: str | None) -> tuple[str | None, str]:
    """(dataset, name) of a routine written ``name``, ``ds.name``, ``project.ds.name`` or
    `` `project.ds.name` `` (a quoted part may hold dots); the project is ignored, as for tables,
    and a bare name is in the default dataset (``@@dataset_id``)."""
    pieces = [piece for part in parts if part for piece in part.split(".")]
    return (pieces[-2] if len(pieces) > 1 else default_dataset), pieces[-1]


def parse_header(parser: ScriptParser, node: ProcedureDefinition, default_dataset: str | None = None) -> Header:
    """Name, flags and parameters of a procedure definition, from its header tokens."""
    tokens = node.header
    words = [t.text.upper() for t in tokens]
    position = words.index("PROCEDURE") + 1
    replace = "REPLACE" in words[:position]
    if_not_exists = words[position : position + 3] == ["IF", "NOT", "EXISTS"]
    if if_not_exists:
        position += 3
    name_parts = []
    while position < len(tokens) and tokens[position].token_type != TokenType.L_PAREN:
        if tokens[position].token_type != TokenType.DOT:
            name_parts.append(tokens[position].text)
        position += 1
    dataset, name = routine_name(name_parts, default_dataset) if name_parts else (None, "")
    if not dataset or position >= len(tokens):
        raise SqlSyntaxError(
            "Expected CREATE PROCEDURE dataset.name(parameters)",
            hint="Name the dataset, or SET @@dataset_id = 'ds' first." if name_parts else None,
            location=location_of(tokens[min(position, len(tokens) - 1)], parser.sql, node.number, parser.path),
        )
    closing = _matching_paren(tokens, position)
    parameters = [_parameter(parser, node, part) for _, part in split_tokens(tokens[position + 1 : closing], _is_comma, TYPE_BRACKETS) if part]
    return Header(dataset, name, replace, if_not_exists, parameters)


def _parameter(parser: ScriptParser, node: ProcedureDefinition, tokens: list[Token]) -> Parameter:
    mode = "IN"
    if tokens[0].text.upper() in ("IN", "OUT", "INOUT") and len(tokens) > 2:
        mode, tokens = tokens[0].text.upper(), tokens[1:]
    try:
        sql_type = parser.dialect().parser().parse_into(exp.DataType, tokens[1:], parser.sql)[0]
    except (ParseError, IndexError):
        raise SqlSyntaxError(
            f"Expected a type for the parameter {tokens[0].text}",
            location=location_of(tokens[-1], parser.sql, node.number, parser.path),
        ) from None
    return Parameter(mode, tokens[0].text, sql_type)


def _is_comma(token: Token) -> bool:
    return token.token_type == TokenType.COMMA


def _matching_paren(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].token_type == TokenType.L_PAREN:
            depth += 1
        elif tokens[index].token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1
