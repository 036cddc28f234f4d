"""The model store: versioned models on disk, with a catalog of their metadata and checksums."""

from sqlml.store.registry import ModelStore

__all__ = ["ModelStore"]
