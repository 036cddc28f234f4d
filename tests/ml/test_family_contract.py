"""The model family contract: a family is one object, registered in one table.

A throwaway family defined in this file only (a regressor that predicts the weighted mean of the
label) goes through CREATE MODEL, ML.PREDICT, ML.EVALUATE and a reload from the store without any
other module knowing it; and every built-in model type belongs to exactly one family whose
declared ML.PREDICT columns are the ones ML.PREDICT returns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm

import sqlml
from sqlml.errors import ModelError
from sqlml.ml.models import catalog
from sqlml.ml.models.base import ModelFamily, Source, Target
from sqlml.ml.models.estimator import Dataset, Estimator, Monitor, Task
from sqlml.ml.models.model import Model
from sqlml.ml.models.model_types import ModelType
from sqlml.ml.models.supervised import SupervisedFamily
from sqlml.store.records import ModelRef

REGRESSION_METRICS = ("mean_absolute_error", "mean_squared_error", "mean_squared_log_error", "median_absolute_error",
                      "r2_score", "explained_variance")  # fmt: skip
LABELS = [1.0, 2.0, 4.0, 8.0, 10.0, 11.0]
FEATURES = [0.5, -1.0, 2.0, 3.5, 0.0, 1.0]
FRESH = [(7.0, 3.0), (1.0, -2.0), (3.0, 9.0)]  # (y, x) rows the model never saw


class MeanRegressor(Estimator):
    """Predicts the training label's weighted mean, whatever the features."""

    def fit(self, train: Dataset, evaluation: Dataset | None, monitor: Monitor) -> "MeanRegressor":
        self.mean_ = float(np.average(train.y, weights=train.w))
        monitor.iteration(float(np.mean((train.y - self.mean_) ** 2)))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], self.mean_)

    def state(self) -> tuple[dict, dict, dict]:
        return {"mean": self.mean_}, {}, {}

    @classmethod
    def from_state(cls, options: dict, task: Task, params: dict, arrays: dict, texts: dict) -> "MeanRegressor":
        estimator = cls(options=options, task=task)
        estimator.mean_ = params["mean"]
        return estimator


class MeanFamily(SupervisedFamily):
    """MEAN_REG: a regression family with no options of its own."""

    name = "mean"
    model_types = ("MEAN_REG",)
    regressor = "MEAN_REG"

    def estimator_class(self, model_type: str) -> type[Estimator]:
        return MeanRegressor


@pytest.fixture
def mean_family():
    family = catalog.register(MeanFamily())
    yield family
    catalog.unregister(family)


@pytest.fixture
def trained(tmp_path, mean_family):
    """A disk warehouse with ds.t and ds.fresh, and MEAN_REG model ds.m trained on ds.t."""
    with sqlml.connect(tmp_path / "warehouse", tmp_path / "models", idle_release=0) as con:
        rows = ", ".join(f"({y}, {x})" for y, x in zip(LABELS, FEATURES))
        fresh = ", ".join(f"({y}, {x})" for y, x in FRESH)
        con.query(f"CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT * FROM (VALUES {rows}) AS v(y, x); "
                  f"CREATE TABLE ds.fresh AS SELECT * FROM (VALUES {fresh}) AS v(y, x)")  # fmt: skip
        con.query("CREATE MODEL ds.m OPTIONS(model_type='mean_reg', input_label_cols=['y'], data_split_method='NO_SPLIT') AS SELECT x, y FROM ds.t")
        yield con, tmp_path


def _regression_metrics(y, predicted) -> dict:
    """BigQuery's regression metrics, computed by scikit-learn."""
    y, predicted = np.asarray(y), np.asarray(predicted)
    return {
        "mean_absolute_error": skm.mean_absolute_error(y, predicted),
        "mean_squared_error": skm.mean_squared_error(y, predicted),
        "mean_squared_log_error": skm.mean_squared_log_error(y, predicted),
        "median_absolute_error": skm.median_absolute_error(y, predicted),
        "r2_score": skm.r2_score(y, predicted),
        "explained_variance": skm.explained_variance_score(y, predicted),
    }


def test_a_registered_family_predicts_with_its_declared_columns(trained):
    con, _ = trained
    result = con.query("SELECT * FROM ML.PREDICT(MODEL ds.m, TABLE ds.fresh)").arrow()
    assert result.schema == pa.schema([("predicted_y", pa.float64()), ("y", pa.float64()), ("x", pa.float64())])
    assert result.column("predicted_y").to_pylist() == [pytest.approx(np.mean(LABELS), abs=1e-12)] * len(FRESH)
    assert result.column("x").to_pylist() == [x for _, x in FRESH]


def test_a_registered_family_evaluates_with_its_declared_metrics(trained):
    con, _ = trained
    mean = float(np.mean(LABELS))
    stored = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.m)").arrow()
    assert stored.column_names == list(REGRESSION_METRICS)
    assert stored.schema.types == [pa.float64()] * len(REGRESSION_METRICS)
    assert stored.to_pylist()[0] == pytest.approx(_regression_metrics(LABELS, [mean] * len(LABELS)), abs=1e-12)
    fresh_y = [y for y, _ in FRESH]
    evaluated = con.query("SELECT * FROM ML.EVALUATE(MODEL ds.m, TABLE ds.fresh)").arrow().to_pylist()[0]
    assert evaluated == pytest.approx(_regression_metrics(fresh_y, [mean] * len(fresh_y)), abs=1e-12)


def test_a_registered_family_refuses_functions_it_does_not_declare(trained):
    con, _ = trained
    with pytest.raises(ModelError, match=r"^ML\.CONFUSION_MATRIX does not support MEAN_REG models; it needs a classification model\. ds\.m is MEAN_REG\."):
        con.query("SELECT * FROM ML.CONFUSION_MATRIX(MODEL ds.m)")
    with pytest.raises(ModelError, match=r"^ML\.WEIGHTS does not support MEAN_REG models; it needs LINEAR_REG, LOGISTIC_REG, MATRIX_FACTORIZATION\."):
        con.query("SELECT * FROM ML.WEIGHTS(MODEL ds.m)")


def test_a_registered_family_reloads_from_the_store(trained):
    con, root = trained
    store = con.models
    loaded = Model.load(store.verified_files(store.resolve(ModelRef.parse("ds.m"))))  # the files, read again
    assert loaded.model_type == "MEAN_REG" and isinstance(loaded.family, MeanFamily)
    assert isinstance(loaded.estimator, MeanRegressor) and loaded.estimator.mean_ == pytest.approx(np.mean(LABELS), abs=1e-12)
    assert loaded.target is Target.REGRESSION
    con.close()
    with sqlml.connect(root / "warehouse", root / "models", idle_release=0) as again:
        rows = again.query("SELECT predicted_y, x FROM ML.PREDICT(MODEL ds.m, (SELECT 5.0 AS x))").fetchall()
        assert rows == [(pytest.approx(np.mean(LABELS), abs=1e-12), 5.0)]


def test_an_unregistered_model_type_is_refused_with_the_registered_ones_listed():
    with pytest.raises(sqlml.Error, match=r"Unknown model_type 'mean_reg'\."):
        with sqlml.connect(":memory:") as con:
            con.query("CREATE SCHEMA ds; CREATE MODEL ds.m OPTIONS(model_type='mean_reg') AS SELECT 1.0 AS x, 2.0 AS label")


def test_registering_a_taken_model_type_fails(mean_family):
    class Again(MeanFamily):
        name = "again"

    with pytest.raises(ValueError, match="MEAN_REG"):
        catalog.register(Again())
    with pytest.raises(ValueError, match="built-in family 'linear'"):
        catalog.unregister(catalog.family_of("LINEAR_REG"))


@pytest.mark.parametrize("model_type", list(ModelType))
def test_every_built_in_model_type_belongs_to_exactly_one_family(model_type):
    owners = [family for family in catalog.BUILT_IN if model_type in family.model_types]
    assert len(owners) == 1
    assert catalog.family_of(model_type) is owners[0] and catalog.family_of(model_type.lower()) is owners[0]
    assert isinstance(owners[0], ModelFamily)
    assert catalog.OPTIONS_BY_TYPE[model_type] == owners[0].option_table(model_type)


#: model_type → (OPTIONS, training columns, the exact ML.PREDICT output columns and types)
_TRAINED = {
    ModelType.LINEAR_REG: ("input_label_cols=['target']", "x1, plan, target", [("predicted_target", pa.float64())]),
    ModelType.LOGISTIC_REG: ("input_label_cols=['tier']", "x1, plan, tier", [("predicted_tier", pa.string()), ("predicted_tier_probs", pa.list_(pa.struct([("label", pa.string()), ("prob", pa.float64())])))]),
    ModelType.BOOSTED_TREE_CLASSIFIER: ("input_label_cols=['churned'], max_iterations=3", "x1, plan, churned", [("predicted_churned", pa.bool_()), ("predicted_churned_probs", pa.list_(pa.struct([("label", pa.bool_()), ("prob", pa.float64())])))]),
    ModelType.BOOSTED_TREE_REGRESSOR: ("input_label_cols=['target'], max_iterations=3", "x1, plan, target", [("predicted_target", pa.float64())]),
    ModelType.RANDOM_FOREST_CLASSIFIER: ("input_label_cols=['churned'], num_parallel_tree=3", "x1, plan, churned", [("predicted_churned", pa.bool_()), ("predicted_churned_probs", pa.list_(pa.struct([("label", pa.bool_()), ("prob", pa.float64())])))]),
    ModelType.RANDOM_FOREST_REGRESSOR: ("input_label_cols=['target'], num_parallel_tree=3", "x1, plan, target", [("predicted_target", pa.float64())]),
    ModelType.KMEANS: ("num_clusters=3", "x1, plan", [("CENTROID_ID", pa.int64()), ("NEAREST_CENTROIDS_DISTANCE", pa.list_(pa.struct([("CENTROID_ID", pa.int64()), ("DISTANCE", pa.float64())])))]),
    ModelType.PCA: ("num_principal_components=2", "x1, x2, plan", [("principal_component_1", pa.float64()), ("principal_component_2", pa.float64())]),
    ModelType.AUTOENCODER: ("hidden_units=[3, 2, 3], max_iterations=1", "x1, x2, plan", [("latent_col_1", pa.float64()), ("latent_col_2", pa.float64())]),
}  # fmt: skip


@pytest.mark.parametrize("model_type", list(_TRAINED))
def test_each_family_declares_the_columns_ml_predict_returns(ml_con, model_type):
    options, columns, expected = _TRAINED[model_type]
    name = f"ds.contract_{model_type.lower()}"
    ml_con.query(f"CREATE OR REPLACE MODEL {name} OPTIONS(model_type='{model_type.lower()}', {options}) AS SELECT {columns} FROM ds.train")
    result = ml_con.query(f"SELECT * FROM ML.PREDICT(MODEL {name}, (SELECT {columns} FROM ds.fresh LIMIT 4))").arrow()
    store = ml_con.models
    model = Model.load(store.verified_files(store.resolve(ModelRef.parse(name))))
    declared = model.family.output_schema(model)
    assert list(declared) == [pa.field(n, t) for n, t in expected]
    assert list(result.schema)[: len(expected)] == list(declared)
    assert model.family.supports("PREDICT", model_type) and model.family.source is Source.ROWS
