"""The model family contract: what sqlml asks of a kind of model, declared on one object.

A family (linear models, boosted trees, k-means…) owns one or more ``model_type`` values and
answers, as data and methods, every question the rest of sqlml used to answer with a branch on the
model type: which options it takes, how its features are preprocessed, which estimator learns it,
which columns ML.PREDICT returns, which metrics are stored and evaluated, which ML.* functions it
supports, how it is tuned and exported. Training, tuning, the ML.* functions, EXPORT MODEL, the
server and the shell ask the family (:func:`sqlml.ml.models.catalog.family_of`) and never name a
model type.

A new family is one module under ``sqlml/ml/models/`` with a :class:`ModelFamily` subclass, added to
:data:`sqlml.ml.models.catalog.BUILT_IN` (or registered at run time with
:func:`sqlml.ml.models.catalog.register`). Supervised families usually derive from
:class:`sqlml.ml.models.supervised.SupervisedFamily`, which supplies the regression and
classification outputs and metrics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from sqlml.errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from sqlml.ml.models.estimator import Dataset, Estimator, Task
    from sqlml.ml.models.model import Model
    from sqlml.ml.models.onnx_graph import Graph
    from sqlml.ml.models.options import Option
    from sqlml.ml.preprocessing.automatic.preprocessor import Preprocessor


class Target(StrEnum):
    """What a model type learns; its value is the estimator task kind of unsupervised models."""

    REGRESSION = "regression"
    CLASSIFICATION = "classification"
    CLUSTERING = "clustering"
    DECOMPOSITION = "decomposition"
    #: an imported model: its outputs are whatever its file computes
    IMPORTED = "imported"
    #: a TRANSFORM_ONLY model: no estimator, only its TRANSFORM clause
    FEATURES = "features"
    #: a time-series model (ARIMA_PLUS): one model per series, asked for forecasts
    FORECASTING = "forecasting"
    #: a recommendation model (MATRIX_FACTORIZATION): trained on (user, item, rating) rows, which
    #: are encoded as user and item codes instead of the automatic preprocessing
    RECOMMENDATION = "recommendation"

    @property
    def is_supervised(self) -> bool:
        """Trained on a label column."""
        return self in (Target.REGRESSION, Target.CLASSIFICATION)

    @property
    def splits_rows(self) -> bool:
        """``data_split_method`` splits its training rows into training, evaluation and test rows."""
        return self.is_supervised or self is Target.RECOMMENDATION


class Source(StrEnum):
    """What CREATE MODEL builds a model of this family from."""

    #: training rows (``AS SELECT …``), fitted by the family's estimator
    ROWS = "rows"
    #: a model file named by ``model_path`` (no training query)
    FILE = "file"
    #: the TRANSFORM clause alone (no estimator)
    TRANSFORM = "transform"
    #: training rows that are time series, fitted by the family itself (:meth:`ModelFamily.fit_series`)
    SERIES = "series"


class Evaluation(StrEnum):
    """How ML.EVALUATE computes metrics when it is given input rows."""

    #: compare the model's outputs with the rows' label column
    LABELLED = "labelled"
    #: from :meth:`ModelFamily.metric_outputs` of the rows alone (k-means distances, an
    #: autoencoder's reconstruction losses)
    OUTPUTS = "outputs"
    #: the metrics stored at training; the input rows are not read
    STORED = "stored"


#: ``category_encoding_method`` → the encoder's method name.
CATEGORY_ENCODINGS = {
    "ONE_HOT_ENCODING": "one_hot",
    "DUMMY_ENCODING": "dummy",
    "LABEL_ENCODING": "label",
    "TARGET_ENCODING": "target",
}


@dataclass(frozen=True)
class ImportedModel:
    """What a model file gives CREATE MODEL: the model's description and the files the store keeps.

    Attributes:
        spec: the description (``model_type``, ``options``, ``imported``: the file's inputs and outputs).
        files: file name → content, kept byte for byte.
    """

    spec: dict
    files: dict[str, bytes]


@dataclass(frozen=True)
class Preprocessing:
    """The automatic preprocessing a model type gets by default
    (https://cloud.google.com/bigquery/docs/auto-preprocessing).

    Attributes:
        standardize: numeric features are standardized.
        categorical: how categorical columns are encoded: ``one_hot``, ``dummy``, ``label`` or ``target``.
        native_categorical: label-encoded columns are handed to the estimator as categorical
            features (tree ensembles split on them natively).
    """

    standardize: bool = True
    categorical: str = "one_hot"
    native_categorical: bool = False


class ModelFamily(ABC):
    """One family of model types and everything sqlml needs to know about it.

    Subclasses set the class attributes, implement :meth:`target` and :meth:`option_table`, and
    override the other methods their model types need; the defaults describe a family that has
    no estimator and no outputs.

    Attributes:
        name: the family's name (``linear``, ``kmeans``…), for messages and tests.
        model_types: the ``model_type`` values it owns, upper-case.
        source: what CREATE MODEL builds its models from.
        evaluation: how ML.EVALUATE with input rows computes its metrics.
        search_space: the options NUM_TRIALS tunes when no HPARAM_* option is given (BigQuery's
            default search space); empty when the family cannot be tuned.
        keeps_input_features: ML.PREDICT passes the feature columns through after the outputs
            (PCA drops them unless ``keep_original_columns``).
        reports_eval_loss: ML.TRAINING_INFO has an ``eval_loss`` column.
        accepts_transform: CREATE MODEL takes a TRANSFORM clause (matrix factorization does not).
        searches_families: trained by a search across other families' models
            (:mod:`sqlml.ml.automl.search`, AUTOML_*), not by an estimator of its own.
    """

    name: ClassVar[str] = ""
    model_types: ClassVar[tuple[str, ...]] = ()
    source: ClassVar[Source] = Source.ROWS
    evaluation: ClassVar[Evaluation] = Evaluation.LABELLED
    search_space: ClassVar[tuple[str, ...]] = ()
    keeps_input_features: ClassVar[bool] = True
    reports_eval_loss: ClassVar[bool] = True
    accepts_transform: ClassVar[bool] = True
    searches_families: ClassVar[bool] = False

    # -- what the family is ------------------------------------------------------------------

    @abstractmethod
    def target(self, model_type: str) -> Target:
        """What ``model_type`` learns."""

    def functions(self, model_type: str) -> frozenset[str]:
        """The ML.* table functions (names without ``ML.``) that take a model of ``model_type``
        and check its type: PREDICT, EVALUATE, CONFUSION_MATRIX, ROC_CURVE, EXPLAIN_PREDICT,
        GLOBAL_EXPLAIN, FEATURE_IMPORTANCE, WEIGHTS, ADVANCED_WEIGHTS, CENTROIDS,
        PRINCIPAL_COMPONENTS, PRINCIPAL_COMPONENT_INFO, DETECT_ANOMALIES, RECONSTRUCTION_LOSS,
        GENERATE_EMBEDDING."""
        return frozenset()

    def instead_of(self, function: str, model_type: str) -> str | None:
        """The ML.* function that answers what ML.<function> would for ``model_type`` when it does not
        take the model (ML.RECOMMEND for a matrix factorization's ML.PREDICT), for the refusal's hint."""
        return None

    def supports(self, function: str, model_type: str) -> bool:
        """Whether ML.<function> takes a model of ``model_type``."""
        return function in self.functions(model_type)

    def export_formats(self, model_type: str) -> tuple[str, ...]:
        """The files EXPORT MODEL derives from a model (besides its own files): ``model.onnx``…"""
        return ()

    # -- CREATE MODEL ------------------------------------------------------------------------

    @abstractmethod
    def option_table(self, model_type: str) -> dict[str, Option]:
        """Every CREATE MODEL option ``model_type`` accepts, by lower-case name."""

    def check_options(self, model_type: str, options: dict, given: set[str]) -> None:
        """Rules between the family's options that a per-option check cannot see.

        Raises:
            InvalidOptionError: naming the option at fault.
        """

    def check_task(self, model_type: str, options: dict, task: Task) -> None:
        """Rules that need the training rows' task (e.g. the number of classes).

        Raises:
            InvalidOptionError: naming the option at fault.
        """

    def max_classes(self, model_type: str) -> int:
        """The most classes a classifier of ``model_type`` may have (BigQuery's limits)."""
        return 1000

    def preprocessing(self, model_type: str, options: dict) -> Preprocessing:
        """The automatic preprocessing of ``model_type`` with these resolved options."""
        return Preprocessing()

    def estimator_class(self, model_type: str) -> type[Estimator]:
        """The estimator that learns ``model_type`` (imported lazily: libraries are slow to import)."""
        raise ModelError(f"{model_type} models have no estimator.")

    def fitted_arrays(
        self, model_type: str, estimator: Estimator, train: Dataset, preprocessor: Preprocessor, options: dict
    ) -> dict[str, np.ndarray]:
        """Arrays kept with a fitted model beyond its estimator's (e.g. the weights' covariance).

        Args:
            model_type: the model's type.
            estimator: the fitted estimator.
            train: the training rows (a CSR matrix for a sparse task).
            preprocessor: the fitted automatic preprocessing (sizes a dense copy of ``train``).
            options: the resolved options.

        By default, a decomposition family that supports DETECT_ANOMALIES keeps its training rows'
        reconstruction errors (:func:`sqlml.ml.models.anomaly.reconstruction_arrays`), which the
        function's cut-off is taken from; a family that overrides this method keeps them by
        calling it through ``super()``.
        """
        if self.target(model_type) is Target.DECOMPOSITION and self.supports("DETECT_ANOMALIES", model_type):
            from sqlml.ml.models.anomaly import reconstruction_arrays

            return reconstruction_arrays(self, model_type, estimator, train, preprocessor)
        return {}

    def fit_series(
        self, model_type: str, options: dict, table: pa.Table, holidays: pa.Table | None
    ) -> tuple[dict, dict[str, np.ndarray]]:
        """The description and arrays of a model fitted to time series (families whose source is
        ``SERIES``): the family reads the series from ``table`` and keeps its state as data.

        Args:
            model_type: the model's type.
            options: the resolved options.
            table: the training rows.
            holidays: the rows of ``custom_holiday AS (…)``, or None.

        Raises:
            InvalidModelInputError: no series can be fitted.
        """
        raise ModelError(f"{model_type} models are not fitted to time series.")

    def read_file(self, model_type: str, options: dict) -> ImportedModel:
        """The description and files of the model file named by ``model_path`` (families whose
        source is ``FILE``)."""
        raise ModelError(f"{model_type} models are trained, not imported.")

    # -- ML.PREDICT --------------------------------------------------------------------------

    def output_schema(self, model: Model) -> pa.Schema:
        """The output columns ML.PREDICT puts before the input columns."""
        raise ModelError(f"ML.PREDICT has no outputs for {model.model_type}.")

    def prediction_columns(self, model: Model, raw: np.ndarray, threshold: float | None) -> list[pa.Array]:
        """The output columns (in :meth:`output_schema` order) from the estimator's raw outputs."""
        raise ModelError(f"ML.PREDICT has no outputs for {model.model_type}.")

    def outputs_reader(self, model: Model, reader: pa.RecordBatchReader) -> pa.RecordBatchReader | None:
        """ML.PREDICT's rows when the family predicts without an estimator (an imported file);
        None when the estimator's raw outputs go through :meth:`prediction_columns`."""
        return None

    # -- anomaly detection, reconstruction and embeddings ------------------------------------

    def reconstruct(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The model's reconstruction (same shape) of preprocessed rows ``X``: what
        ML.DETECT_ANOMALIES and ML.RECONSTRUCTION_LOSS compare the rows with, for decomposition
        models (PCA, autoencoders).

        Raises:
            ModelError: the model does not reconstruct its input.
        """
        raise ModelError(f"{model_type} models do not reconstruct their input.")

    def embed(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The (rows, dimensions) embedding of preprocessed rows ``X`` that ML.GENERATE_EMBEDDING
        returns as one array per row (PCA: the principal component projections; autoencoders:
        the latent columns).

        Raises:
            ModelError: the model embeds no rows.
        """
        raise ModelError(f"{model_type} models do not embed rows.")

    # -- metrics -----------------------------------------------------------------------------

    def metric_names(self, model_type: str) -> tuple[str, ...]:
        """ML.EVALUATE's columns for ``model_type``."""
        return ()

    def metric_outputs(self, model_type: str, estimator: Estimator, X: np.ndarray) -> np.ndarray:
        """The raw outputs :meth:`metrics` reads for the rows ``X`` at training and in each tuning
        trial: the estimator's predictions; a family whose metrics read less computes less."""
        return estimator.predict(X)

    def metrics(self, model_type: str, estimator: Estimator, y: np.ndarray | None, raw: np.ndarray, threshold: float | None = None) -> dict:
        """ML.EVALUATE's metrics of raw outputs: stored at training (eval split, else the
        training rows), scored for each tuning trial and computed for ML.EVALUATE's input rows.

        Args:
            model_type: the model's type.
            estimator: the estimator that produced ``raw``.
            y: the rows' encoded labels (None for unsupervised models).
            raw: the estimator's raw outputs for the rows.
            threshold: the binary classification threshold (None: 0.5).
        """
        return {}

    def tuning_objectives(self, model_type: str, options: dict) -> tuple[str, ...] | None:
        """The HPARAM_TUNING_OBJECTIVES ``model_type`` takes with these options, BigQuery's default
        first; None: those of what the model learns (regression, classification, clustering)."""
        return None

    def tuned_options(self, model_type: str, options: dict) -> tuple[str, ...]:
        """The options NUM_TRIALS tunes when no HPARAM_* option is given; :attr:`search_space`
        unless the space depends on other options (implicit matrix factorization adds wals_alpha)."""
        return self.search_space

    def data_defaults(self, model_type: str, options: dict, rows: int) -> dict:
        """The defaults of options that depend on the number of training rows (matrix
        factorization's num_factors = log2(rows)): where hyperparameter tuning's first trial
        starts, as BigQuery's does, at the defaults."""
        return {}

    def training_info_extras(self, rows: list[dict]) -> dict[str, pa.Array]:
        """Columns ML.TRAINING_INFO adds after ``duration_ms`` from the recorded iterations."""
        return {}

    # -- EXPORT MODEL ------------------------------------------------------------------------

    def onnx_graph(self, graph: Graph, model: Model, features: str) -> Graph:
        """Add the estimator and ML.PREDICT's outputs to an ONNX graph whose ``features`` tensor
        is the preprocessed feature matrix; return the graph to finish (it may be a new one).

        Raises:
            ModelError: the model has no ONNX form.
        """
        raise ModelError(f"{model.model_type} models have no ONNX form.")
