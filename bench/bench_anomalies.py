"""ML.DETECT_ANOMALIES (KMEANS, PCA) and ML.GENERATE_EMBEDDING (PCA) against NumPy / scikit-learn
computing the same numbers on the same matrix.

Measures, in one run (default 1M rows × 8 numeric columns; models trained on 200,000 of them):
  * ML.DETECT_ANOMALIES of a KMEANS model (8 clusters), materialized with CREATE TABLE AS, vs NumPy:
    standardize, distances to the model's centroids, / radius, smallest, compared with the cut-off;
  * ML.DETECT_ANOMALIES of a PCA model (3 components) vs scikit-learn's PCA transform +
    inverse_transform and the mean squared error (the flags are checked equal first);
  * ML.GENERATE_EMBEDDING of the PCA model vs scikit-learn's transform;
  * what CREATE MODEL pays to keep the training scores: the KMEANS / PCA training rows' scores
    (ml/models/anomaly.py) against the whole CREATE MODEL.

Usage: python bench/bench_anomalies.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from sklearn.decomposition import PCA

import sqlml
from sqlml.ml.models.anomaly import RADII, SCORES, cutoff, kmeans_arrays, reconstruction_arrays
from sqlml.ml.models.estimator import Dataset
from sqlml.ml.runtime.model_cache import CACHE
from sqlml.store.records import ModelRef
from harness import Row, alternate, print_table

FEATURES = [f"f{i}" for i in range(8)]
TRAIN_ROWS = 200_000
PAIRS = 3


def data(rows: int) -> np.ndarray:
    """Rows from 8 Gaussian clusters whose coordinates are correlated (a rank-3 signal plus noise)."""
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(rows, 3)) @ rng.normal(size=(3, len(FEATURES)))
    return signal + 4.0 * rng.integers(0, 8, (rows, 1)) + rng.normal(0, 0.3, (rows, len(FEATURES)))


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    X = data(rows)
    train = X[:TRAIN_ROWS]
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(Path(folder) / "wh", Path(folder) / "models") as con:
        con.query("CREATE SCHEMA ds")
        con.register("rows", pa.table({name: X[:, i] for i, name in enumerate(FEATURES)}))
        con.query(f"CREATE TABLE ds.rows AS SELECT * FROM rows; CREATE TABLE ds.train AS SELECT * FROM rows LIMIT {TRAIN_ROWS}")
        columns = ", ".join(FEATURES)
        create_km = timed(lambda: con.query(f"CREATE MODEL ds.km OPTIONS(model_type='kmeans', num_clusters=8) AS SELECT {columns} FROM ds.train"))
        create_pca = timed(lambda: con.query(f"CREATE MODEL ds.pca OPTIONS(model_type='pca', num_principal_components=3) AS SELECT {columns} FROM ds.train"))
        km = CACHE.get(con.models, con.models.resolve(ModelRef.parse("ds.km")))
        pca_model = CACHE.get(con.models, con.models.resolve(ModelRef.parse("ds.pca")))
        Z_train = (train - mean) / std
        keep_km = timed(lambda: kmeans_arrays(km.estimator, Dataset(Z_train)))
        keep_pca = timed(lambda: reconstruction_arrays(pca_model.family, "PCA", pca_model.estimator, Dataset(Z_train), pca_model.preprocessor))

        centroids, radii, km_cut = km.estimator.centroids_, km.arrays[RADII], cutoff(km.arrays[SCORES], 0.1)

        def numpy_kmeans() -> np.ndarray:
            Z = (X - mean) / std
            squared = (Z**2).sum(axis=1)[:, None] - 2.0 * Z @ centroids.T + (centroids**2).sum(axis=1)[None, :]
            return (np.sqrt(np.maximum(squared, 0.0)) / radii).min(axis=1) > km_cut

        fitted = PCA(3, svd_solver="full").fit(Z_train)
        pca_cut = cutoff(pca_model.arrays[SCORES], 0.1)

        def sklearn_pca() -> np.ndarray:
            Z = (X - mean) / std
            return ((Z - fitted.inverse_transform(fitted.transform(Z))) ** 2).mean(axis=1) > pca_cut

        km_sql = "SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.km, STRUCT(0.1 AS contamination), TABLE ds.rows)"
        pca_sql = "SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.pca, STRUCT(0.1 AS contamination), TABLE ds.rows)"
        flagged = con.query(f"SELECT is_anomaly FROM ({pca_sql})").arrow().column(0).to_numpy(zero_copy_only=False)
        assert (flagged != sklearn_pca()).sum() <= 10, "PCA flags differ from scikit-learn's beyond rounding at the cut-off"
        flagged = con.query(f"SELECT is_anomaly FROM ({km_sql})").arrow().column(0).to_numpy(zero_copy_only=False)
        assert (flagged != numpy_kmeans()).sum() <= 10, "KMEANS flags differ from NumPy's beyond rounding at the cut-off"
        results = []
        for label, sql, baseline in (
            (f"DETECT_ANOMALIES KMEANS CTAS, {rows:,} rows", km_sql, numpy_kmeans),
            (f"DETECT_ANOMALIES PCA CTAS, {rows:,} rows", pca_sql, sklearn_pca),
            (f"GENERATE_EMBEDDING PCA CTAS, {rows:,} rows", "SELECT * FROM ML.GENERATE_EMBEDDING(MODEL ds.pca, TABLE ds.rows)", lambda: fitted.transform((X - mean) / std)),
        ):
            pairs = alternate(lambda: con.query(f"CREATE OR REPLACE TABLE ds.out AS {sql}"), baseline, PAIRS)
            results.append(Row(label, statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs), "report"))
        results.append(Row(f"keeping KMEANS training scores / CREATE MODEL, {TRAIN_ROWS:,} rows", keep_km, create_km, "report"))
        results.append(Row(f"keeping PCA training scores / CREATE MODEL, {TRAIN_ROWS:,} rows", keep_pca, create_pca, "report"))
    print_table("Anomaly detection and embeddings vs NumPy / scikit-learn", results)


if __name__ == "__main__":
    main()
