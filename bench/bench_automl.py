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
through ``data_split_col``, and is scored on the same TEST rows (``--serving-probe``: also the
TEST value of the same chosen members served three other ways than AUTOML's (their five fold
models and their refit on TRAIN + VALIDATE, half each) — as their five fold models averaged
alone; as the search trained them (TRAIN rows, early stopping on VALIDATE); refitted on
TRAIN + VALIDATE alone; ``--serving-dump``: each member's TEST outputs to a pickle, to mix
the servings offline). CPU seconds of this process are printed beside both wall times (the machine is shared).
The libraries are imported (a small model of each family trained) before any timing. Printed
per split: each default model's test metric and time, the best of them on the test rows, AutoML's
test metric and chosen model, and AUTOML's difference from the best default with the standard
error of that difference on the TEST rows (a paired bootstrap of both models' predictions: how
far apart two models of equal quality land on that many rows by chance); per dataset, the mean
and the minimum of that difference over the seeds.

Usage: python bench/bench_automl.py [--datasets credit_default,credit_scoring,bikeshare_hourly] [--seeds 0,1,2] [--serving-probe]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import sqlml
from sqlml.ml.automl import search as search_module
from sqlml.ml.automl.fitting import Stop
from sqlml.ml.models.catalog import canonical_name, family_of

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


#: --serving-probe: per AUTOML statement, the TEST value of each way to serve its chosen members
SERVINGS: list[dict] = []
#: --serving-dump: each served member's TEST outputs, for mixing the servings offline
SERVED: list = []


def _test_value(model_type: str, options: dict, prepared, members: list) -> float:
    """The TEST rows' ROC AUC or RMSE of ``members`` averaged on ``prepared``'s feature matrix."""
    family = family_of(model_type)
    estimator = family.estimator_class(model_type)(options=options, task=prepared.task, members=members)
    outputs = [e.predict(prepared.test_set.X) for *_, e in members]
    SERVED.append(([(m[0], m[2]) for m in members], outputs, prepared.test_set.y))
    found = family.metrics(model_type, estimator, prepared.test_set.y, estimator.predict(prepared.test_set.X))
    return found["roc_auc"] if "roc_auc" in found else float(np.sqrt(found["mean_squared_error"]))


def _probed_model(model_type, options, objective, records, kept, validated, sign, refitter, started):
    """search._model, after recording the TEST value of the same chosen members served three ways:
    as the search trained them (TRAIN rows, early stopping on VALIDATE), as their bagged fold
    models, and refitted on TRAIN + VALIDATE (no deadline)."""
    best = search_module._choice(objective, records, kept, validated, sign)
    weights, _ = search_module._weights(objective, records, kept, validated, sign, best)
    trained = [(kept[t].model_type, kept[t].options, w, kept[t].estimator) for t, w in weights.items()]
    found = {"trained": _test_value(model_type, options, kept[next(iter(weights))].prepared, trained)}
    if all(t in validated.scores for t in weights):  # the chosen trials' fold models, each weight split evenly
        bag = [(kept[t].model_type, kept[t].options, w / len(validated.scores[t].estimators), e) for t, w in weights.items() for e in validated.scores[t].estimators]
        found["bagged"] = _test_value(model_type, options, validated.scores[next(iter(weights))].prepared, bag)
    refit = search_module.refit_chosen
    search_module.refit_chosen = lambda table, hashes, kept, weights, by_name, description, stop, seconds, bag=None: refit(
        table, hashes, kept, weights, by_name, description, Stop(stop.cancel, float("inf")), seconds, bag
    )  # fmt: skip
    try:
        refitted = refitter(weights)
    finally:
        search_module.refit_chosen = refit
    if refitted is not None:
        found["refit"] = _test_value(model_type, options, refitted.prepared, refitted.members)
    SERVINGS.append(found)
    if DUMP:
        with open(DUMP, "ab") as out:
            pickle.dump({"servings": list(SERVED[-len(found):]), "names": list(found)}, out)
    SERVED.clear()
    return _model(model_type, options, objective, records, kept, validated, sign, refitter, started)


_model = search_module._model


def automl(con: sqlml.Connection, name: str, label: str, features: str, classifier: bool, budget: float) -> dict:
    """AUTOML trained with ``budget`` seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    con.query(
        f"CREATE OR REPLACE MODEL ds.auto OPTIONS(model_type='AUTOML_{'CLASSIFIER' if classifier else 'REGRESSOR'}', "
        f"input_label_cols=['{label.strip('`')}'], budget_hours={max(budget / 3600, 0.0001)!r}, data_split_col='part') "
        f"AS SELECT {features}, {label}, part FROM ds.{name}"
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
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


def run(con: sqlml.Connection, name: str, seed: int, warm: bool) -> dict:
    """One split (``seed``) of ``name``: each default family, then AUTOML given the defaults' wall
    time as its budget."""
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
    result = automl(con, name, label, features, classifier, budget)
    y, scores = result.pop("predictions")
    result["se"] = difference_se(y, scores, scored[best][1], classifier)
    return {
        "dataset": name, "seed": seed, "singles": singles, "best": best, "budget": budget,
        "cpu": sum(s[3] for s in singles.values()), "automl": result, "classifier": classifier, "load": load_at_start,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default="0", help="split seeds, e.g. 0,1,2,3,4")
    parser.add_argument("--serving-probe", action="store_true", help="print the TEST value of the chosen members served three ways")
    parser.add_argument("--serving-dump", default=None, help="with --serving-probe: append each served member's TEST outputs to this pickle")
    args = parser.parse_args()
    if args.serving_probe:
        global DUMP
        DUMP = args.serving_dump
        search_module._model = _probed_model
    with tempfile.TemporaryDirectory() as folder, sqlml.connect(Path(folder) / "w", Path(folder) / "m", idle_release=0) as con:
        con.query("CREATE SCHEMA ds")
        print(
            "| dataset | seed | load (split's start→end) | each default (test metric, wall s) | best default on test | AUTOML variant | AUTOML | "
            "AUTOML − best (± SE on TEST) | AUTOML chose | budget = defaults' wall (CPU) | AUTOML wall (CPU) | trials |"
        )
        print("|---|---:|---:|---|---:|---|---:|---:|---|---:|---:|---:|")
        for name in args.datasets.split(","):
            differences, errors, against_pick, per_family = [], [], [], {}
            for index, seed in enumerate(int(s) for s in args.seeds.split(",")):
                r = run(con, name, seed, warm=index > 0)
                sign = 1 if r["classifier"] else -1
                each = "; ".join(f"{t.removesuffix('_CLASSIFIER').removesuffix('_REGRESSOR')} {m:.4f} ({s:.1f})" for t, (m, s, *_) in r["singles"].items())
                a = r["automl"]
                difference = a["metric"] - r["singles"][r["best"]][0]
                differences.append(sign * difference)
                errors.append(a["se"])
                picked = max(r["singles"], key=lambda t: sign * r["singles"][t][2])  # the default best on VALIDATE
                against_pick.append(sign * (a["metric"] - r["singles"][picked][0]))
                for model_type, (value, *_) in r["singles"].items():
                    per_family.setdefault(model_type, []).append(sign * (a["metric"] - value))
                print(
                    f"| {name} | {seed} | {r['load']:.1f}→{os.getloadavg()[0]:.1f} | {each} | {r['singles'][r['best']][0]:.4f} ({r['best']}) | "
                    f"fold models + refit | {a['metric']:.4f} | {difference:+.4f} ± {a['se']:.4f} | {a['chosen']} | "
                    f"{r['budget']:.1f} s ({r['cpu']:.1f}) | {a['seconds']:.1f} s ({a['cpu']:.1f}) | {a['succeeded']}/{a['trials']} |",
                    flush=True,
                )  # fmt: skip
                if args.serving_probe:
                    found = SERVINGS.pop()
                    shown = ", ".join(f"{k} {v:.4f} ({sign * (v - r['singles'][r['best']][0]):+.4f})" for k, v in found.items())
                    print(f"serving probe {name} seed {seed}: {shown} (value, better-is-positive vs the best default)", flush=True)
            print(
                f"{name}: AUTOML − best default, better-is-positive, over {len(differences)} seed(s): "
                f"mean {np.mean(differences):+.4f}, min {np.min(differences):+.4f}; within one SE of the TEST rows' paired difference "
                f"{sum(d >= -e for d, e in zip(differences, errors))}/{len(differences)}, smallest d/SE "
                f"{min(d / e if e else 0.0 for d, e in zip(differences, errors)):+.2f}; against the default best on VALIDATE "
                f"mean {np.mean(against_pick):+.4f}, min {np.min(against_pick):+.4f}",
                flush=True,
            )  # fmt: skip
            print(f"{name}: {against_each_family(per_family)}", flush=True)


def against_each_family(per_family: dict[str, list[float]]) -> str:
    """AUTOML against each family's default over the seeds: the mean of the per-split differences
    (better-is-positive) ± their standard error across splits. The family with the best mean is
    "the best single model of the other families" on this dataset; the per-split best of four
    picked on the TEST rows themselves is an oracle (the maximum of four noisy values exceeds the
    best family's own expected value, so no selector can match it on every split)."""
    shown = []
    for model_type, found in per_family.items():
        error = float(np.std(found, ddof=1) / np.sqrt(len(found))) if len(found) > 1 else float("nan")
        shown.append(f"vs {model_type} {np.mean(found):+.4f} ± {error:.4f}")
    return "AUTOML − each default, better-is-positive, mean over the seeds ± SE across splits: " + "; ".join(shown)


if __name__ == "__main__":
    main()
