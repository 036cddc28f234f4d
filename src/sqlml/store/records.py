"""Plain records the model store hands out, and how a model name in SQL becomes a reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from sqlml.errors import ModelError

#: BigQuery's rule for model names: letters, digits and underscores.
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
#: BigQuery's longest model and dataset names (the characters are ASCII, so also bytes):
#: https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create#model_name
MAX_NAME_LENGTH = 1024
#: Version aliases (sqlml's, after Vertex AI's model registry): a letter, then letters, digits,
#: ``_`` or ``-``, at most 64 characters, compared case-insensitively. They are written after
#: ``@`` in SQL (```ds.m@production```) and must not look like a version number, a path or a
#: second ``@``.
MAX_ALIAS_LENGTH = 64
ALIAS_RULE = (
    "A version alias starts with a letter and has only letters, digits, '_' and '-', "
    f"at most {MAX_ALIAS_LENGTH} characters (e.g. 'production', 'canary-2')."
)
_ALIAS_CHARS = _NAME_CHARS | {"-"}


def alias_problem(alias: str) -> str | None:
    """Why ``alias`` cannot be a version alias, or None when it can (see :data:`ALIAS_RULE`)."""
    if not alias:
        return "it is empty"
    if len(alias) > MAX_ALIAS_LENGTH:
        return f"it has {len(alias)} characters, more than {MAX_ALIAS_LENGTH}"
    if not (alias[0].isascii() and alias[0].isalpha()):
        return "it does not start with a letter"
    bad = sorted(set(alias) - _ALIAS_CHARS)
    if bad:
        return f"it contains {', '.join(repr(c) for c in bad)}"
    return None


@dataclass(frozen=True)
class ModelRef:
    """A model named in SQL: ``dataset.name`` plus an optional ``@version`` or ``@alias``.

    Attributes:
        dataset: the dataset (a DuckDB schema of the warehouse).
        name: the model's name (case-sensitive, as in BigQuery).
        selector: ``"3"``, ``"production"`` or None for the ``default`` alias.
    """

    dataset: str
    name: str
    selector: str | None = None

    def __str__(self) -> str:
        suffix = f"@{self.selector}" if self.selector else ""
        return f"{self.dataset}.{self.name}{suffix}"

    @classmethod
    def from_table(cls, table: exp.Table, default_dataset: str | None = None) -> "ModelRef":
        """Read ``MODEL ds.m``, ``MODEL `ds.m@3``` or ``MODEL `project.ds.m``` from the syntax tree.

        Raises:
            ModelError: the name has no dataset or contains characters BigQuery does not allow.
        """
        parts = [part.name for part in table.parts]
        return cls.parse(".".join(parts), default_dataset)

    @classmethod
    def parse(cls, text: str, default_dataset: str | None = None) -> "ModelRef":
        """Read ``ds.m``, ``ds.m@3`` or ``project.ds.m@production``."""
        name_part, _, selector = text.partition("@")
        pieces = name_part.split(".")
        if len(pieces) == 1 and default_dataset:
            pieces = [default_dataset, pieces[0]]
        if len(pieces) not in (2, 3) or not all(pieces):
            raise ModelError(
                f"Model name '{text}' needs a dataset: write dataset.model.",
                hint="For example MODEL ds.my_model, or MODEL `ds.my_model@2` for a version.",
            )
        dataset, name = pieces[-2], pieces[-1]
        for piece in (dataset, name):
            if not set(piece) <= _NAME_CHARS:
                raise ModelError(
                    f"'{piece}' is not a valid dataset or model name: use letters, digits and underscores.",
                    model=text,
                )
            if len(piece) > MAX_NAME_LENGTH:
                raise ModelError(
                    f"The dataset or model name '{piece[:20]}…' has {len(piece)} characters; "
                    f"BigQuery allows at most {MAX_NAME_LENGTH}.",
                    model=text[:60],
                    hint="Choose a shorter name.",
                )
        if "@" in text and not selector.isdigit() and (problem := alias_problem(selector)):
            raise ModelError(
                f"'{text}' names neither a version number nor a valid alias after '@': {problem}.",
                model=text,
                hint=ALIAS_RULE,
            )
        return cls(dataset, name, selector or None)

    @property
    def base(self) -> "ModelRef":
        """The same model without a version or alias."""
        return ModelRef(self.dataset, self.name)


@dataclass
class VersionRecord:
    """One stored version of a model.

    Attributes:
        metadata: everything the trainer recorded (type, options, features, metrics, lineage…).
        checksums: file name → SHA-256 of the files in ``folder``.
        aliases: the aliases that currently name this version.
    """

    dataset: str
    name: str
    version: int
    model_type: str
    created_at: str
    creator: str | None
    folder: Path
    checksums: dict[str, str]
    metadata: dict
    aliases: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``dataset.name@version``, for messages."""
        return f"{self.dataset}.{self.name}@{self.version}"

    @property
    def ref(self) -> ModelRef:
        """A reference to exactly this version."""
        return ModelRef(self.dataset, self.name, str(self.version))


@dataclass
class ModelRecord:
    """A model: its settings, its version numbers and where its aliases point."""

    dataset: str
    name: str
    created_at: str
    updated_at: str
    description: str | None
    labels: dict
    max_versions: int | None
    versions: list[int]
    aliases: dict[str, int]


def sha256_of(path: Path) -> str:
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
