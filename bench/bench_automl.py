"""AUTOML_* against the best single default model of the other families, given the same time.

On shared tabular datasets (../shared/data: credit_default — binary, ROC AUC; credit_scoring —
binary with missing values and categories, ROC AUC; bikeshare_hourly — regression of ``bikers``
without its two parts, RMSE), the rows are split 80/10/10 into TRAIN / VALIDATE / TEST by a
fingerprint of the row number. Each searched family (LOGISTIC_REG or LINEAR_REG, BOOSTED_TREE_*,
RANDOM_FOREST_*, DNN_* when registered) is trained directly at its defaults on the TRAIN rows
(VALIDATE as its eval split) and scored on the TEST rows; the AutoML model gets as
``budget_hours`` the time those default models took together — the time a user spends finding
the best default family — and the same split through ``data_split_col``, and is scored on the
same TEST rows. The libraries are imported (a small model of each family trained) before any
timing. Printed per dataset: each default model's test metric and time, the best of them on the
test rows and the one best on the validation rows (the one a user would pick), AutoML's test
metric and chosen model, and both times, and AUTOML's difference from the best default with the
standard error of that difference on the TEST rows (a paired bootstrap of both models' predictions:
how far apart two models of equal quality land on that many rows by chance).

Usage: python bench/bench_automl.py [--datasets credit_default,credit_scoring,bikeshare_hourly]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import sqlml
from sqlml.ml.models.catalog import canonical_name

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPLIT = "CASE MOD(ABS(FARM_FINGERPRINT(CAST(rid AS STRING))), 10) WHEN 0 THEN 'VALIDATE' WHEN 1 THEN 'TEST' ELSE 'TRAIN' END"
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


def load(con: sqlml.Connection, name: str) -> tuple[str, str, bool]:
    """ds.<name> with a row id and the split column ``part``; the label and the feature list."""
    label, dropped, classifier = DATASETS[name]
    frame = pd.read_csv(DATA / f"{name}.csv").drop(columns=dropped)
    frame.insert(0, "rid", range(len(frame)))
    con.register(f"{name}_frame", frame)
    con.query(f"CREATE OR REPLACE TABLE ds.{name} AS SELECT *, {SPLIT} AS part FROM {name}_frame")
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


def single(con: sqlml.Connection, model_type: str, table: str, label: str, features: str, rows: str = "part != 'TEST'") -> float:
    """Seconds to train ``model_type`` at its defaults on the TRAIN rows, VALIDATE evaluating."""
    started = time.perf_counter()
    con.query(
        f"CREATE OR REPLACE MODEL ds.single OPTIONS(model_type='{model_type}', input_label_cols=['{label.strip('`')}'], "
        f"data_split_method='CUSTOM', data_split_col='is_eval') AS SELECT {features}, {label}, part = 'VALIDATE' AS is_eval "
        f"FROM ds.{table} WHERE {rows}"
    )  # fmt: skip
    return time.perf_counter() - started


def run(con: sqlml.Connection, name: str, show_trials: bool = False) -> dict:
    label, features, classifier = load(con, name)
    families = [f for f in FAMILIES[classifier] if canonical_name(f)]
    for model_type in families:  # import each family's library before timing
        single(con, model_type, name, label, features, rows="part != 'TEST' AND MOD(rid, 20) = 0")
    singles, scored = {}, {}
    for model_type in families:
        seconds = single(con, model_type, name, label, features)
        singles[model_type] = (metric(con, "ds.single", name, classifier), seconds, metric(con, "ds.single", name, classifier, "VALIDATE"))
        scored[model_type] = predictions(con, "ds.single", name, label, classifier)
    budget = sum(seconds for _, seconds, _ in singles.values())
    started = time.perf_counter()
    con.query(
        f"CREATE OR REPLACE MODEL ds.auto OPTIONS(model_type='AUTOML_{'CLASSIFIER' if classifier else 'REGRESSOR'}', "
        f"input_label_cols=['{label.strip('`')}'], budget_hours={max(budget / 3600, 0.0001)!r}, data_split_col='part') "
        f"AS SELECT {features}, {label}, part FROM ds.{name}"
    )  # fmt: skip
    automl_seconds = time.perf_counter() - started
    trials = con.query("SELECT model_type, hyperparameters, status, is_optimal FROM ML.TRIAL_INFO(MODEL ds.auto)").fetchall()
    if show_trials:
        print(con.query("SELECT * EXCEPT (hparam_tuning_evaluation_metrics, error_message) FROM ML.TRIAL_INFO(MODEL ds.auto)").df().to_string(), flush=True)
    chosen = next(t for t in trials if t[3])
    described = chosen[0] if chosen[0] != "ENSEMBLE" else f"ENSEMBLE {json.loads(chosen[1])}"
    pick = max if classifier else min
    best = pick(singles, key=lambda t: singles[t][0])
    validated = pick(singles, key=lambda t: singles[t][2])  # the default a user would pick, not knowing the test rows
    y, automl = predictions(con, "ds.auto", name, label, classifier)
    se = difference_se(y, automl, scored[best][1], classifier)
    return {
        "dataset": name, "metric": "test ROC AUC" if classifier else "test RMSE", "singles": singles, "best": best, "validated": validated,
        "automl": metric(con, "ds.auto", name, classifier), "chosen": described, "budget": budget,
        "automl_seconds": automl_seconds, "trials": len(trials), "succeeded": sum(t[2] == "SUCCEEDED" for t in trials), "se": se,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--trials", action="store_true", help="print each AUTOML model's ML.TRIAL_INFO")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(Path(folder) / "w", Path(folder) / "m", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        print(
            "| dataset | metric | each default (metric, s) | best default on test | default best on validation | AUTOML | AUTOML − best "
            "(± SE on TEST) | AUTOML chose | budget = defaults' time | AUTOML wall | trials |"
        )
        print("|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|")
        for name in args.datasets.split(","):
            r = run(con, name, args.trials)
            each = "; ".join(f"{t.removesuffix('_CLASSIFIER').removesuffix('_REGRESSOR')} {m:.4f} ({s:.1f})" for t, (m, s, _) in r["singles"].items())
            print(
                f"| {r['dataset']} | {r['metric']} | {each} | {r['singles'][r['best']][0]:.4f} ({r['best']}) | "
                f"{r['singles'][r['validated']][0]:.4f} ({r['validated']}) | {r['automl']:.4f} | "
                f"{r['automl'] - r['singles'][r['best']][0]:+.4f} ± {r['se']:.4f} | "
                f"{r['chosen']} | {r['budget']:.1f} s | {r['automl_seconds']:.1f} s | {r['succeeded']}/{r['trials']} |",
                flush=True,
            )  # fmt: skip


if __name__ == "__main__":
    main()
