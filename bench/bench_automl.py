"""AUTOML_* against the best single default model of the other families, given the same time.

On shared tabular datasets (../shared/data: credit_default — binary, ROC AUC; credit_scoring —
binary with missing values and categories, ROC AUC; bikeshare_hourly — regression of ``bikers``
without its two parts, RMSE), the rows are split 80/10/10 into TRAIN / VALIDATE / TEST by a
fingerprint of the row number (``--seeds``: other splits, the row number followed by the seed).
For each split, in the same run: each searched family (LOGISTIC_REG or LINEAR_REG, BOOSTED_TREE_*,
RANDOM_FOREST_*, DNN_* when registered) is trained directly at its defaults on the TRAIN rows
(VALIDATE as its eval split) and scored on the TEST rows; then the AutoML model gets as
``budget_hours`` the wall time those default models took together — the time a user spends
finding the best default family, measured under the same load right before — and the same split
through ``data_split_col``, and is scored on the same TEST rows (``--refit``: also the previous
method, its choice refitted instead of its fold models bagged, the two alternating in order by
seed). CPU seconds of this process are printed beside both wall times (the machine is shared).
The libraries are imported (a small model of each family trained) before any timing. Printed
per split: each default model's test metric and time, the best of them on the test rows, AutoML's
test metric and chosen model, and AUTOML's difference from the best default with the standard
error of that difference on the TEST rows (a paired bootstrap of both models' predictions: how
far apart two models of equal quality land on that many rows by chance); per dataset, the mean
and the minimum of that difference over the seeds.

Usage: python bench/bench_automl.py [--datasets credit_default,credit_scoring,bikeshare_hourly] [--seeds 0,1,2] [--refit]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import sqlml
from sqlml.ml.automl import search as search_module
from sqlml.ml.models.catalog import canonical_name

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPLIT = "CASE MOD(ABS(FARM_FINGERPRINT(CONCAT(CAST(rid AS STRING), '{salt}'))), 10) WHEN 0 THEN 'VALIDATE' WHEN 1 THEN 'TEST' ELSE 'TRAIN' END"
#: dataset → (label, columns left out, classifier?)
DATASETS = {
    "credit_default": ("default", [], True),
    "credit_scoring": ("Status", [], True),
    "bikeshare_hourly": ("bikers", ["casual", "registered"], False),
}
FAMILIES = {
    True: ["LOGISTIC_REG", "BOOSTED_TREE_CLASSIFIER", "RANDOM_FOREST_CLASSIFIER", "DNN_CLASSIFIER"],
    False: ["LINEAR_REG", "BOOSTED_TREE_REGRESSOR", "RANDOM_FOREST_REGRESSOR", "DNN_REGRESSOR"],
}


def load(con: sqlml.Connection, name: str, seed: int = 0) -> tuple[str, str, bool]:
    """ds.<name> with a row id and the split column ``part`` (seed 0: the fingerprint of the row
    id, as earlier runs; seed s: of the row id followed by s); the label and the feature list."""
    label, dropped, classifier = DATASETS[name]
    frame = pd.read_csv(DATA / f"{name}.csv").drop(columns=dropped)
    frame.insert(0, "rid", range(len(frame)))
    con.register(f"{name}_frame", frame)
    con.query(f"CREATE OR REPLACE TABLE ds.{name} AS SELECT *, {SPLIT.format(salt=seed or '')} AS part FROM {name}_frame")
    features = ", ".join(f"`{c}`" for c in frame.columns if c not in ("rid", label))
    return f"`{label}`", features, classifier


def metric(con: sqlml.Connection, model: str, table: str, classifier: bool, part: str = "TEST") -> float:
    column = "roc_auc" if classifier else "SQRT(mean_squared_error)"
    return con.query(f"SELECT {column} FROM ML.EVALUATE(MODEL {model}, (SELECT * FROM ds.{table} WHERE part = '{part}'))").fetchall()[0][0]


def predictions(con: sqlml.Connection, model: str, table: str, label: str, classifier: bool) -> tuple[np.ndarray, np.ndarray]:
    """The TEST rows' labels (1 for the last class, for a classifier) and the model's scores (that class's probability)."""
    name = label.strip("`")
    if not classifier:
        frame = con.query(f"SELECT {label} AS y, predicted_{name} AS s FROM ML.PREDICT(MODEL {model}, (SELECT * FROM ds.{table} WHERE part = 'TEST'))").df()
        return frame.y.to_numpy(float), frame.s.to_numpy(float)
    rows = con.query(f"SELECT {label} AS y, predicted_{name}_probs AS p FROM ML.PREDICT(MODEL {model}, (SELECT * FROM ds.{table} WHERE part = 'TEST'))").arrow().to_pylist()
    last = max(p["label"] for p in rows[0]["p"])
    return np.array([r["y"] == last for r in rows]), np.array([next(p["prob"] for p in r["p"] if p["label"] == last) for r in rows])


def difference_se(y: np.ndarray, automl: np.ndarray, best: np.ndarray, classifier: bool) -> float:
    """The standard error of (AUTOML's metric − the best default's) on these rows: 1,000 paired bootstrap resamples."""
    value = (lambda t, s: roc_auc_score(t, s)) if classifier else (lambda t, s: float(np.sqrt(np.mean((t - s) ** 2))))
    rng = np.random.default_rng(0)
    resampled = (rng.integers(0, len(y), len(y)) for _ in range(1000))
    return float(np.std([value(y[r], automl[r]) - value(y[r], best[r]) for r in resampled if len(set(y[r])) > 1]))


def single(con: sqlml.Connection, model_type: str, table: str, label: str, features: str, rows: str = "part != 'TEST'") -> tuple[float, float]:
    """Wall and CPU seconds to train ``model_type`` at its defaults on the TRAIN rows, VALIDATE evaluating."""
    started, cpu = time.perf_counter(), time.process_time()
    con.query(
        f"CREATE OR REPLACE MODEL ds.single OPTIONS(model_type='{model_type}', input_label_cols=['{label.strip('`')}'], "
        f"data_split_method='CUSTOM', data_split_col='is_eval') AS SELECT {features}, {label}, part = 'VALIDATE' AS is_eval "
        f"FROM ds.{table} WHERE {rows}"
    )  # fmt: skip
    return time.perf_counter() - started, time.process_time() - cpu


def automl(con: sqlml.Connection, name: str, label: str, features: str, classifier: bool, budget: float, bagged: bool) -> dict:
    """AUTOML trained with ``budget`` seconds, its fold models bagged (sqlml's choice) or, with
    ``bagged`` False, its choice refitted on the training and validation rows (the previous method)."""
    saved = search_module._bagged
    if not bagged:
        search_module._bagged = lambda *_: None
    try:
        started, cpu = time.perf_counter(), time.process_time()
        con.query(
            f"CREATE OR REPLACE MODEL ds.auto OPTIONS(model_type='AUTOML_{'CLASSIFIER' if classifier else 'REGRESSOR'}', "
            f"input_label_cols=['{label.strip('`')}'], budget_hours={max(budget / 3600, 0.0001)!r}, data_split_col='part') "
            f"AS SELECT {features}, {label}, part FROM ds.{name}"
        )  # fmt: skip
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        search_module._bagged = saved
    trials = con.query(
        "SELECT model_type, hyperparameters, status, is_optimal, cross_validation_objective_value FROM ML.TRIAL_INFO(MODEL ds.auto)"
    ).fetchall()
    chosen = next(t for t in trials if t[3])
    described = chosen[0] if chosen[0] != "ENSEMBLE" else f"ENSEMBLE {json.loads(chosen[1])}"
    first = {}  # each family's first trial: its default, cross-validated whatever the budget
    for model_type, _, _, _, folds in trials:
        first.setdefault(model_type, folds)
    shown = ", ".join(f"{t.split('_')[0]} {'-' if v is None else f'{v:.4f}'}" for t, v in first.items() if t != "ENSEMBLE")
    described += f" (folds: chosen {'-' if chosen[4] is None else f'{chosen[4]:.4f}'}; defaults {shown})"
    return {
        "metric": metric(con, "ds.auto", name, classifier), "chosen": described, "seconds": seconds, "cpu": cpu,
        "trials": len(trials), "succeeded": sum(t[2] == "SUCCEEDED" for t in trials),
        "predictions": predictions(con, "ds.auto", name, label, classifier),
    }  # fmt: skip


def run(con: sqlml.Connection, name: str, seed: int, variants: list[bool], warm: bool) -> dict:
    """One split (``seed``) of ``name``: each default family, then AUTOML's variants in turn
    (alternating order by seed), each given the defaults' wall time as its budget."""
    load_at_start = os.getloadavg()[0]
    label, features, classifier = load(con, name, seed)
    families = [f for f in FAMILIES[classifier] if canonical_name(f)]
    if not warm:
        for model_type in families:  # import each family's library before timing
            single(con, model_type, name, label, features, rows="part != 'TEST' AND MOD(rid, 20) = 0")
    singles, scored = {}, {}
    for model_type in families:
        seconds, cpu = single(con, model_type, name, label, features)
        singles[model_type] = (metric(con, "ds.single", name, classifier), seconds, metric(con, "ds.single", name, classifier, "VALIDATE"), cpu)
        scored[model_type] = predictions(con, "ds.single", name, label, classifier)
    budget = sum(s[1] for s in singles.values())
    pick = max if classifier else min
    best = pick(singles, key=lambda t: singles[t][0])
    order = variants if seed % 2 == 0 else variants[::-1]
    results = {bagged: automl(con, name, label, features, classifier, budget, bagged) for bagged in order}
    for result in results.values():
        y, scores = result.pop("predictions")
        result["se"] = difference_se(y, scores, scored[best][1], classifier)
    return {
        "dataset": name, "seed": seed, "singles": singles, "best": best, "budget": budget,
        "cpu": sum(s[3] for s in singles.values()), "automl": results, "classifier": classifier, "load": load_at_start,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0", help="split seeds, e.g. 0,1,2,3,4")
    parser.add_argument("--refit", action="store_true", help="also run AUTOML with the previous refit instead of bagging, alternating")
    args = parser.parse_args()
    variants = [True, False] if args.refit else [True]
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(Path(folder) / "w", Path(folder) / "m", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        print(
            "| dataset | seed | load (split's start→end) | each default (test metric, wall s) | best default on test | AUTOML variant | AUTOML | "
            "AUTOML − best (± SE on TEST) | AUTOML chose | budget = defaults' wall (CPU) | AUTOML wall (CPU) | trials |"
        )
        print("|---|---:|---:|---|---:|---|---:|---:|---|---:|---:|---:|")
        for name in args.datasets.split(","):
            differences: dict[bool, list[float]] = {v: [] for v in variants}
            errors: dict[bool, list[float]] = {v: [] for v in variants}
            against_pick: dict[bool, list[float]] = {v: [] for v in variants}
            for index, seed in enumerate(int(s) for s in args.seeds.split(",")):
                r = run(con, name, seed, variants, warm=index > 0)
                sign = 1 if r["classifier"] else -1
                each = "; ".join(f"{t.removesuffix('_CLASSIFIER').removesuffix('_REGRESSOR')} {m:.4f} ({s:.1f})" for t, (m, s, *_) in r["singles"].items())
                for bagged, a in r["automl"].items():
                    difference = a["metric"] - r["singles"][r["best"]][0]
                    differences[bagged].append(sign * difference)
                    errors[bagged].append(a["se"])
                    picked = max(r["singles"], key=lambda t: sign * r["singles"][t][2])  # the default best on VALIDATE
                    against_pick[bagged].append(sign * (a["metric"] - r["singles"][picked][0]))
                    print(
                        f"| {name} | {seed} | {r['load']:.1f}→{os.getloadavg()[0]:.1f} | {each} | {r['singles'][r['best']][0]:.4f} ({r['best']}) | "
                        f"{'bagged folds' if bagged else 'refit'} | {a['metric']:.4f} | {difference:+.4f} ± {a['se']:.4f} | {a['chosen']} | "
                        f"{r['budget']:.1f} s ({r['cpu']:.1f}) | {a['seconds']:.1f} s ({a['cpu']:.1f}) | {a['succeeded']}/{a['trials']} |",
                        flush=True,
                    )  # fmt: skip
            for bagged, found in differences.items():
                print(
                    f"{name} {'bagged folds' if bagged else 'refit'}: AUTOML − best default, better-is-positive, over {len(found)} seed(s): "
                    f"mean {np.mean(found):+.4f}, min {np.min(found):+.4f}; within one SE of the TEST rows' paired difference "
                    f"{sum(d >= -e for d, e in zip(found, errors[bagged]))}/{len(found)}, smallest d/SE "
                    f"{min(d / e for d, e in zip(found, errors[bagged])):+.2f}; against the default best on VALIDATE "
                    f"mean {np.mean(against_pick[bagged]):+.4f}, min {np.min(against_pick[bagged]):+.4f}",
                    flush=True,
                )  # fmt: skip


if __name__ == "__main__":
    main()
