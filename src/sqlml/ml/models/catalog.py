"""The one table from ``model_type`` to the family that owns it.

Every question about a model type goes through :func:`family_of`. The built-in families are
listed in :data:`BUILT_IN`, in the order BigQuery's documentation lists their model types (the
order error messages list them in). A family defined elsewhere — a plug-in, or a test — is added
with :func:`register` and removed with :func:`unregister`; its model types then train, predict,
evaluate and load like the built-in ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from sqlml.errors import InvalidOptionError
from sqlml.ml.automl.family import AutoMLFamily
from sqlml.ml.models.arima_plus import ArimaPlusFamily
from sqlml.ml.models.arima_plus_xreg import ArimaPlusXregFamily
from sqlml.ml.models.autoencoder import AutoencoderFamily
from sqlml.ml.models.base import ModelFamily
from sqlml.ml.models.boosted_tree import BoostedTreeFamily
from sqlml.ml.models.contribution_analysis import ContributionAnalysisFamily
from sqlml.ml.models.dnn import DnnFamily, WideDeepFamily
from sqlml.ml.models.imported import ImportedFamily
from sqlml.ml.models.kmeans import KMeansFamily
from sqlml.ml.models.linear import LinearFamily
from sqlml.ml.models.matrix_factorization import MatrixFactorizationFamily
from sqlml.ml.models.pca import PCAFamily
from sqlml.ml.models.random_forest import RandomForestFamily
from sqlml.ml.models.transform_only import TransformOnlyFamily

if TYPE_CHECKING:
    from sqlml.ml.models.options import Option

#: The families sqlml ships, in the order their model types are listed.
BUILT_IN: tuple[ModelFamily, ...] = (
    LinearFamily(),
    BoostedTreeFamily(),
    RandomForestFamily(),
    DnnFamily(),
    WideDeepFamily(),
    KMeansFamily(),
    MatrixFactorizationFamily(),
    PCAFamily(),
    AutoencoderFamily(),
    TransformOnlyFamily(),
    ArimaPlusFamily(),
    ArimaPlusXregFamily(),
    ImportedFamily(),
    ContributionAnalysisFamily(),
    AutoMLFamily(lambda model_type: family_of(model_type)),  # finds the families it searches here
)

_FAMILIES: dict[str, ModelFamily] = {model_type: family for family in BUILT_IN for model_type in family.model_types}


def family_of(model_type: str) -> ModelFamily:
    """The family that owns ``model_type`` (upper-case, as stored in a model's description).

    Raises:
        InvalidOptionError: no family owns it (a model saved by a plug-in that is not registered).
    """
    family = _FAMILIES.get(str(model_type).upper())
    if family is None:
        raise InvalidOptionError(
            f"No model family owns model_type '{model_type}'.",
            option="model_type",
            hint=f"Valid model types: {', '.join(_FAMILIES)}.",
        )
    return family


def canonical_name(model_type: str) -> str | None:
    """The registered spelling of ``model_type`` (any case), or None when no family owns it."""
    name = str(model_type).upper()
    return name if name in _FAMILIES else None


def model_types() -> list[str]:
    """Every registered model type, built-in ones first in BigQuery's order."""
    return list(_FAMILIES)


def supporting(function: str) -> list[str]:
    """The model types whose family supports ML.<function>, in :func:`model_types` order."""
    return [model_type for model_type, family in _FAMILIES.items() if family.supports(function, model_type)]


def register(family: ModelFamily) -> ModelFamily:
    """Add a family's model types to the table.

    Raises:
        ValueError: one of its model types already belongs to another family.
    """
    taken = [model_type for model_type in family.model_types if model_type in _FAMILIES]
    if taken or not family.model_types:
        raise ValueError(f"Cannot register family {family.name!r}: model types {taken or '(none)'} already taken or missing.")
    for model_type in family.model_types:
        _FAMILIES[model_type.upper()] = family
    return family


def unregister(family: ModelFamily) -> None:
    """Remove a family registered with :func:`register` (built-in families stay)."""
    if family in BUILT_IN:
        raise ValueError(f"The built-in family {family.name!r} cannot be removed.")
    for model_type in family.model_types:
        if _FAMILIES.get(model_type.upper()) is family:
            del _FAMILIES[model_type.upper()]


class _OptionTables(Mapping):
    """``model_type`` → its option table, read live from the registered families."""

    def __getitem__(self, model_type: str) -> dict[str, Option]:
        if canonical_name(model_type) is None:
            raise KeyError(model_type)
        return family_of(model_type).option_table(model_type)

    def __iter__(self) -> Iterator[str]:
        return iter(list(_FAMILIES))

    def __len__(self) -> int:
        return len(_FAMILIES)


#: Every model type's CREATE MODEL options, by lower-case option name.
OPTIONS_BY_TYPE: Mapping[str, dict[str, Option]] = _OptionTables()


def all_option_names() -> dict[str, set[str]]:
    """Option name → the model types that accept it (for "does not apply" messages)."""
    owners: dict[str, set[str]] = {}
    for model_type, table in OPTIONS_BY_TYPE.items():
        for name in table:
            owners.setdefault(name, set()).add(model_type)
    return owners
