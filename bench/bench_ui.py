"""`sqlml ui`'s models page on a large store (issue 23): 500 models × 20 versions.

The store is written with sqlml's own store API (the catalog functions ``ModelStore.commit`` runs),
each version a copy of one real trained model's files and metadata, so no 10,000 trainings are
needed. Then, alternating request by request in one run (TestClient, in
process: the time is the server's, without a network):

* ``GET /models`` of ``sqlml ui`` — every model with type, current version, aliases, headline
  metric and last training;
* the raw libraries doing the same: a bare FastAPI route that reads the catalog's SQLite with one
  query per table (models, aliases, the current versions' rows), parses the metadata JSON and
  renders the same columns with a Jinja template.

Prints the median of each side, the median paired ratio (sqlml ÷ bare; lower is better) and the
target (models page under 200 ms).

Usage: python bench/bench_ui.py [--models 500] [--versions 20] [--pairs 15]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jinja2
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

import sqlml
from sqlml.store import ModelStore
from sqlml.store.catalog import Catalog, insert_version, move_alias, next_version
from sqlml.store.layout import model_folder
from sqlml.store.records import ModelRef
from sqlml.ui import create_app

sys.path.insert(0, str(Path(__file__).parent))
from harness import alternate  # noqa: E402

TRAIN = (
    "CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT MOD(i, 7) AS a, MOD(i * 13, 11) AS b, MOD(i, 7) + MOD(i * 13, 11) > 8 AS y "
    "FROM UNNEST(GENERATE_ARRAY(1, 2000)) AS i; "
    "CREATE MODEL ds.m OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['y'], max_iterations=5) AS SELECT a, b, y FROM ds.t"
)
BARE = jinja2.Environment(autoescape=True).from_string(
    "<table>{% for m in models %}<tr><td>{{ m.dataset }}.{{ m.name }}</td><td>{{ m.model_type }}</td><td>{{ m.version }}</td>"
    "<td>{{ m.versions }}</td><td>{% for a, v in m.aliases.items() %}{{ a }}→{{ v }} {% endfor %}</td><td>{{ m.metric }}</td>"
    "<td>{{ '%.4g' % m.value }}</td><td>{{ m.created_at }}</td><td>{{ m.creator }}</td></tr>{% endfor %}</table>"
)


def build_store(root: Path, models: int, versions: int) -> None:
    """``models`` × ``versions`` versions, each the files and metadata of one trained model.

    Written with the catalog functions ``ModelStore.commit`` itself runs (``next_version``,
    ``insert_version``, ``move_alias``), in one SQLite transaction instead of 10,000 (each commit
    syncs to disk: ~45 ms apiece here, 7.5 minutes in all); files are copied into the version
    folders as a commit renames them there.
    """
    with sqlml.connect(":memory:", root / "seed") as con:
        con.query(TRAIN)
        record = con.models.resolve(ModelRef("ds", "m"))
        files, metadata = con.models.verified_files(record), record.metadata
    store_root = root / "models"
    ModelStore(store_root)  # the folder and its catalog tables
    started = time.perf_counter()
    with Catalog(store_root, busy_timeout=60).write() as db:
        for m in range(models):
            ref = ModelRef(f"ds{m % 10}", f"model_{m:03d}")
            for v in range(versions):
                version = next_version(db, ref)
                folder = model_folder(ref.dataset, ref.name) / str(version)
                (store_root / folder).mkdir(parents=True)
                for name, path in files.items():
                    shutil.copyfile(path, store_root / folder / name)
                metrics = {**metadata["metrics"], "roc_auc": 0.5 + (m * versions + v) / (2 * models * versions)}
                insert_version(db, ref, version, folder, record.checksums, {**metadata, "metrics": metrics}, v == 0, {})
            move_alias(db, ref, "production", versions // 2)
    print(f"store: {models} models x {versions} versions written with the store's catalog functions in {time.perf_counter() - started:.1f} s")


def bare_app(catalog: Path) -> FastAPI:
    """The same listing with nothing but sqlite3, json and Jinja."""
    app = FastAPI()

    @app.get("/models")
    def models() -> HTMLResponse:
        db = sqlite3.connect(catalog)
        try:
            counts = dict(((d, n), c) for d, n, c in db.execute("SELECT dataset, name, COUNT(*) FROM versions GROUP BY 1, 2"))
            aliases: dict = {}
            for d, n, a, v in db.execute("SELECT dataset, name, alias, version FROM aliases ORDER BY alias"):
                aliases.setdefault((d, n), {})[a] = v
            rows = []
            for d, n, v, t, at, who, meta in db.execute(
                "SELECT v.dataset, v.name, v.version, v.model_type, v.created_at, v.creator, v.metadata FROM versions v "
                "JOIN aliases a ON a.dataset = v.dataset AND a.name = v.name AND a.version = v.version AND a.alias = 'default' "
                "ORDER BY v.dataset, v.name"
            ):
                metrics = json.loads(meta)["metrics"]
                rows.append({"dataset": d, "name": n, "model_type": t, "version": v, "versions": counts[(d, n)], "aliases": aliases[(d, n)],
                             "metric": "roc_auc", "value": metrics["roc_auc"], "created_at": at, "creator": who})  # fmt: skip
        finally:
            db.close()
        return HTMLResponse(BARE.render(models=rows))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sqlml-bench-ui-"))
    try:
        build_store(root, args.models, args.versions)
        with sqlml.connect(root / "wh", root / "models") as con:
            ui, bare = TestClient(create_app(con)), TestClient(bare_app(root / "models" / "catalog.sqlite"))
            page = ui.get("/models")
            assert page.status_code == 200 and page.text.count("<tr data-model=") == args.models
            assert bare.get("/models").text.count("<tr>") == args.models
            cpu: list[tuple[float, float]] = []
            wall = alternate(lambda: cpu_of(ui, cpu), lambda: cpu_of(bare, cpu), args.pairs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"GET /models, {args.models} models x {args.versions} versions ({args.pairs} alternating pairs, medians; "
          f"CPU: of this process, server and client, which a busy machine disturbs less than wall time):")
    for label, timings in (("wall", wall), ("CPU", list(zip(cpu[2::2], cpu[3::2], strict=True)))):
        ours, theirs = statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings)
        ratio = statistics.median(a / b for a, b in timings)
        verdict = "met" if ours < 0.2 else "NOT met"
        print(f"  {label:4}  sqlml ui {ours * 1000:7.1f} ms (target < 200 ms: {verdict})   sqlite3+json+Jinja {theirs * 1000:7.1f} ms   ratio {ratio:.2f}x")


def cpu_of(client: TestClient, into: list) -> None:
    """GET /models, appending the CPU seconds it took (the untimed first call of each side counts too)."""
    started = time.process_time()
    assert client.get("/models").status_code == 200
    into.append(time.process_time() - started)


if __name__ == "__main__":
    main()
