"""Script variables: DECLAREd names in nested block scopes, and BigQuery's ``@@`` system variables.

https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#declare —
names are case-insensitive; a block's variables live until its END; declaring a name twice in one
scope is an error. Each variable keeps its SQL type (declared, or that of its first value) so
that it reads back with the same type wherever a statement uses it.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from sqlglot import exp

from sqlml.errors import ScriptError


@dataclass
class Variable:
    """A variable's value and SQL type (None until a typed value is known)."""

    value: object = None
    type: exp.DataType | None = None


class Scope:
    """The variables of one block; lookups fall through to the enclosing blocks."""

    def __init__(self, parent: "Scope | None" = None):
        self.parent = parent
        self.variables: dict[str, Variable] = {}
        self._declared_by: dict[str, object] = {}

    def declare(self, name: str, variable: Variable, script: object = None) -> None:
        """Add ``name`` to this block.

        Args:
            script: the script run declaring it. The session's top-level scope outlives scripts:
                a later script may declare a name again (replacing it), the same script may not.

        Raises:
            ScriptError: this block already declares it.
        """
        key = name.lower()
        if key in self.variables and self._declared_by.get(key) is script:
            raise ScriptError(
                f"The variable {name} is already declared in this block.",
                hint="Declare each name once per block, or assign it with SET.",
            )
        self.variables[key] = variable
        self._declared_by[key] = script

    def find(self, name: str) -> Variable | None:
        """The innermost variable called ``name``, or None."""
        scope = self
        while scope is not None:
            found = scope.variables.get(name.lower())
            if found is not None:
                return found
            scope = scope.parent
        return None

    def get(self, name: str) -> Variable:
        """The variable called ``name``.

        Raises:
            ScriptError: no enclosing block declares it.
        """
        found = self.find(name)
        if found is None:
            raise ScriptError(f"Unrecognized variable {name}.", hint=f"Declare it first: DECLARE {name} <type>;")
        return found


@dataclass
class SystemVariables:
    """BigQuery's ``@@`` variables that mean something here.

    https://cloud.google.com/bigquery/docs/reference/system-variables
    """

    row_count: int | None = None
    error: dict = field(default_factory=lambda: dict.fromkeys(("message", "statement_text", "stack_trace", "formatted_stack_trace")))
    script: dict = field(default_factory=dict)
    time_zone: str = "UTC"
    project_id: str = "sqlml"
    #: The default dataset of unqualified table and model names (see :mod:`sqlml.warehouse.default_dataset`).
    dataset_id: str | None = None
    dataset_project_id: str | None = None
    location: str | None = None
    query_label: str | None = None
    reservation: str | None = None

    def __post_init__(self):
        job = f"script_{uuid.uuid4().hex[:16]}"
        self.script = {
            "job_id": job,
            "creation_time": datetime.datetime.now(datetime.timezone.utc),
            "num_child_jobs": 0,
            "bytes_processed": 0,
            "bytes_billed": 0,
            "slot_ms": 0,
        }
        self.current_job_id = job
        self.last_job_id = None

    def value(self, path: list[str]) -> object:
        """The value of ``@@a.b``, given ``["a", "b"]``.

        Raises:
            ScriptError: no such system variable.
        """
        head, *rest = [part.lower() for part in path]
        holder = getattr(self, head, _MISSING) if head in _NAMES else _MISSING
        if isinstance(holder, dict) and rest:
            holder = holder.get(rest[0], _MISSING)
            rest = rest[1:]
        if holder is _MISSING or rest:
            raise _unknown(path)
        return holder

    def assign(self, path: list[str], value: object) -> None:
        """``SET @@name = value`` for the variables BigQuery lets a script write.

        Raises:
            ScriptError: the variable is unknown, read-only, or the value is not a STRING.
        """
        name = ".".join(part.lower() for part in path)
        if name not in _WRITABLE:
            if name.split(".")[0] in _NAMES:
                raise ScriptError(f"The system variable @@{name} is read-only.", hint=f"Writable: {', '.join('@@' + n for n in sorted(_WRITABLE))}.")
            raise _unknown(path)
        if value is not None and not isinstance(value, str):
            raise ScriptError(f"@@{name} is a STRING; got {value!r}.", hint=f"SET @@{name} = '…';")
        setattr(self, name, value)


def _unknown(path: list[str]) -> ScriptError:
    return ScriptError(
        f"Unrecognized system variable @@{'.'.join(path)}.",
        hint="sqlml knows @@row_count, @@error.*, @@script.*, @@current_job_id, @@last_job_id, "
        "@@project_id, @@dataset_id, @@dataset_project_id, @@location, @@query_label, @@reservation and @@time_zone.",
    )


_MISSING = object()
_NAMES = {"row_count", "error", "script", "time_zone", "project_id", "dataset_id", "current_job_id", "last_job_id",
          "dataset_project_id", "location", "query_label", "reservation"}  # fmt: skip
#: The variables SET may assign (the rest are read-only), per the reference above.
_WRITABLE = {"dataset_id", "dataset_project_id", "location", "query_label", "reservation", "time_zone"}


#: DuckDB's narrower types of a computed value, as BigQuery types it (INT64, FLOAT64).
_WIDENED = {exp.DType.TINYINT: "BIGINT", exp.DType.SMALLINT: "BIGINT", exp.DType.INT: "BIGINT", exp.DType.FLOAT: "DOUBLE"}


def value_type(name: str | None) -> exp.DataType | None:
    """The SQL type a variable keeps for a value DuckDB typed ``name`` (its ``typeof``), widened to
    what BigQuery would give the value (INT64, FLOAT64); None for NULL or a name sqlglot cannot read."""
    if not name or name == '"NULL"' or name == "NULL":
        return None
    try:
        sql_type = exp.DataType.build(name, dialect="duckdb")
    except Exception:  # noqa: BLE001 - an unparseable type name leaves the variable untyped
        return None
    widened = _WIDENED.get(sql_type.this)
    return exp.DataType.build(widened) if widened else sql_type
