"""What an AutoML search tries: its data split, and each searched family's rows, defaults and
hyperparameter space.

The split is AutoML's (https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-automl#data_split_col):
without ``data_split_col``, a random 80/10/10 split into training, validation and test rows (Vertex
AI's default, drawn as sqlml's other random splits are, from the rows' hashes); with a STRING
column, its ``TRAIN``, ``VALIDATE`` and ``TEST`` rows (other values, ``UNASSIGNED`` or NULL, are left
out); with a DATE or TIMESTAMP column, the oldest 80% train, the next 10% validate and the newest
10% test. Every family sees the same rows; families with the same automatic preprocessing (the
linear family and DNNs: standardized, one-hot; the tree families: label-encoded) share one
:class:`~sqlml.ml.training.preparation.Prepared` — unless it is sparse and a family reads only
dense rows — so their candidates can be ensembled.

The hyperparameters searched are each family's default tuning space (BigQuery's
hp-tuning-overview ranges, :func:`sqlml.ml.training.tuning.search_spaces`), narrowed where
:data:`NARROWED` says, plus the boosted tree's number of rounds; each family's first trial is its
BigQuery defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlml.errors import InvalidModelInputError, InvalidOptionError
from sqlml.ml.models.base import ModelFamily, Preprocessing
from sqlml.ml.models.catalog import OPTIONS_BY_TYPE
from sqlml.ml.models.options import HparamRange, Option
from sqlml.ml.models.statement_options import resolve_options
from sqlml.ml.training.labels import resolve_column
from sqlml.ml.training.preparation import Prepared, prepare
from sqlml.ml.training.split import Split, split_rows
from sqlml.ml.training.tuning import search_spaces

#: Vertex AI AutoML's default split: 80% training, 10% validation, 10% test.
RANDOM_SPLIT = {"data_split_method": "RANDOM", "data_split_eval_fraction": 0.1, "data_split_test_fraction": 0.1}
SPLIT_VALUES = ("TRAIN", "VALIDATE", "TEST")
#: Hyperparameters searched beyond a family's default tuning space.
EXTRA_SPACES = {"max_iterations": HparamRange(10.0, 200.0)}
EXTRA_FAMILIES = ("boosted_tree",)
#: AutoML's ranges where they are narrower than BigQuery's hp-tuning ones (family, option → low,
#: high): a search of a few dozen trials spends them where these families' models are good on
#: tabular rows (boosted trees learn at 0.02–0.5 on at least half the rows, to depth 10; forests
#: bag at least half the rows; DNNs learn below 0.03 with at most half the units dropped) instead of
#: on learn rates near 1 or 5% samples, which the full ranges reach and which score near chance.
NARROWED = {
    ("boosted_tree", "learn_rate"): (0.02, 0.5),
    ("boosted_tree", "subsample"): (0.5, 1.0),
    ("boosted_tree", "max_tree_depth"): (2, 10),
    ("random_forest", "subsample"): (0.5, 1.0),
    ("dnn", "learn_rate"): (1e-4, 0.03),
    ("dnn", "dropout"): (0.0, 0.5),
}


@dataclass
class Candidate:
    """One searched model type.

    Attributes:
        model_type: e.g. ``BOOSTED_TREE_CLASSIFIER``.
        family: its family.
        defaults: its resolved options at BigQuery's defaults (the first trial's).
        spaces: option → the range or candidates searched.
        table: its option declarations.
    """

    model_type: str
    family: ModelFamily
    defaults: dict
    spaces: dict
    table: dict[str, Option]

    def default_hyperparameters(self) -> dict:
        """The searched options' values in the first trial: the family's defaults."""
        return {name: self.defaults[name] for name in self.spaces}


def automl_split(options: dict, table: pa.Table, hashes: np.ndarray) -> Split:
    """The training, validation and test rows of an AutoML model.

    Raises:
        InvalidOptionError: the split column is missing, or leaves no training or validation rows.
        InvalidModelInputError: the split column has a type AutoML does not split on.
    """
    name = options.get("data_split_col")
    if not name:
        split = split_rows(table, hashes, RANDOM_SPLIT, tuning=True)
    else:
        split = _column_split(resolve_column(table, name, "data_split_col"), table)
    for part, rows in (("training", split.train), ("validation", split.evaluation)):
        if len(rows):
            continue
        if name:
            raise InvalidOptionError(
                f"data_split_col {name} marks no {part} rows.",
                option="data_split_col",
                hint=f"Mark rows '{'TRAIN' if part == 'training' else 'VALIDATE'}' (STRING values TRAIN, VALIDATE, TEST).",
            )
        raise InvalidModelInputError(
            f"AutoML's random split of {table.num_rows} row(s) leaves no {part} rows.",
            hint="AutoML validates every candidate on 10% of the rows: give it more rows.",
        )
    return split


def _column_split(name: str, table: pa.Table) -> Split:
    column = table.column(name).combine_chunks()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = pc.fill_null(pc.utf8_upper(column), "").to_numpy(zero_copy_only=False)
        return Split(*(np.nonzero(values == part)[0] for part in SPLIT_VALUES), method="CUSTOM")
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        present = np.nonzero(column.is_valid().to_numpy(zero_copy_only=False))[0]
        order = present[np.argsort(column.take(pa.array(present)).to_numpy(zero_copy_only=False), kind="stable")]
        n = len(order)
        cut_train, cut_eval = n - 2 * int(round(0.1 * n)), n - int(round(0.1 * n))
        parts = (order[:cut_train], order[cut_train:cut_eval], order[cut_eval:])
        return Split(*(np.sort(part).astype(np.int64) for part in parts), method="SEQ")
    raise InvalidModelInputError(
        f"data_split_col {name} must be a STRING of 'TRAIN', 'VALIDATE' and 'TEST', or a DATE or TIMESTAMP "
        f"(a chronological split); it is {column.type}.",
        column=name,
    )


def member_options(model_type: str, options: dict) -> dict:
    """A searched model type's options at BigQuery's defaults, with the AutoML model's label and
    split column (so the split column is not a feature)."""
    raw = {"input_label_cols": options["input_label_cols"]}
    if options.get("data_split_col"):
        raw["data_split_col"] = options["data_split_col"]
    return resolve_options(model_type, raw)


def candidates(searched: list[tuple[str, ModelFamily]], options: dict) -> list[Candidate]:
    """The searched model types with their default options and search spaces."""
    found = []
    for model_type, family in searched:
        defaults = member_options(model_type, options)
        spaces = search_spaces(model_type, defaults)
        if family.name in EXTRA_FAMILIES:
            spaces.update(EXTRA_SPACES)
        for name, space in spaces.items():
            if (family.name, name) in NARROWED and isinstance(space, HparamRange):
                low, high = NARROWED[family.name, name]
                spaces[name] = HparamRange(max(space.low, low), min(space.high, high))
        found.append(Candidate(model_type, family, defaults, spaces, OPTIONS_BY_TYPE[model_type]))
    return found


class Rows:
    """The training rows prepared for each candidate on first use (a family's library is imported
    then, inside its first trial's time), shared by candidates of the same preprocessing."""

    def __init__(self, table: pa.Table, hashes: np.ndarray, split: Split):
        self.table, self.hashes, self.split = table, hashes, split
        self._shared: dict[Preprocessing, list[Prepared]] = {}

    def prepared(self, candidate: Candidate) -> Prepared:
        """``candidate``'s training, validation and test rows, preprocessed as its family does.

        Raises:
            Error: its family cannot learn this label (too many classes for a linear model…).
        """
        model_type, family, defaults = candidate.model_type, candidate.family, candidate.defaults
        dense_only = not family.estimator_class(model_type).accepts_sparse
        made = self._shared.setdefault(family.preprocessing(model_type, defaults), [])
        usable = [p for p in made if not (p.task.sparse and dense_only)]  # a sparse-capable family reads dense rows too
        if not usable:
            made.append(prepare(model_type, defaults, self.table, self.hashes, self.split))
            usable = made[-1:]
        prepared = usable[0]
        family.check_task(model_type, defaults, prepared.task)
        if prepared.task.is_classification and prepared.task.n_classes > family.max_classes(model_type):
            raise InvalidModelInputError(f"{model_type} takes at most {family.max_classes(model_type)} classes.")
        return prepared
