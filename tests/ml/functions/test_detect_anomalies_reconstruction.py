"""ML.DETECT_ANOMALIES of models that reconstruct their input (PCA; autoencoders through the same
family hook): BigQuery's columns, and the reconstruction errors and cut-off of scikit-learn's PCA
and NumPy's quantile on the same standardized rows.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.decomposition import PCA

from sqlml.errors import InvalidOptionError, ModelError
from sqlml.ml.models.anomaly import SCORES

PENGUINS = Path(__file__).parents[3] / "sql" / "seeds" / "penguins.csv"  # the example project ships it
#: Off the plane the other rows lie near: planted in the training rows (ids 900…) and the fresh rows (950…).
TRAIN_OUTLIERS = np.array([[3.0, -3.0, 4.0], [-4.0, 4.0, 3.0], [2.0, 3.0, -6.0]])
FRESH_OUTLIERS = np.array([[4.0, -4.0, -3.0]])
OUTPUTS = [("is_anomaly", pa.bool_()), ("mean_squared_error", pa.float64())]


def _rows(n: int, seed: int, outliers: np.ndarray, first_outlier_id: int) -> pa.Table:
    """Rows near the plane c = a + b (plus noise), positive (about 10-30), and the outliers shifted alike."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.0, 2.0, n), rng.normal(0.0, 1.0, n)
    points = np.vstack([np.column_stack([a, b, a + b + rng.normal(0.0, 0.2, n)]), outliers]) + 20.0
    ids = list(range(n)) + list(range(first_outlier_id, first_outlier_id + len(outliers)))
    return pa.table({"id": pa.array(ids, pa.int64()), "a": points[:, 0], "b": points[:, 1], "c": points[:, 2], "note": [f"n{i}" for i in ids]})


TRAIN = _rows(200, 3, TRAIN_OUTLIERS, 900)
FRESH = _rows(20, 4, FRESH_OUTLIERS, 950)


TABLES = {"train": TRAIN, "fresh": FRESH}
MODELS = [
    "CREATE MODEL ds.pca OPTIONS(model_type='pca', num_principal_components=2) AS SELECT a, b, c FROM ds.train",
    "CREATE MODEL ds.raw OPTIONS(model_type='pca', num_principal_components=2, scale_features=FALSE) AS SELECT a, b, c FROM ds.train",
]


@pytest.fixture(scope="module")
def con(tables_con):
    return tables_con


def _points(table: pa.Table) -> np.ndarray:
    return np.column_stack([table.column(name).to_numpy() for name in ("a", "b", "c")])


def _expected(contamination: float, scaled: bool = True) -> tuple[np.ndarray, np.ndarray, float]:
    """scikit-learn's PCA (2 components) of the training rows — standardized with the training mean
    and sample standard deviation unless ``scaled`` is false — each row's mean squared
    reconstruction error, and NumPy's (1 − contamination) quantile of the training rows' errors:
    (fresh errors, training errors, cut-off)."""
    train = _points(TRAIN)
    mean, std = train.mean(axis=0), (train.std(axis=0, ddof=1) if scaled else 1.0)

    def errors(pca: PCA, rows: np.ndarray) -> np.ndarray:
        Z = (rows - mean) / std
        return ((Z - pca.inverse_transform(pca.transform(Z))) ** 2).mean(axis=1)

    pca = PCA(2, svd_solver="full").fit((train - mean) / std)
    train_errors = errors(pca, train)
    return errors(pca, _points(FRESH)), train_errors, float(np.quantile(train_errors, 1.0 - contamination))


def test_reconstruction_columns_are_bigquerys_then_every_input_column(con):
    result = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.pca, STRUCT(0.1 AS contamination), TABLE ds.fresh)").arrow()
    features = [("id", pa.int64()), ("a", pa.float64()), ("b", pa.float64()), ("c", pa.float64()), ("note", pa.string())]
    assert [(f.name, f.type) for f in result.schema] == OUTPUTS + features  # the features pass through, unlike ML.PREDICT's
    assert result.column("note").to_pylist() == FRESH.column("note").to_pylist()


@pytest.mark.parametrize(("model", "scaled"), [("ds.pca", True), ("ds.raw", False)])
@pytest.mark.parametrize("contamination", [0.0, 0.012, 0.1, 0.5])
def test_reconstruction_errors_and_flags_equal_sklearn_pca_and_the_numpy_quantile(con, model, scaled, contamination):
    sql = f"SELECT * FROM ML.DETECT_ANOMALIES(MODEL {model}, STRUCT({contamination} AS contamination), (SELECT * FROM ds.fresh))"
    result = con.query(sql).arrow()
    errors, _, cut = _expected(contamination, scaled)
    np.testing.assert_allclose(result.column("mean_squared_error").to_numpy(), errors, rtol=1e-8, atol=1e-12)
    assert result.column("is_anomaly").to_pylist() == (errors > cut).tolist()


def test_reconstruction_flags_the_planted_outliers(con):
    _, train_errors, cut = _expected(0.012)
    flagged = con.query("SELECT id FROM ML.DETECT_ANOMALIES(MODEL ds.pca, STRUCT(0.012 AS contamination), TABLE ds.train) WHERE is_anomaly ORDER BY id").fetchall()
    assert [row[0] for row in flagged] == [900, 901, 902] and int((train_errors > cut).sum()) == 3
    fresh = con.query("SELECT id FROM ML.DETECT_ANOMALIES(MODEL ds.pca, STRUCT(0.012 AS contamination), TABLE ds.fresh) WHERE is_anomaly").fetchall()
    assert fresh == [(950,)]


def test_reconstruction_anomalies_compose_with_ctas_and_joins(con):
    con.query("CREATE TABLE ds.scored AS SELECT id, mean_squared_error FROM ML.DETECT_ANOMALIES(MODEL ds.pca, STRUCT(0.1 AS contamination), (SELECT id, a, b, c FROM ds.fresh))")
    top = con.query("SELECT f.note FROM ds.fresh AS f JOIN ds.scored AS s ON s.id = f.id ORDER BY s.mean_squared_error DESC LIMIT 1").fetchall()
    assert top == [("n950",)]


def test_shared_penguins_with_nulls_and_categories_flag_the_contamination_share_of_their_training_rows(con):
    con.register("penguin_rows", pacsv.read_csv(PENGUINS))
    con.query("CREATE TABLE ds.penguins AS SELECT * FROM penguin_rows")
    con.query("CREATE MODEL ds.penguin_pca OPTIONS(model_type='pca', num_principal_components=3) AS SELECT island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex FROM ds.penguins")
    result = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.penguin_pca, STRUCT(0.05 AS contamination), TABLE ds.penguins)").arrow()
    assert result.num_rows == 344 and result.column_names[:3] == ["is_anomaly", "mean_squared_error", "species"]
    errors = result.column("mean_squared_error").to_numpy()
    assert np.isfinite(errors).all()  # rows with NULL measurements are imputed, not dropped
    assert result.column("is_anomaly").to_pylist() == (errors > np.quantile(errors, 0.95)).tolist()


def test_reconstruction_contamination_is_required_and_bounded(con):
    with pytest.raises(InvalidOptionError, match=r"^ML\.DETECT_ANOMALIES of a PCA model needs the contamination setting"):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.pca, TABLE ds.fresh)")
    with pytest.raises(InvalidOptionError, match=r"^ML\.DETECT_ANOMALIES's contamination must be in \[0, 0\.5\]\. Got 0\.75 instead\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.pca, STRUCT(0.75 AS contamination), TABLE ds.fresh)")


def test_a_pca_model_stored_before_detection_existed_asks_to_be_retrained(con, store_without_arrays):
    store_without_arrays(con, "ds.pca", "ds.pca_old", (SCORES,))
    with pytest.raises(ModelError, match=r"^ML\.DETECT_ANOMALIES needs a model trained with its training rows' anomaly scores kept; ds\.pca_old was not\.") as old:
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.pca_old, STRUCT(0.1 AS contamination), TABLE ds.fresh)")
    assert old.value.hint.startswith("Models created before sqlml detected anomalies with them did not keep them")
    # the model still predicts: only the new function needs the new array
    assert con.query("SELECT count(*) FROM ML.PREDICT(MODEL ds.pca_old, TABLE ds.fresh)").fetchall() == [(FRESH.num_rows,)]
