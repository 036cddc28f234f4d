"""ML.RECONSTRUCTION_LOSS: three losses per row, then the row; for PCA models (a sqlml extension:
BigQuery documents autoencoders, which reach it through the same family hook), the losses of
scikit-learn's PCA reconstruction of the same rows.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-reconstruction-loss
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import mean_absolute_error, mean_squared_error, mean_squared_log_error

from sqlml.errors import InvalidOptionError, ModelError

LOSSES = [("mean_absolute_error", pa.float64()), ("mean_squared_error", pa.float64()), ("mean_squared_log_error", pa.float64())]


def _rows(n: int, seed: int) -> pa.Table:
    """Positive rows (about 10-30) near the plane c = a + b."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(0.0, 2.0, n), rng.normal(0.0, 1.0, n)
    return pa.table({"id": pa.array(range(n), pa.int64()), "a": a + 20, "b": b + 20, "c": a + b + rng.normal(0.0, 0.3, n) + 20, "kind": ["k"] * n})


TRAIN, FRESH = _rows(150, 7), _rows(12, 8)


TABLES = {"train": TRAIN, "fresh": FRESH}
MODELS = [
    "CREATE MODEL ds.raw OPTIONS(model_type='pca', num_principal_components=1, scale_features=FALSE) AS SELECT a, b, c FROM ds.train",
    "CREATE MODEL ds.scaled OPTIONS(model_type='pca', num_principal_components=1) AS SELECT a, b, c FROM ds.train",
]


@pytest.fixture(scope="module")
def con(tables_con):
    return tables_con


def _points(table: pa.Table) -> np.ndarray:
    return np.column_stack([table.column(name).to_numpy() for name in ("a", "b", "c")])


def _reconstruction(scaled: bool) -> tuple[np.ndarray, np.ndarray]:
    """The fresh rows (standardized with the training mean and sample standard deviation when
    ``scaled``) and scikit-learn's one-component PCA reconstruction of them."""
    train = _points(TRAIN)
    mean, std = train.mean(axis=0), (train.std(axis=0, ddof=1) if scaled else 1.0)
    if not scaled:
        mean = 0.0  # the features themselves; PCA centres them on its own
    pca = PCA(1, svd_solver="full").fit((train - mean) / std)
    rows = (_points(FRESH) - mean) / std
    return rows, pca.inverse_transform(pca.transform(rows))


def test_losses_then_every_input_column(con):
    result = con.query("SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.raw, TABLE ds.fresh)").arrow()
    inputs = [("id", pa.int64()), ("a", pa.float64()), ("b", pa.float64()), ("c", pa.float64()), ("kind", pa.string())]
    assert [(f.name, f.type) for f in result.schema] == LOSSES + inputs
    assert result.column("id").to_pylist() == list(range(FRESH.num_rows))


def test_losses_of_positive_unscaled_rows_equal_sklearns_metrics_per_row(con):
    rows, rebuilt = _reconstruction(scaled=False)
    result = con.query("SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.raw, (SELECT a, b, c FROM ds.fresh))").arrow()
    for i, (mae, mse, msle) in enumerate(zip(*(result.column(name).to_pylist() for name, _ in LOSSES))):
        assert mae == pytest.approx(mean_absolute_error(rows[i], rebuilt[i]), rel=1e-8)
        assert mse == pytest.approx(mean_squared_error(rows[i], rebuilt[i]), rel=1e-7)
        assert msle == pytest.approx(mean_squared_log_error(rows[i], rebuilt[i]), rel=1e-7)


def test_standardized_rows_take_keras_log_error_and_match_detect_anomalies(con):
    rows, rebuilt = _reconstruction(scaled=True)
    result = con.query("SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.scaled, TABLE ds.fresh)").arrow()
    # Keras clips at 1e-7 before log(x + 1): standardized features are negative about half the time
    keras = ((np.log1p(np.maximum(rows, 1e-7)) - np.log1p(np.maximum(rebuilt, 1e-7))) ** 2).mean(axis=1)
    np.testing.assert_allclose(result.column("mean_squared_log_error").to_numpy(), keras, rtol=1e-7, atol=1e-15)
    np.testing.assert_allclose(result.column("mean_absolute_error").to_numpy(), np.abs(rows - rebuilt).mean(axis=1), rtol=1e-8)
    detected = con.query("SELECT mean_squared_error FROM ML.DETECT_ANOMALIES(MODEL ds.scaled, STRUCT(0.1 AS contamination), TABLE ds.fresh)").arrow()
    assert result.column("mean_squared_error").to_pylist() == detected.column("mean_squared_error").to_pylist()


def test_losses_compose_with_aggregates(con):
    average = con.query("SELECT avg(mean_squared_error), count(*) FROM ML.RECONSTRUCTION_LOSS(MODEL ds.raw, TABLE ds.fresh) WHERE kind = 'k'").fetchall()
    rows, rebuilt = _reconstruction(scaled=False)
    assert average == [(pytest.approx(((rows - rebuilt) ** 2).mean(), rel=1e-7), FRESH.num_rows)]


def test_models_that_do_not_reconstruct_and_settings_are_refused(con):
    con.query("CREATE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=2) AS SELECT a, b, c FROM ds.train")
    with pytest.raises(ModelError, match=r"^ML\.RECONSTRUCTION_LOSS does not support KMEANS models; it needs [A-Z_, ]*\bPCA\b[A-Z_, ]*\. ds\.km is KMEANS\."):
        con.query("SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.km, TABLE ds.fresh)")
    with pytest.raises(InvalidOptionError, match=r"^ML\.RECONSTRUCTION_LOSS has no setting 'contamination'\."):
        con.query("SELECT * FROM ML.RECONSTRUCTION_LOSS(MODEL ds.raw, TABLE ds.fresh, STRUCT(0.1 AS contamination))")
