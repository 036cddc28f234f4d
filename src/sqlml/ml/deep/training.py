"""Training a :class:`~sqlml.ml.deep.network.Network`: mini-batch epochs compiled with JAX, one
ML.TRAINING_INFO iteration per epoch, BigQuery's early stop through the :class:`Monitor`.

Each epoch shuffles the rows (a seeded NumPy generator: the same seed gives the same model),
then runs all its batches in one compiled ``lax.scan`` — one call into XLA per epoch instead of
one per batch, and one compilation per training run. A shorter last batch is padded with rows of
weight 0 (the loss divides by its real rows; its batch-normalization statistics see the padding). Gradients come from Keras'
stateless API (``stateless_call`` / ``stateless_apply``), so each part of a wide & deep network
has its own optimizer and learning rate (BigQuery's per-part ``optimizer`` and ``learn_rate``).

The objective is the row-weighted data loss summed over the batch and divided by its size (Keras'
``sample_weight`` convention; class weights are row weights) plus ``l1_reg·Σ|W| + l2_reg·ΣW²`` over
the Dense kernels and the network's activity penalty, if any (:class:`NetworkSpec` ``activity_l1``). ML.TRAINING_INFO's ``loss`` is the epoch's weighted mean data loss and
``eval_loss`` the same on the evaluation rows after the epoch, in inference mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sqlml.ml.deep.backend import keras as load_keras
from sqlml.ml.deep.network import Network
from sqlml.ml.models.estimator import Dataset, Monitor

#: BigQuery's optimizer values → Keras optimizer classes.
OPTIMIZERS = {"ADAGRAD": "Adagrad", "ADAM": "Adam", "FTRL": "Ftrl", "RMSPROP": "RMSprop", "SGD": "SGD"}
#: Losses by kind: squared error (mean over output columns), logistic (one logit), softmax cross-entropy.
LOSSES = ("mse", "binary", "multiclass")


@dataclass
class TrainPlan:
    """How to train a network.

    Attributes:
        loss: one of :data:`LOSSES`.
        optimizers: part (``dnn``; ``linear`` for a wide & deep network's linear part) →
            (BigQuery optimizer name, learning rate).
        batch_size: rows per step (capped at the number of rows).
        max_iterations: the most epochs.
        l1_reg, l2_reg: kernel penalties.
        seed: seeds the row order.
        loss_scale: multiplies the losses reported to the monitor (a regressor trained on a
            standardized label reports them in the label's units).
    """

    loss: str
    optimizers: dict[str, tuple[str, float]]
    batch_size: int
    max_iterations: int
    l1_reg: float = 0.0
    l2_reg: float = 0.0
    seed: int = 0
    loss_scale: float = 1.0


def row_loss(z: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
    """Per-row data loss of raw outputs ``z`` (rows, outputs) against targets ``y`` (works on
    JAX and NumPy arrays alike)."""
    import jax.numpy as jnp

    if loss == "mse":
        return jnp.mean((z - y.reshape(z.shape)) ** 2, axis=1)
    if loss == "binary":
        logit = z[:, 0]
        return jnp.logaddexp(0.0, logit) - y * logit
    picked = jnp.take_along_axis(z, y.astype(jnp.int32)[:, None], axis=1)[:, 0]
    return jnp.log(jnp.sum(jnp.exp(z - z.max(axis=1, keepdims=True)), axis=1)) + z.max(axis=1) - picked


def part_of(path: str) -> str:
    """The network part a variable belongs to: ``linear`` for the wide part, else ``dnn``."""
    return "linear" if path.startswith("linear/") else "dnn"


def train(network: Network, plan: TrainPlan, train_set: Dataset, evaluation: Dataset | None, monitor: Monitor) -> np.ndarray | None:
    """Fit ``network`` in place: up to ``plan.max_iterations`` epochs, each recorded by ``monitor``
    (which stops training early or on Ctrl-C).

    Returns:
        The evaluation rows' raw outputs with the final weights (what the last eval loss was
        computed from, equal to ``network.predict(evaluation.X)``), or None without evaluation rows.
    """
    import jax
    import jax.numpy as jnp

    keras = load_keras()
    model = network.model
    X, Y, W = _device_arrays(train_set, plan.loss)
    n = X.shape[0]
    batch = max(1, min(plan.batch_size, n))
    trainable = model.trainable_variables
    parts = {part: [i for i, v in enumerate(trainable) if part_of(v.path) == part] for part in plan.optimizers}
    parts = {part: indices for part, indices in parts.items() if indices}
    optimizers = {}
    for part, indices in parts.items():
        name, rate = plan.optimizers[part]
        optimizers[part] = getattr(keras.optimizers, OPTIMIZERS[name])(learning_rate=rate)
        optimizers[part].build([trainable[i] for i in indices])
    kernels = [i for i, v in enumerate(trainable) if v.path.endswith("/kernel")]

    def objective(tv, ntv, x, y, w, count):
        z, ntv, activity = model.stateless_call(tv, ntv, x, training=True, return_losses=True)  # activity: NetworkSpec.activity_l1
        data = jnp.sum(w * row_loss(z, y, plan.loss))
        penalty = sum(plan.l1_reg * jnp.sum(jnp.abs(tv[i])) + plan.l2_reg * jnp.sum(tv[i] ** 2) for i in kernels)
        return data / count + penalty + sum(activity), (ntv, data)

    gradient = jax.value_and_grad(objective, has_aux=True)

    def step(state, data, batch_rows):
        tv, ntv, ovs = state
        X, Y, W = data
        rows, real = batch_rows  # a short last batch is padded with rows of weight 0
        (_, (ntv, total)), grads = gradient(tv, ntv, X[rows], Y[rows], W[rows] * real, jnp.sum(real))
        updated, ovs = list(tv), dict(ovs)
        for part, indices in parts.items():
            new, ovs[part] = optimizers[part].stateless_apply(ovs[part], [grads[i] for i in indices], [tv[i] for i in indices])
            for i, value in zip(indices, new):
                updated[i] = value
        return (updated, ntv, ovs), total

    @jax.jit
    def epoch(state, data, order, real):
        state, totals = jax.lax.scan(lambda s, batch_rows: step(s, data, batch_rows), state, (order, real))
        return state, totals.sum()

    outputs = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
    state = (
        [v.value for v in trainable],
        [v.value for v in model.non_trainable_variables],
        {part: [v.value for v in optimizer.variables] for part, optimizer in optimizers.items()},
    )
    data, weight_sum = (X, Y, W), float(jnp.sum(W))
    rng = np.random.default_rng(plan.seed)
    rate = plan.optimizers.get("dnn", next(iter(plan.optimizers.values())))[1]
    evaluated = None
    steps = -(-n // batch)
    real = np.zeros(steps * batch, np.float32)
    real[:n] = 1.0
    real = jnp.asarray(real.reshape(steps, batch))
    for _ in range(plan.max_iterations):
        order = np.zeros(steps * batch, np.int32)
        order[:n] = rng.permutation(n)
        state, summed = epoch(state, data, jnp.asarray(order.reshape(steps, batch)), real)
        total = float(summed)
        eval_loss, evaluated = _eval_loss(lambda x, s=state: outputs(s[0], s[1], x), evaluation, plan.loss, network.spec.outputs)
        scaled_eval = None if eval_loss is None else eval_loss * plan.loss_scale
        if not monitor.iteration(total / weight_sum * plan.loss_scale, scaled_eval, rate):
            break
    for variable, value in zip(trainable, state[0]):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, state[1]):
        variable.assign(value)
    network.reset()
    return evaluated


def _device_arrays(dataset: Dataset, loss: str):
    import jax.numpy as jnp

    X = jnp.asarray(np.asarray(dataset.X, dtype=np.float32))
    y = np.asarray(dataset.y)
    Y = jnp.asarray(y.astype(np.int32) if loss == "multiclass" else y.astype(np.float32))
    W = jnp.asarray(np.ones(X.shape[0], np.float32) if dataset.w is None else np.asarray(dataset.w, dtype=np.float32))
    return X, Y, W


def _eval_loss(outputs, evaluation: Dataset | None, loss: str, width: int) -> tuple[float | None, np.ndarray | None]:
    """The weighted mean data loss of the evaluation rows and their raw outputs; (None, None)
    without them."""
    if evaluation is None or not len(evaluation):
        return None, None
    z = Network.run(outputs, evaluation.X, width)
    w = np.ones(len(evaluation)) if evaluation.w is None else np.asarray(evaluation.w, dtype=np.float64)
    target = np.asarray(evaluation.y, dtype=np.int64 if loss == "multiclass" else np.float64)
    return float(np.dot(w, np.asarray(row_loss(z, target, loss))) / w.sum()), z
