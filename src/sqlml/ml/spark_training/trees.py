"""BOOSTED_TREE_* and RANDOM_FOREST_* trained on Spark's executors by LightGBM's own distributed
mode (data-parallel, ``tree_learner='data'``), one LightGBM machine per task of a Spark barrier
stage — no jar, no service: the executors' Python workers run ``lightgbm`` and talk to each other
over TCP on ports they pick and exchange through the barrier (``BarrierTaskContext.allGather``).

Why LightGBM and not XGBoost's PySpark estimator (``bench/bench_spark_trees.py``, bench/README.md):
the result is the booster one process's training stores (LightGBM text,
:class:`~sqlml.ml.models.tree_estimators.TreeEnsemble`), so ML.PREDICT, EXPLAIN_PREDICT,
FEATURE_IMPORTANCE, the compiled scorer and the ONNX export read it unchanged on either engine;
the options map through the same :func:`~sqlml.ml.models.tree_estimators.lightgbm_params`.

Label-encoded categories (BigQuery's default for trees) are LightGBM categorical features, as in
one process. Each task holds its partition's rows (the training rows and the evaluation split's), LightGBM
syncs the histograms. The bins are one process's: every machine bins its rows by a reference
dataset built, before the network starts, from the same sample of the training rows — all of them
up to LightGBM's ``bin_construct_sample_cnt`` (then the bins are exactly one process's), else a
random sample of that many (:func:`_bin_sample`). So a regressor's trees are one process's; a
classifier's can differ where near-tied splits break otherwise (measured: as good a fit). Left to
itself, LightGBM's distributed mode has each machine find the bins of its share of the features
from its own rows only: other boundaries than one process's, which cost the fit (bench/README.md:
training loss 0.22 vs 0.07 where the label jumps between two bins' values).
After every round each task computes its rows' weighted loss (the
objective's metric: l2, binary or multi log loss) and the tasks sum them through the barrier, so
every task sees the same global loss and makes the same early-stop decision (one process's rule,
:class:`~sqlml.ml.models.estimator.Monitor`). A barrier round trip costs a second at least (Spark's
task polls its barrier every second): so the tasks keep their rounds' sums and exchange them in
batches — without early stop once, after the last round; with it after 1, 2, 4… rounds, as many as
train in about that second — and when a batch shows that training stopped at an earlier round,
every task keeps the trees up to that round (the model it would have had, had it stopped there).
The first task returns the booster and the ML.TRAINING_INFO rows.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from sqlml.ml.models.tree_estimators import SEED, BoostedTree, RandomForest, TreeEnsemble, lightgbm_params
from sqlml.ml.spark_training.rows import EVALUATION, FEATURES, LABEL, WEIGHT, TrainingRows

if TYPE_CHECKING:
    from sqlml.ml.models.estimator import Estimator, Monitor

#: A LightGBM machine per this many training rows at least (and at most one per Spark core): a
#: machine's fixed cost (its Python worker, the network) is not worth a handful of rows.
ROWS_PER_MACHINE = 100
#: The rows the bins are found from: LightGBM's ``bin_construct_sample_cnt`` (one process bins all its
#: training rows up to this many, a random sample of this many beyond)...
BIN_SAMPLE_ROWS = 200_000
#: ... and at most this many values (rows × features), since every machine receives the sample.
BIN_SAMPLE_VALUES = 10_000_000
#: Seconds a barrier round trip (``allGather``) costs at least: Spark's task waits for the barrier in
#: 1-second sleeps (``BarrierTaskContext.runBarrier``).
BARRIER_SECONDS = 1.0
#: Seconds a LightGBM machine waits for the others to connect.
CONNECT_TIMEOUT = 120
_RESULT = pa.schema([pa.field("booster", pa.string()), pa.field("rows", pa.string())])


def fit_boosted_tree(rows: TrainingRows, options: dict) -> tuple[Estimator, list[dict]]:
    """A BOOSTED_TREE_* booster trained by LightGBM's distributed mode on the executors."""
    return _fit(rows, options, BoostedTree)


def fit_random_forest(rows: TrainingRows, options: dict) -> tuple[Estimator, list[dict]]:
    """A RANDOM_FOREST_* booster trained by LightGBM's distributed mode on the executors."""
    return _fit(rows, options, RandomForest)


def _fit(rows: TrainingRows, options: dict, kind: type[TreeEnsemble]) -> tuple[Estimator, list[dict]]:
    import lightgbm as lgb
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import SparkSession

    task = rows.task
    training_rows = rows.split["training_rows"]
    width = len(task.feature_names)
    params, rounds = lightgbm_params({**options, "_threads": 1}, task, kind.random_forest, training_rows)
    spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
    machines = max(1, min(spark.sparkContext.defaultParallelism, training_rows // ROWS_PER_MACHINE))
    frame = rows.frame.select(vector_to_array(FEATURES).alias("x"), LABEL, WEIGHT, EVALUATION).repartition(machines)
    setting = {"params": params, "rounds": rounds, "forest": kind.random_forest, "width": width,
               "categorical": task.categorical_features or "auto", "bins": _bin_sample(rows, training_rows, width) if machines > 1 else None,
               "options": {key: options.get(key) for key in ("max_iterations", "num_parallel_tree", "early_stop", "min_rel_progress")}}  # fmt: skip
    results = frame.mapInArrow(lambda batches: train_machine(batches, setting), "booster string, rows string", barrier=True).collect()
    booster, history = next((row["booster"], row["rows"]) for row in results if row["booster"] is not None)
    estimator = kind(options=options, task=task)
    estimator.booster_ = lgb.Booster(model_str=booster)
    return estimator, [{"training_run": 0, **row} for row in json.loads(history)]


def train_machine(batches: Iterator[pa.RecordBatch], setting: dict) -> Iterator[pa.RecordBatch]:
    """One LightGBM machine, in a barrier task: its partition's rows, the network of every task
    of the stage; yields the booster's text and the training rows (first task only)."""
    import lightgbm as lgb
    from pyspark import BarrierTaskContext

    from sqlml.ml.training.preparation import monitor_for

    context = BarrierTaskContext.get()
    X, y, w, evaluation = _arrays(list(batches), setting["width"])
    params = dict(setting["params"], metric="None")
    addresses = _network(context)
    if len(addresses) > 1:
        port = int(addresses[context.partitionId()].rsplit(":", 1)[1])
        params.update(tree_learner="data", num_machines=len(addresses), machines=",".join(addresses), local_listen_port=port,
                      pre_partition=True, time_out=CONNECT_TIMEOUT)  # fmt: skip
    reference = None
    if setting["bins"] is not None:  # built before lgb.train starts the network: this machine's bins from the common sample
        reference = lgb.Dataset(setting["bins"], categorical_feature=setting["categorical"], params=params).construct()
    train = lgb.Dataset(X[~evaluation], y[~evaluation], weight=w[~evaluation], categorical_feature=setting["categorical"],
                        reference=reference, free_raw_data=False)  # fmt: skip
    valid_sets, names = [train], ["train"]
    if evaluation.any():
        valid_sets.append(lgb.Dataset(X[evaluation], y[evaluation], weight=w[evaluation], reference=train))
        names.append("eval")
    objective = params["objective"]
    monitor = monitor_for(setting["options"], "", None)

    def loss_sum(predictions: np.ndarray, data: lgb.Dataset) -> tuple[str, float, bool]:
        return "loss_sum", _loss_sum(objective, predictions, data.get_label(), data.get_weight()), False

    deferred, clock, batch = [], [time.monotonic()], [1]

    def on_round(env) -> None:
        last = env.iteration == env.end_iteration - 1
        if setting["forest"] and not last:  # a forest is one iteration (see TreeEnsemble's callback)
            return
        local = {name: value for name, _metric, value, _higher in env.evaluation_result_list}
        sums = [local.get("train", 0.0), float(w[~evaluation].sum()), local.get("eval", 0.0), float(w[evaluation].sum())]
        now = time.monotonic()
        deferred.append((sums, now - clock[0]))
        clock[0] = now
        if not last and not (monitor.early_stop and len(deferred) >= batch[0]):
            return
        # each machine's rounds' sums and its seconds training them: the slowest machine's seconds size the next batch
        message = [[sums for sums, _ in deferred], sum(seconds for _, seconds in deferred)]
        gathered = [json.loads(text) for text in context.allGather(json.dumps(message))]
        seconds = max(max(machine[1] for machine in gathered), 1e-6)
        for index, (_, duration) in enumerate(deferred):
            if not _record(monitor, np.sum([machine[0][index] for machine in gathered], axis=0), params.get("learning_rate"),
                           duration_ms=int(round(duration * 1000))):  # fmt: skip
                # every machine stops at the same round, keeping the trees up to it (the rounds after it are dropped)
                raise lgb.callback.EarlyStopException(env.iteration - len(deferred) + 1 + index, env.evaluation_result_list)
        # the next exchange after as many rounds as a barrier round trip costs (at most twice as many as this one)
        batch[0] = max(1, min(2 * batch[0], int(BARRIER_SECONDS * len(deferred) / seconds)))
        deferred.clear()
        clock[0] = time.monotonic()

    on_round.order = 30
    booster = lgb.train(params, train, num_boost_round=setting["rounds"], valid_sets=valid_sets, valid_names=names,
                        feval=loss_sum, callbacks=[on_round])  # fmt: skip
    first = context.partitionId() == 0
    yield pa.RecordBatch.from_pylist(
        [{"booster": booster.model_to_string() if first else None, "rows": json.dumps(monitor.rows) if first else None}], schema=_RESULT
    )


def _bin_sample(rows: TrainingRows, training_rows: int, width: int) -> np.ndarray:
    """The training rows' features every machine finds the same bins from (rows, width): all the
    training rows up to :data:`BIN_SAMPLE_ROWS` (fewer for wide rows), else a random sample of that many."""
    from pyspark.ml.functions import vector_to_array

    limit = min(BIN_SAMPLE_ROWS, max(1, BIN_SAMPLE_VALUES // max(width, 1)))
    part = rows.part(False).select(vector_to_array(FEATURES).alias("x"))
    if training_rows > limit:
        part = part.sample(fraction=min(1.0, 1.05 * limit / training_rows), seed=SEED).limit(limit)
    return _features(part.toArrow(), width)


def _record(monitor: Monitor, totals: np.ndarray, learning_rate: float | None, **extra: object) -> bool:
    """Record a round's global losses (train and eval: summed weighted losses and weights of every
    machine); False when the round ends training (one process's early-stop rule)."""
    eval_loss = totals[2] / totals[3] if totals[3] else None
    return monitor.iteration(totals[0] / totals[1], eval_loss, learning_rate, **extra)


def _arrays(batches: list[pa.RecordBatch], width: int) -> tuple[np.ndarray, ...]:
    """The partition's features (rows, width), labels, weights and evaluation flags."""
    table = pa.Table.from_batches(batches) if batches else None
    if table is None or table.num_rows == 0:
        return np.empty((0, width)), np.empty(0), np.empty(0), np.empty(0, dtype=bool)
    column = lambda name: table.column(name).to_numpy(zero_copy_only=False)  # noqa: E731
    return _features(table, width), column(LABEL), column(WEIGHT), column(EVALUATION).astype(bool)


def _features(table: pa.Table, width: int) -> np.ndarray:
    """The rows' feature vectors (column ``x``) as a (rows, width) matrix."""
    return table.column("x").combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(table.num_rows, width)


def _network(context) -> list[str]:  # noqa: ANN001 - a BarrierTaskContext
    """Every task's ``host:port`` in partition order: each task's executor host (Spark's task
    infos) and a port free on it, exchanged through the barrier."""
    if len(context.getTaskInfos()) == 1:
        return ["local"]
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    host = context.getTaskInfos()[context.partitionId()].address.rsplit(":", 1)[0]
    return context.allGather(f"{host}:{port}")


def _loss_sum(objective: str, predictions: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> float:
    """The rows' weighted loss, summed: squared error (l2), binary or multiclass log loss — the
    metrics one process's LightGBM reports (their weighted means)."""
    w = np.ones(len(y)) if w is None else w
    eps = 1e-15
    if objective == "regression":
        losses = (predictions - y) ** 2
    elif objective == "binary":
        p = np.clip(predictions, eps, 1 - eps)
        losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    else:
        p = np.clip(np.asarray(predictions).reshape(len(y), -1)[np.arange(len(y)), y.astype(int)], eps, 1.0)
        losses = -np.log(p)
    return float(np.dot(w, losses))
