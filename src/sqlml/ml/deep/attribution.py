"""Integrated gradients: BigQuery's feature attributions for DNN and wide & deep models.

https://cloud.google.com/bigquery/docs/xai-overview — the attribution of feature j is
``(x_j − b_j) · ∫₀¹ ∂f/∂x_j(b + α(x − b)) dα``, against a baseline input ``b`` (the mean
training row), here with the midpoint rule over ``integrated_gradients_num_steps`` points. The
path integral is exact only in the limit, so the few-step sum misses ``f(x) − f(b)`` by a small
residual; it is shared out over the features in proportion to their absolute attribution, so that
baseline + Σ attributions = prediction value exactly (the invariant ML.EXPLAIN_PREDICT's rows
keep for every model type).
"""

from __future__ import annotations

import numpy as np

from sqlml.ml.deep.network import Network

#: Rows whose paths are differentiated in one compiled call (× steps points each).
ROWS_PER_CALL = 256


def contributions(network: Network, X: np.ndarray, baseline: np.ndarray, steps: int) -> np.ndarray:
    """Per-feature attributions of every raw output, shape (rows, outputs, features + 1), the
    last entry each output's value at the baseline (:meth:`Estimator.contributions`' layout).

    Args:
        network: the trained network.
        X: preprocessed rows (rows, features).
        baseline: the baseline row (features,).
        steps: points of the path integral.
    """
    rows, width = X.shape
    outputs = network.spec.outputs
    gradients = _path_gradients(network, steps)
    baseline = np.asarray(baseline, dtype=np.float32)
    result = np.empty((rows, outputs, width + 1))
    base_value = network.predict(baseline[None, :])[0]
    values = network.predict(X)
    for start in range(0, rows, ROWS_PER_CALL):
        chunk = np.asarray(X[start : start + ROWS_PER_CALL], dtype=np.float32)
        padded = np.zeros((ROWS_PER_CALL, width), np.float32)
        padded[: len(chunk)] = chunk
        mean_gradient = np.asarray(gradients(padded, baseline), dtype=np.float64)[: len(chunk)]  # (r, outputs, features)
        rows64 = np.asarray(X[start : start + ROWS_PER_CALL], dtype=np.float64)
        attributions = mean_gradient * (rows64 - baseline.astype(np.float64))[:, None, :]  # completed in double below
        result[start : start + len(chunk), :, :width] = _complete(attributions, values[start : start + len(chunk)] - base_value)
    result[:, :, width] = base_value
    return result


def _complete(attributions: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """``attributions`` (r, outputs, features) with the residual ``gap − Σ`` shared out in
    proportion to |attribution| (evenly where all are 0)."""
    residual = gap - attributions.sum(axis=2)
    magnitude = np.abs(attributions)
    total = magnitude.sum(axis=2, keepdims=True)
    share = np.where(total > 0, magnitude / np.where(total > 0, total, 1.0), 1.0 / attributions.shape[2])
    return attributions + share * residual[:, :, None]


def _path_gradients(network: Network, steps: int):
    """A compiled (rows, baseline) → mean gradient of each output along each row's path."""
    key = f"path_gradients_{steps}"
    if key in network.compiled:
        return network.compiled[key]
    import jax
    import jax.numpy as jnp

    model = network.model
    trainable = [v.value for v in model.trainable_variables]
    fixed = [v.value for v in model.non_trainable_variables]
    alphas = jnp.asarray((np.arange(steps) + 0.5) / steps, dtype=jnp.float32)

    def output(x):  # (features,) -> (outputs,)
        return model.stateless_call(trainable, fixed, x[None, :], training=False)[0][0]

    jacobian = jax.vmap(jax.jacrev(output))

    @jax.jit
    def mean_gradient(rows, baseline):
        points = baseline + alphas[:, None, None] * (rows - baseline)[None]  # (steps, r, features)
        flat = jacobian(points.reshape(-1, rows.shape[1]))  # (steps·r, outputs, features)
        return flat.reshape(steps, rows.shape[0], -1, rows.shape[1]).mean(axis=0)

    network.compiled[key] = mean_gradient
    return mean_gradient
