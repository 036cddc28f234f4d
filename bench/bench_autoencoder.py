"""AUTOENCODER: CREATE MODEL and ML.DETECT_ANOMALIES against Keras 3 (JAX backend) and NumPy called
directly on the same arrays.

100,000 rows × 20 FLOAT64 features near a 4-dimensional subspace, hidden_units [32, 8, 32] (TANH),
5 epochs, Adam at learn_rate 0.001, batch 256, early_stop=FALSE (both sides train 5 full epochs).
The sqlml side of training is the whole statement: reading the rows out of DuckDB, standardizing
them, training, the training rows' reconstruction errors kept for ML.DETECT_ANOMALIES, the stored
metrics and writing the model. The Keras side builds the same network and calls ``model.fit`` on
the already standardized float32 arrays, then ``model.predict`` on them (the errors sqlml keeps).
The detection row scores the 100,000 rows with ML.DETECT_ANOMALIES (contamination 0.01, fetched
as Arrow) against ``model.predict`` + NumPy's mean squared error and comparison with a cut-off.
Runs alternate pair by pair; the ratio is the median of the per-pair ratios.

Usage: python bench/bench_autoencoder.py [--rows 100000] [--pairs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pyarrow as pa

import sqlml
from harness import Row, alternate, network_inputs, print_table

FEATURES = 20
EPOCHS = 5
BATCH = 256
LAYERS = [32, 8, 32]


def rows(n: int, seed: int = 0) -> pa.Table:
    """``n`` rows of 20 features mixed from 4 normal factors, plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) @ rng.normal(size=(4, FEATURES)) + 0.1 * rng.normal(size=(n, FEATURES))
    return pa.table({f"x{i}": X[:, i] for i in range(FEATURES)})


def keras_network(inputs: int):
    """The same network, with Keras alone."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((inputs,)), *[keras.layers.Dense(u, activation="tanh") for u in LAYERS], keras.layers.Dense(inputs)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
    return model


def keras_train(X: np.ndarray) -> None:
    model = keras_network(X.shape[1])
    model.fit(X, X, batch_size=BATCH, epochs=EPOCHS, verbose=0, shuffle=True)
    np.mean((X - model.predict(X, batch_size=65_536, verbose=0)) ** 2, axis=1)


def numpy_detect(model, X: np.ndarray, cut: float) -> np.ndarray:
    errors = np.mean((X - model.predict(X, batch_size=65_536, verbose=0)) ** 2, axis=1)
    return errors > cut


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    table = rows(args.rows)
    X = network_inputs(table, FEATURES)
    statement = (
        f"CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='autoencoder', hidden_units={LAYERS}, activation_fn='TANH', "
        f"max_iterations={EPOCHS}, early_stop=FALSE, batch_size={BATCH}) AS SELECT * FROM ds.t"
    )
    detect = "SELECT * FROM ML.DETECT_ANOMALIES(MODEL ds.m, STRUCT(0.01 AS contamination), TABLE ds.t)"
    trained = keras_network(FEATURES)
    trained.fit(X, X, batch_size=BATCH, epochs=1, verbose=0)
    results = []
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds")
        con.register("bench_rows", table)
        con.query("CREATE TABLE ds.t AS SELECT * FROM bench_rows")
        for name, ours, theirs, target in (
            (f"CREATE MODEL autoencoder, {args.rows:,} rows × {FEATURES}, {LAYERS}, {EPOCHS} epochs, batch {BATCH}, vs Keras `fit` + `predict`",
             lambda: con.query(statement), lambda: keras_train(X), None),
            (f"ML.DETECT_ANOMALIES of {args.rows:,} rows vs Keras `predict` + NumPy error and cut-off",
             lambda: con.query(detect).arrow(), lambda: numpy_detect(trained, X, 0.5), None),
        ):  # fmt: skip
            timings = alternate(ours, theirs, args.pairs)
            ratios = [a / b for a, b in timings]
            print(f"{name}: per-pair ratios " + ", ".join(f"{r:.2f}" for r in ratios), flush=True)
            results.append(Row(name, statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings),
                               f"median ratio {statistics.median(ratios):.2f} (no target in the issue)"))  # fmt: skip
    print_table("AUTOENCODER vs Keras 3 (JAX) and NumPy", results)


if __name__ == "__main__":
    main()
