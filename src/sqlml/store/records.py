"""Plain records the model store hands out, and how a model name in SQL becomes a reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from sqlml.errors import ModelError

#: BigQuery's rule for model names: letters, digits and underscores.
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


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
