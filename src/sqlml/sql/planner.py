"""Decide what kind of work a parsed statement is, and who runs it.

The planner is static: it looks at the tree only. Running a plan — which may train a model,
evaluate ML functions or call DuckDB — is :mod:`sqlml.execution.executor`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlglot import exp

from sqlml.errors import UnsupportedStatementError
from sqlml.sql.expressions import AlterModel, ExportModel, MLFunction


class StatementKind(str, Enum):
    """What a statement does, which decides how it runs."""

    QUERY = "QUERY"
    DML = "DML"
    DDL = "DDL"
    TRANSACTION = "TRANSACTION"
    CREATE_MODEL = "CREATE_MODEL"
    DROP_MODEL = "DROP_MODEL"
    ALTER_MODEL = "ALTER_MODEL"
    EXPORT_MODEL = "EXPORT_MODEL"


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

    @property
    def has_ml(self) -> bool:
        """Whether the statement calls ML table functions."""
        return self.tree.find(MLFunction) is not None


_DML = (exp.Insert, exp.Update, exp.Delete, exp.Merge)
_TRANSACTION = (exp.Transaction, exp.Commit, exp.Rollback)


#: Statements sqlglot parses but sqlml does not run (access control has no meaning in a local file).
_UNSUPPORTED = (exp.Grant, exp.Revoke)


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
    if isinstance(tree, exp.Create) and (tree.kind or "").upper() == "MODEL":
        return Plan(StatementKind.CREATE_MODEL, tree, "CREATE MODEL")
    if isinstance(tree, exp.Drop) and (tree.kind or "").upper() == "MODEL":
        return Plan(StatementKind.DROP_MODEL, tree, "DROP MODEL")
    if isinstance(tree, AlterModel):
        return Plan(StatementKind.ALTER_MODEL, tree, "ALTER MODEL")
    if isinstance(tree, ExportModel):
        return Plan(StatementKind.EXPORT_MODEL, tree, "EXPORT MODEL")
    if isinstance(tree, _TRANSACTION):
        return Plan(StatementKind.TRANSACTION, tree, type(tree).__name__.upper())
    if isinstance(tree, exp.Query) or isinstance(tree, (exp.Describe, exp.Pragma, exp.Show)):
        return Plan(StatementKind.QUERY, tree, "SELECT")
    if isinstance(tree, _DML):
        return Plan(StatementKind.DML, tree, type(tree).__name__.upper())
    return Plan(StatementKind.DDL, tree, _ddl_verb(tree))


def _ddl_verb(tree: exp.Expression) -> str:
    kind = tree.args.get("kind")
    kind_text = f" {kind}".upper() if isinstance(kind, str) else ""
    return f"{type(tree).__name__.upper()}{kind_text}"
