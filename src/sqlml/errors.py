"""Every error sqlml raises on purpose, rooted at :class:`Error`.

Errors carry structure (where in the script, which option, which model) and render a message in
three parts: what went wrong, where, and what to do about it. Leaves also inherit the builtin a
caller would naturally catch (``KeyError`` for something not found, ``ValueError`` for bad input,
``OSError`` for a locked file), as scikit-learn's ``NotFittedError(ValueError, AttributeError)`` does.

The tree::

    Error
    ├── SqlError                      a statement could not run
    │   ├── SqlSyntaxError            (ValueError)  the text does not parse
    │   ├── UnsupportedStatementError (ValueError)  parses, but sqlml does not run it
    │   ├── NotFoundError             (KeyError)    a table, column, function or dataset is unknown
    │   ├── AlreadyExistsError        (ValueError)  CREATE without OR REPLACE on an existing name
    │   ├── SqlTypeError              (TypeError)   types do not match or a value does not convert
    │   ├── ParameterError            (ValueError)  a query parameter is missing or unusable
    │   ├── ScriptError               (RuntimeError) RAISE, ASSERT, control flow misuse
    │   ├── TransactionError          (RuntimeError) COMMIT without BEGIN and the like
    │   └── ExecutionError            (RuntimeError) anything else the engine refused
    ├── ModelError                    a model could not be created, found or used
    │   ├── ModelNotFoundError        (KeyError)
    │   ├── InvalidOptionError        (ValueError)  an OPTIONS(...) entry is unknown or out of range
    │   ├── InvalidModelInputError    (ValueError)  the training or prediction data does not fit
    │   ├── TrainingError             (RuntimeError)
    │   └── CorruptModelError         (OSError)     a stored model failed its checksum
    ├── WarehouseError                the warehouse files could not be used
    │   └── WarehouseLockedError      (OSError)     another process holds the warehouse
    ├── ProjectError                  a SQL project (``sqlml run``) is malformed
    └── Cancelled                     (KeyboardInterrupt-safe) the user interrupted a statement
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in a script an error happened.

    Attributes:
        statement: 1-based number of the statement in its script.
        line: 1-based line in the script text, or None when unknown.
        col: 1-based column in the script text, or None when unknown.
        source_line: the text of that line, for the caret excerpt.
        length: how many characters the caret underlines.
        path: the file the script came from, if any.
    """

    statement: int | None = None
    line: int | None = None
    col: int | None = None
    source_line: str | None = None
    length: int = 1
    path: str | None = None

    def describe(self) -> str:
        """One line naming the place, e.g. ``statement 2, line 3, column 14``."""
        parts = []
        if self.path:
            parts.append(self.path)
        if self.statement is not None:
            parts.append(f"statement {self.statement}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.col is not None:
            parts.append(f"column {self.col}")
        return ", ".join(parts)

    def excerpt(self) -> str:
        """The offending line with a caret under the fault, or '' without a column."""
        if self.source_line is None or self.col is None:
            return ""
        text = self.source_line.rstrip("\n").expandtabs(1)
        caret = " " * (self.col - 1) + "^" * max(1, self.length)
        return f"  {text}\n  {caret}"


class Error(Exception):
    """Root of every error sqlml raises on purpose (PEP 249 names it ``Error``).

    Args:
        message: what went wrong, with the offending value.
        hint: what to do about it, when a fix is clear.
        location: where in the script it happened.
    """

    def __init__(self, message: str, *, hint: str | None = None, location: Location | None = None):
        self.message = message
        self.hint = hint
        self.location = location
        super().__init__(message)

    def with_location(self, location: Location) -> "Error":
        """Attach a location unless the error already knows a more precise one."""
        if self.location is None or self.location.statement is None:
            merged = location
            if self.location is not None:
                merged = Location(
                    statement=location.statement,
                    line=self.location.line or location.line,
                    col=self.location.col or location.col,
                    source_line=self.location.source_line or location.source_line,
                    length=self.location.length,
                    path=self.location.path or location.path,
                )
            self.location = merged
        return self

    def __str__(self) -> str:
        text = self.message
        if self.location is not None:
            where = self.location.describe()
            if where:
                text += f"\n  at {where}"
            excerpt = self.location.excerpt()
            if excerpt:
                text += f"\n{excerpt}"
        if self.hint:
            text += f"\n{self.hint}"
        return text


class SqlError(Error):
    """A statement could not run."""


class SqlSyntaxError(SqlError, ValueError):
    """The SQL text does not parse."""


class UnsupportedStatementError(SqlError, ValueError):
    """The statement parses but sqlml does not know how to run it."""


class NotFoundError(SqlError, KeyError):
    """A table, view, column, function or dataset the statement names does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Error.__str__(self)


class AlreadyExistsError(SqlError, ValueError):
    """CREATE without OR REPLACE or IF NOT EXISTS met an existing name."""


class SqlTypeError(SqlError, TypeError):
    """A value has the wrong type or does not convert."""


class ParameterError(SqlError, ValueError):
    """A query parameter is missing, unused or of an unsupported type."""


class ScriptError(SqlError, RuntimeError):
    """A script failed on purpose (RAISE, ASSERT) or misused control flow."""


class TransactionError(SqlError, RuntimeError):
    """A transaction statement was out of place."""


class ExecutionError(SqlError, RuntimeError):
    """The engine refused a statement for a reason without a more precise class."""


class ModelError(Error):
    """A model could not be created, found or used.

    Attributes:
        model: the model's name as written, when known.
        version: the model version involved, when known.
    """

    def __init__(self, message: str, *, model: str | None = None, version: int | None = None, **kwargs):
        self.model = model
        self.version = version
        super().__init__(message, **kwargs)


class ModelNotFoundError(ModelError, KeyError):
    """The named model, version or alias does not exist."""

    def __str__(self) -> str:
        return Error.__str__(self)


class InvalidOptionError(ModelError, ValueError):
    """An OPTIONS(...) entry is unknown, does not apply, or has a bad value.

    Attributes:
        option: the option's name, lower-case.
    """

    def __init__(self, message: str, *, option: str | None = None, **kwargs):
        self.option = option
        super().__init__(message, **kwargs)


class InvalidModelInputError(ModelError, ValueError):
    """Training or prediction data does not fit the model (label, columns, types).

    Attributes:
        column: the input column at fault, when one is.
    """

    def __init__(self, message: str, *, column: str | None = None, **kwargs):
        self.column = column
        super().__init__(message, **kwargs)


class TrainingError(ModelError, RuntimeError):
    """Training failed."""


class CorruptModelError(ModelError, OSError):
    """A stored model file is missing or does not match its recorded checksum."""


class WarehouseError(Error):
    """The warehouse files could not be opened or used."""


class WarehouseLockedError(WarehouseError, OSError):
    """Another process holds the warehouse for writing.

    Attributes:
        pid: the process holding the lock, when DuckDB names it.
    """

    def __init__(self, message: str, *, pid: int | None = None, **kwargs):
        self.pid = pid
        super().__init__(message, **kwargs)


class ProjectError(Error):
    """A SQL project is malformed: bad YAML, unknown ref, a cycle, a Jinja error.

    Attributes:
        path: the file at fault, when known.
        node: the project node at fault, when known.
    """

    def __init__(self, message: str, *, path: str | None = None, node: str | None = None, **kwargs):
        self.path = path
        self.node = node
        super().__init__(message, **kwargs)


class Cancelled(Error):
    """The user interrupted a running statement; nothing it started was kept."""
