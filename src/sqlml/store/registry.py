"""Placeholder registry (filled in by the CREATE MODEL work)."""

from __future__ import annotations

from pathlib import Path


class ModelStore:
    """The model store rooted at a folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
