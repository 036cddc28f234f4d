"""ML.DETECT_ANOMALIES of KMEANS models: BigQuery's columns, the contamination cut-off, and the
numbers of scikit-learn's k-means and NumPy's quantile on the same standardized rows.

https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-detect-anomalies
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans

from sqlml.errors import InvalidModelInputError, InvalidOptionError, ModelError, UnsupportedStatementError
from sqlml.ml.models.anomaly import RADII, SCORES
from sqlml.ml.models.model import Model
from sqlml.store.records import ModelRef

CENTERS = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
#: Far from every cluster: planted in the training rows (ids 900…) and in the fresh rows (ids 950…).
TRAIN_OUTLIERS = np.array([[20.0, 20.0], [-12.0, 5.0], [5.0, -12.0], [16.0, -9.0]])
FRESH_OUTLIERS = np.array([[-10.0, -10.0], [18.0, 4.0]])
OUTPUTS = [("is_anomaly", pa.bool_()), ("normalized_distance", pa.float64()), ("centroid_id", pa.int64())]


def _rows(per_cluster: int, seed: int, outliers: np.ndarray, first_outlier_id: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    points = np.vstack([center + rng.normal(0.0, 1.0, (per_cluster, 2)) for center in CENTERS] + [outliers])
    ids = list(range(len(points) - len(outliers))) + list(range(first_outlier_id, first_outlier_id + len(outliers)))
    return pa.table({"id": pa.array(ids, pa.int64()), "x": points[:, 0], "y": points[:, 1], "tag": [f"t{i % 3}" for i in ids]})


TRAIN = _rows(100, 1, TRAIN_OUTLIERS, 900)
FRESH = _rows(10, 2, FRESH_OUTLIERS, 950)


TABLES = {"train": TRAIN, "fresh": FRESH}
MODELS = ["CREATE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=3) AS SELECT x, y FROM ds.train"]


@pytest.fixture(scope="module")
def con(tables_con):
    return tables_con


def _points(table: pa.Table) -> np.ndarray:
    return np.column_stack([table.column("x").to_numpy(), table.column("y").to_numpy()])


def _expected(contamination: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """scikit-learn's k-means on the standardized training rows (training mean and sample standard
    deviation, as sqlml's automatic preprocessing), each cluster's radius (its members' root mean
    squared distance), each fresh row's smallest distance / radius and NumPy's (1 − contamination)
    quantile of the training rows' values: (fresh normalized, fresh nearest, train normalized, cut-off)."""
    train = _points(TRAIN)
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    fitted = KMeans(3, n_init=10, random_state=0).fit((train - mean) / std)
    train_distances = cdist((train - mean) / std, fitted.cluster_centers_)
    members = train_distances[np.arange(len(train)), fitted.labels_]
    radii = np.sqrt(np.bincount(fitted.labels_, weights=members**2) / np.bincount(fitted.labels_))
    train_normalized = (train_distances / radii).min(axis=1)
    fresh_normalized = cdist((_points(FRESH) - mean) / std, fitted.cluster_centers_) / radii
    cut = np.quantile(train_normalized, 1.0 - contamination)
    return fresh_normalized.min(axis=1), fresh_normalized.argmin(axis=1), train_normalized, cut


def test_kmeans_columns_are_bigquerys_then_every_input_column(con):
    result = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.1 AS contamination), TABLE ds.fresh)").arrow()
    assert [(f.name, f.type) for f in result.schema] == OUTPUTS + [("id", pa.int64()), ("x", pa.float64()), ("y", pa.float64()), ("tag", pa.string())]
    assert result.column("id").to_pylist() == FRESH.column("id").to_pylist()
    assert result.column("tag").to_pylist() == FRESH.column("tag").to_pylist()


@pytest.mark.parametrize("contamination", [0.0, 0.02, 0.1, 0.5])
def test_kmeans_distances_and_flags_equal_sklearn_kmeans_and_the_numpy_quantile(con, contamination):
    # the bigframes call shape: STRUCT first, then a query
    sql = f"SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT({contamination} AS contamination), (SELECT * FROM ds.fresh))"
    result = con.query(sql).arrow()
    normalized, nearest, _, cut = _expected(contamination)
    np.testing.assert_allclose(result.column("normalized_distance").to_numpy(), normalized, rtol=1e-9)
    assert result.column("is_anomaly").to_pylist() == (normalized > cut).tolist()
    # centroid ids are sqlml's numbering of the same clusters: one id per scikit-learn cluster
    pairs = set(zip(result.column("centroid_id").to_pylist(), nearest.tolist()))
    assert len(pairs) == len({ours for ours, _ in pairs}) == len({theirs for _, theirs in pairs})


def test_kmeans_flags_the_contamination_share_of_the_training_rows_planted_outliers_first(con):
    _, _, train_normalized, cut = _expected(0.02)
    flagged = con.query("SELECT id FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.02 AS contamination), TABLE ds.train) WHERE is_anomaly ORDER BY id").fetchall()
    assert len(flagged) == int((train_normalized > cut).sum()) == 7  # 304 rows: above the 98th percentile
    assert {900, 901, 902, 903} <= {row[0] for row in flagged}
    fresh = con.query("SELECT id FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.02 AS contamination), TABLE ds.fresh) WHERE is_anomaly").fetchall()
    assert {950, 951} <= {row[0] for row in fresh}
    nothing = con.query("SELECT count(*) FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0 AS contamination), TABLE ds.train) WHERE is_anomaly").fetchall()
    assert nothing == [(0,)]  # the cut-off is the largest training score


def test_kmeans_centroid_id_is_the_centroid_of_the_normalized_distance(con):
    model = _model(con, "ds.km")
    rows = con.query("SELECT normalized_distance, centroid_id, x, y FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.1 AS contamination), TABLE ds.fresh)").fetchall()
    train = _points(TRAIN)
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    for normalized, centroid_id, x, y in rows:
        distance = np.linalg.norm((np.array([x, y]) - mean) / std - model.estimator.centroids_[centroid_id - 1])
        assert normalized == pytest.approx(distance / model.arrays[RADII][centroid_id - 1], rel=1e-9)


def test_kmeans_anomalies_compose_with_ctas_and_joins(con):
    con.query("CREATE TABLE ds.flags AS SELECT id, is_anomaly, normalized_distance FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.02 AS contamination), (SELECT id, x, y FROM ds.fresh))")
    joined = con.query(
        "SELECT f.tag, a.is_anomaly FROM ds.fresh AS f JOIN ds.flags AS a USING (id) WHERE a.is_anomaly ORDER BY f.id"
    ).fetchall()
    assert joined == [("t2", True), ("t0", True)]  # ids 950 and 951
    counted = con.query(
        "WITH a AS (SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.5 AS contamination), TABLE ds.train)) "
        "SELECT centroid_id, count(*) FROM a GROUP BY centroid_id ORDER BY centroid_id"
    ).fetchall()
    assert [c for c, _ in counted] == [1, 2, 3] and sum(n for _, n in counted) == TRAIN.num_rows


@pytest.mark.parametrize("value", ["0.6", "-0.1", "1"])
def test_contamination_outside_zero_to_half_is_refused(con, value):
    with pytest.raises(InvalidOptionError, match=r"^ML\.DETECT_ANOMALIES's contamination must be in \[0, 0\.5\]\. Got (0\.6|-0\.1|1\.0) instead\."):
        con.query(f"SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT({value} AS contamination), TABLE ds.fresh)")


def test_contamination_is_required_and_the_time_series_setting_refused(con):
    with pytest.raises(InvalidOptionError, match=r"^ML\.DETECT_ANOMALIES of a KMEANS model needs the contamination setting: the share of the training rows that are anomalies, in \[0, 0\.5\]\.") as missing:
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, TABLE ds.fresh)")
    assert "STRUCT(0.1 AS contamination)" in missing.value.hint
    with pytest.raises(InvalidOptionError, match=r"^ML\.DETECT_ANOMALIES has no setting 'anomaly_prob_threshold'\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.9 AS anomaly_prob_threshold), TABLE ds.fresh)")


def test_kmeans_needs_data_with_the_model_columns(con):
    with pytest.raises(UnsupportedStatementError, match=r"^ML\.DETECT_ANOMALIES needs input data: TABLE <name> or \(SELECT …\)\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.1 AS contamination))")
    with pytest.raises(InvalidModelInputError, match=r"^The input has no column y, which the model was trained on\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.1 AS contamination), (SELECT x FROM ds.fresh))")


def test_a_kmeans_model_stored_before_detection_existed_asks_to_be_retrained(con, store_without_arrays):
    store_without_arrays(con, "ds.km", "ds.km_old", (SCORES, RADII))
    with pytest.raises(ModelError, match=r"^ML\.DETECT_ANOMALIES needs a model trained with its training rows' anomaly scores kept; ds\.km_old was not\.") as old:
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km_old, STRUCT(0.1 AS contamination), TABLE ds.fresh)")
    assert "retrain it with CREATE OR REPLACE MODEL" in old.value.hint


def test_models_of_other_types_get_the_needs_error(con):
    con.query("CREATE MODEL ds.lin OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, y FROM ds.train")
    with pytest.raises(ModelError, match=r"^ML\.DETECT_ANOMALIES does not support LINEAR_REG models; it needs [A-Z_, ]*\bKMEANS\b[A-Z_, ]*\bPCA\b[A-Z_, ]*\. ds\.lin is LINEAR_REG\."):
        con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.lin, STRUCT(0.1 AS contamination), TABLE ds.fresh)")


def _model(con, name: str) -> Model:
    store = con.models
    return Model.load(store.verified_files(store.resolve(ModelRef.parse(name))))


def test_a_tuned_kmeans_model_detects_with_its_optimal_trial(con):
    con.query("CREATE MODEL ds.km_tuned OPTIONS(model_type='kmeans', num_trials=2, hparam_tuning_objectives=['davies_bouldin_index']) AS SELECT x, y FROM ds.train")
    model = _model(con, "ds.km_tuned")
    scores = model.arrays[SCORES]
    assert len(scores) == model.spec["split"]["training_rows"]  # the optimal trial's training rows, kept sorted
    train = _points(TRAIN)
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    expected = (cdist((_points(FRESH) - mean) / std, model.estimator.centroids_) / model.arrays[RADII]).min(axis=1)
    result = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km_tuned, STRUCT(0.1 AS contamination), TABLE ds.fresh)").arrow()
    np.testing.assert_allclose(result.column("normalized_distance").to_numpy(), expected, rtol=1e-7)
    assert result.column("is_anomaly").to_pylist() == (expected > np.quantile(scores, 0.9)).tolist()


def test_cosine_kmeans_normalizes_the_cosine_distance_by_the_cosine_radius(con):
    con.query("CREATE MODEL ds.km_cos OPTIONS(model_type='kmeans', num_clusters=3, distance_type='COSINE') AS SELECT x, y FROM ds.train")
    centroids = _model(con, "ds.km_cos").estimator.centroids_
    train = _points(TRAIN)
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)

    def distances(points: np.ndarray) -> np.ndarray:  # BigQuery's cosine distance, sqrt(1 − cos)
        return np.sqrt(np.maximum(cdist((points - mean) / std, centroids, "cosine"), 0.0))  # SciPy's is 1 − cos

    train_distances = distances(train)
    nearest = train_distances.argmin(axis=1)
    radii = np.sqrt(np.bincount(nearest, weights=train_distances.min(axis=1) ** 2) / np.bincount(nearest))
    cut = np.quantile((train_distances / radii).min(axis=1), 0.9)
    expected = (distances(_points(FRESH)) / radii).min(axis=1)
    result = con.query("SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km_cos, STRUCT(0.1 AS contamination), TABLE ds.fresh)").arrow()
    np.testing.assert_allclose(result.column("normalized_distance").to_numpy(), expected, rtol=1e-7)
    assert result.column("is_anomaly").to_pylist() == (expected > cut).tolist()
