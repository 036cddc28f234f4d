"""CREATE MODEL DNN_CLASSIFIER against Keras 3 (JAX backend) called directly on the same arrays.

Issue 21's benchmark: 200,000 rows × 20 FLOAT64 features and a BOOL label, hidden_units [64, 32],
10 epochs, Adam at learn_rate 0.001, no eval split (data_split_method='NO_SPLIT', early_stop=FALSE:
both sides train 10 full epochs on every row). The sqlml side is the whole statement: reading the
rows out of DuckDB, standardizing them, building and training the network, the stored metrics and
writing the model. The Keras side builds the same network (Dense 64 → ReLU → Dense 32 → ReLU →
Dense 1), compiles it with binary cross-entropy and calls ``model.fit`` on the already
standardized float32 arrays with the same batch size. Runs alternate pair by pair; the ratio is
the median of the per-pair ratios. One row per batch size: BigQuery's default (32) and 1,024.

Usage: python bench/bench_dnn.py [--rows 200000] [--pairs 3]
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
EPOCHS = 10


def rows(n: int, seed: int = 0) -> pa.Table:
    """``n`` rows of 20 normal features and a label that depends on them non-linearly."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, FEATURES)) * np.linspace(1, 5, FEATURES) + 2
    score = X[:, 0] * X[:, 1] / 5 - X[:, 2] + np.sin(X[:, 3]) + rng.normal(size=n)
    return pa.table({**{f"x{i}": X[:, i] for i in range(FEATURES)}, "label": score > np.median(score)})


def keras_fit(X: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    """The same network and training, with Keras alone."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((X.shape[1],)), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1),
    ])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(X, y, batch_size=batch_size, epochs=EPOCHS, verbose=0, shuffle=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    table = rows(args.rows)
    X = network_inputs(table, FEATURES)
    y = table.column("label").to_numpy(zero_copy_only=False).astype(np.float32)
    results = []
    with sqlml.connect(":memory:") as con:
        con.query("CREATE SCHEMA ds")
        con.register("bench_rows", table)
        con.query("CREATE TABLE ds.t AS SELECT * FROM bench_rows")
        for batch_size in (32, 1024):
            statement = (
                "CREATE OR REPLACE MODEL ds.m OPTIONS(model_type='dnn_classifier', input_label_cols=['label'], "
                f"hidden_units=[64, 32], max_iterations={EPOCHS}, early_stop=FALSE, data_split_method='NO_SPLIT', "
                f"batch_size={batch_size}) AS SELECT * FROM ds.t"
            )
            timings = alternate(lambda s=statement: con.query(s), lambda b=batch_size: keras_fit(X, y, b), args.pairs)
            ratios = [ours / theirs for ours, theirs in timings]
            print(f"batch_size={batch_size}: per-pair ratios " + ", ".join(f"{r:.2f}" for r in ratios), flush=True)
            results.append(Row(
                f"CREATE MODEL dnn_classifier, {args.rows:,} rows × {FEATURES}, [64, 32], {EPOCHS} epochs, batch {batch_size}, vs Keras `fit`",
                statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings),
                f"≤ 1.15: {'**met**' if statistics.median(ratios) <= 1.15 else '**not met**'} (median ratio {statistics.median(ratios):.2f})",
            ))  # fmt: skip
    print_table("DNN_CLASSIFIER training vs Keras 3 (JAX) fit", results)


if __name__ == "__main__":
    main()
