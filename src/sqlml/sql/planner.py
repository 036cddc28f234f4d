"""Decide what kind of work a statement is: every statement sqlml runs has one :class:`StatementKind`.

The planner is static: it looks at the tree (or, for the procedural language, the script node)
only. Which code runs each kind is the statement table's business (:mod:`sqlml.statement_table`);
running a plan — which may train a model, evaluate ML functions or call the SQL engine — is
:mod:`sqlml.execution.executor`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlglot import exp

from sqlml.errors import UnsupportedStatementError
from sqlml.sql.expressions import AlterModel, ExportModel, LoadDataFiles
from sqlml.sql.external_tables import creates_external_table, external_table_error
from sqlml.sql.nodes import Node, ProcedureDefinition, Statement
from sqlml.sql.procedural import Assert, Call, ExecuteImmediate, Jump, Raise, Return


class StatementKind(str, Enum):
    """What a statement does, which decides who runs it."""

    # reads
    QUERY = "QUERY"  #: SELECT, WITH, set operations, VALUES; DESCRIBE, SHOW, PRAGMA
    # writes to tables
    DML = "DML"  #: INSERT, UPDATE, DELETE, MERGE
    TRUNCATE_TABLE = "TRUNCATE_TABLE"
    LOAD_DATA = "LOAD_DATA"
    EXPORT_DATA = "EXPORT_DATA"
    TRANSACTION = "TRANSACTION"  #: BEGIN, COMMIT, ROLLBACK
    # warehouse objects
    CREATE_SCHEMA = "CREATE_SCHEMA"
    DROP_SCHEMA = "DROP_SCHEMA"
    ALTER_SCHEMA = "ALTER_SCHEMA"  #: ALTER SCHEMA … SET OPTIONS
    CREATE_TABLE = "CREATE_TABLE"
    DROP_TABLE = "DROP_TABLE"
    ALTER_TABLE = "ALTER_TABLE"
    CREATE_VIEW = "CREATE_VIEW"
    DROP_VIEW = "DROP_VIEW"
    ALTER_VIEW = "ALTER_VIEW"  #: ALTER VIEW and ALTER MATERIALIZED VIEW
    CREATE_MATERIALIZED_VIEW = "CREATE_MATERIALIZED_VIEW"
    DROP_MATERIALIZED_VIEW = "DROP_MATERIALIZED_VIEW"
    CREATE_FUNCTION = "CREATE_FUNCTION"  #: SQL and table functions (DuckDB macros)
    DROP_FUNCTION = "DROP_FUNCTION"
    # models
    CREATE_MODEL = "CREATE_MODEL"
    DROP_MODEL = "DROP_MODEL"
    ALTER_MODEL = "ALTER_MODEL"
    EXPORT_MODEL = "EXPORT_MODEL"
    # the procedural language, run by the script interpreter
    DECLARE = "DECLARE"
    SET = "SET"  #: SET variable / SET @@system_variable
    BLOCK = "BLOCK"  #: BEGIN … END, IF, CASE, LOOP, WHILE, REPEAT, FOR
    CALL = "CALL"
    CREATE_PROCEDURE = "CREATE_PROCEDURE"
    EXECUTE_IMMEDIATE = "EXECUTE_IMMEDIATE"
    RAISE = "RAISE"
    ASSERT = "ASSERT"
    RETURN = "RETURN"
    JUMP = "JUMP"  #: BREAK, LEAVE, CONTINUE, ITERATE
    # the engine's own statements, written in its dialect (dialect="duckdb": COPY, ATTACH, CREATE INDEX …)
    ENGINE_NATIVE = "ENGINE_NATIVE"

    @property
    def is_procedural(self) -> bool:
        """Whether the script interpreter runs statements of this kind (see :data:`PROCEDURAL`)."""
        return self in PROCEDURAL


#: Kinds of the procedural language: the script interpreter runs them, the statement table does not.
PROCEDURAL = frozenset({
    StatementKind.DECLARE, StatementKind.SET, StatementKind.BLOCK, StatementKind.CALL, StatementKind.CREATE_PROCEDURE,
    StatementKind.EXECUTE_IMMEDIATE, StatementKind.RAISE, StatementKind.ASSERT, StatementKind.RETURN, StatementKind.JUMP,
})  # fmt: skip


@dataclass
class Plan:
    """A statement ready to run.

    Attributes:
        kind: what the statement does.
        tree: the parsed statement.
        verb: a short name for messages and results (``SELECT``, ``CREATE MODEL``…).
    """

    kind: StatementKind
    tree: exp.Expression
    verb: str

    @property
    def returns_rows(self) -> bool:
        """Whether the statement produces a result set."""
        return self.kind is StatementKind.QUERY


#: Statements sqlglot parses but sqlml does not run (access control has no meaning in a local file).
_UNSUPPORTED = (exp.Grant, exp.Revoke)

#: Trees of one class that are always the same kind, with their verb (None: the class's name).
_BY_CLASS: dict[type, tuple[StatementKind, str | None]] = {
    AlterModel: (StatementKind.ALTER_MODEL, "ALTER MODEL"),
    ExportModel: (StatementKind.EXPORT_MODEL, "EXPORT MODEL"),
    exp.Transaction: (StatementKind.TRANSACTION, None),
    exp.Commit: (StatementKind.TRANSACTION, None),
    exp.Rollback: (StatementKind.TRANSACTION, None),
    exp.Describe: (StatementKind.QUERY, "SELECT"),
    exp.Pragma: (StatementKind.QUERY, "SELECT"),
    exp.Show: (StatementKind.QUERY, "SELECT"),
    exp.Insert: (StatementKind.DML, None),
    exp.Update: (StatementKind.DML, None),
    exp.Delete: (StatementKind.DML, None),
    exp.Merge: (StatementKind.DML, None),
    exp.TruncateTable: (StatementKind.TRUNCATE_TABLE, None),
    exp.LoadData: (StatementKind.LOAD_DATA, None),
    LoadDataFiles: (StatementKind.LOAD_DATA, "LOAD DATA"),
    exp.Export: (StatementKind.EXPORT_DATA, None),
    exp.Declare: (StatementKind.DECLARE, None),
    exp.Set: (StatementKind.SET, None),
}

#: CREATE / DROP / ALTER of an object kind (``tree.kind``) -> statement kind.
_CREATE = {"SCHEMA": StatementKind.CREATE_SCHEMA, "TABLE": StatementKind.CREATE_TABLE, "VIEW": StatementKind.CREATE_VIEW,
           "FUNCTION": StatementKind.CREATE_FUNCTION, "MODEL": StatementKind.CREATE_MODEL}  # fmt: skip
_DROP = {"SCHEMA": StatementKind.DROP_SCHEMA, "TABLE": StatementKind.DROP_TABLE, "VIEW": StatementKind.DROP_VIEW,
         "FUNCTION": StatementKind.DROP_FUNCTION, "MODEL": StatementKind.DROP_MODEL}  # fmt: skip
_ALTER = {"TABLE": StatementKind.ALTER_TABLE, "VIEW": StatementKind.ALTER_VIEW,
          "MATERIALIZED VIEW": StatementKind.ALTER_VIEW, "SCHEMA": StatementKind.ALTER_SCHEMA}  # fmt: skip

#: Records of :mod:`sqlml.sql.procedural` (statements sqlglot does not parse) -> kind.
_PROCEDURAL_RECORDS: dict[type, StatementKind] = {
    Assert: StatementKind.ASSERT, Raise: StatementKind.RAISE, Jump: StatementKind.JUMP, Return: StatementKind.RETURN,
    ExecuteImmediate: StatementKind.EXECUTE_IMMEDIATE, Call: StatementKind.CALL,
}  # fmt: skip

#: First keyword of a procedural statement -> kind (the script splitter reads it before any parsing;
#: the same words as :data:`sqlml.sql.script.PROCEDURAL_VERBS`).
PROCEDURAL_VERB_KINDS = {
    "DECLARE": StatementKind.DECLARE, "SET": StatementKind.SET, "RAISE": StatementKind.RAISE,
    "ASSERT": StatementKind.ASSERT, "BREAK": StatementKind.JUMP, "LEAVE": StatementKind.JUMP,
    "CONTINUE": StatementKind.JUMP, "ITERATE": StatementKind.JUMP, "RETURN": StatementKind.RETURN,
    "CALL": StatementKind.CALL, "EXECUTE": StatementKind.EXECUTE_IMMEDIATE,
}  # fmt: skip


def plan(tree: exp.Expression) -> Plan:
    """Classify a parsed statement.

    Raises:
        UnsupportedStatementError: a statement sqlml does not run.
    """
    if isinstance(tree, _UNSUPPORTED):
        verb = type(tree).__name__.upper()
        raise UnsupportedStatementError(
            f"sqlml does not support the statement {verb} …",
            hint="Access control (GRANT/REVOKE) does not apply to a local warehouse; remove the statement.",
        )
    if creates_external_table(tree):
        raise external_table_error()
    kind, verb = _classify(tree)
    return Plan(kind, tree, verb or _ddl_verb(tree))


def kind_of(statement: exp.Expression | object) -> StatementKind:
    """The kind of a parsed statement: a sqlglot tree or a record of :mod:`sqlml.sql.procedural`."""
    if type(statement) in _PROCEDURAL_RECORDS:
        return _PROCEDURAL_RECORDS[type(statement)]
    return _classify(statement)[0]


def node_kind(node: Node) -> StatementKind | None:
    """The kind of a script node known before its statement is parsed: a block, a procedure
    definition or a procedural statement (by its first keyword); None for a SQL statement,
    whose kind its parsed tree decides (:func:`plan`)."""
    if isinstance(node, ProcedureDefinition):
        return StatementKind.CREATE_PROCEDURE
    if not isinstance(node, Statement):
        return StatementKind.BLOCK
    return PROCEDURAL_VERB_KINDS.get(node.verb)


def _classify(tree: exp.Expression) -> tuple[StatementKind, str | None]:
    if type(tree) in _BY_CLASS:
        kind, verb = _BY_CLASS[type(tree)]
        return kind, verb or type(tree).__name__.upper()
    if isinstance(tree, exp.Query):
        return StatementKind.QUERY, "SELECT"
    object_kind = (tree.args.get("kind") or "").upper() if isinstance(tree.args.get("kind"), str) else ""
    if isinstance(tree, exp.Create):
        if object_kind == "VIEW" and is_materialized(tree):
            return StatementKind.CREATE_MATERIALIZED_VIEW, None
        kind = _CREATE.get(object_kind)
    elif isinstance(tree, exp.Drop):
        if object_kind == "VIEW" and tree.args.get("materialized"):
            return StatementKind.DROP_MATERIALIZED_VIEW, None
        kind = _DROP.get(object_kind)
    elif isinstance(tree, exp.Alter):
        kind = _ALTER.get(object_kind)
    else:
        kind = None
    if kind in (StatementKind.CREATE_MODEL, StatementKind.DROP_MODEL):
        return kind, kind.value.replace("_", " ")
    return (kind or StatementKind.ENGINE_NATIVE), None


def is_materialized(tree: exp.Expression) -> bool:
    """CREATE MATERIALIZED VIEW (its properties hold MATERIALIZED)."""
    properties = tree.args.get("properties")
    return properties is not None and any(isinstance(p, exp.MaterializedProperty) for p in properties.expressions)


def _ddl_verb(tree: exp.Expression) -> str:
    kind = tree.args.get("kind")
    kind_text = f" {kind}".upper() if isinstance(kind, str) else ""
    return f"{type(tree).__name__.upper()}{kind_text}"
