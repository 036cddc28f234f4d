"""A real Spark cluster (issue 22, point 4): a standalone master and a worker of two cores on 127.0.0.1,
started from pyspark's own jars (:mod:`sqlml.engine.spark.standalone`), and a small project run on it end to end with
``sqlml run --engine spark --master spark://…`` (in its own process: a Python process holds one
SparkContext, and the other tests' is local[2]): seed → partitioned table → CREATE MODEL (trained
by MLlib on the executor) → ML.PREDICT CTAS → a model gated on ML.EVALUATE. The model it stored
then predicts on DuckDB, in this process, with the same answers as the cluster wrote. One worker
(one executor JVM, two tasks at a time) shows all of that as two would: the rows and the tasks
are still in another JVM than the driver's, and every JVM less is a start-up and a warm-up of its
own less (two workers: ten JVM starts counting spark-class's launchers, one worker: seven).

The driver is a Spark session sqlml starts for a warehouse folder (Hive's metastore, Derby), run
from an empty current directory: it writes everything under ``<warehouse>/spark`` — tables,
metastore, Derby's log — and nothing in the current directory (Spark's defaults would put
``spark-warehouse/``, ``metastore_db/`` and ``derby.log`` there). Checked here rather than in a
session of its own (test_started_session.py checks an in-memory warehouse's): that session's JVM
and metastore are most of a minute of CPU on two cores.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import sqlml
from sqlml.engine.spark.standalone import spark_environment, standalone_cluster

pytestmark = pytest.mark.slow


def write_project(folder: Path) -> None:
    """Seed → partitioned table → linear model gated on ML.EVALUATE → ML.PREDICT table."""
    (folder / "seeds").mkdir(parents=True)
    (folder / "nodes").mkdir()
    (folder / "sqlml_project.yml").write_text("name: lake\nengine: spark\n")
    rows = "".join(f"{x},2024-01-{x % 28 + 1:02d},{(x * 37) % 101 / 10},{x * 0.5 + (x * 37) % 101 / 7 + (x * 13) % 11 / 3}\n" for x in range(1, 301))
    (folder / "seeds" / "points.csv").write_text("x,day,z,y\n" + rows)
    (folder / "nodes" / "points_by_day.sql").write_text(
        "{{ config(materialized='table', partition_by='day') }}\nSELECT x, CAST(day AS DATE) AS day, z, y FROM {{ ref('points') }}\n"
    )
    (folder / "nodes" / "fit.sql").write_text(
        "{{ config(gate='r2_score >= 0.9') }}\n"
        "CREATE MODEL lake.fit OPTIONS(model_type='linear_reg', input_label_cols=['y']) AS SELECT x, z, y FROM {{ ref('points_by_day') }}\n"
    )
    (folder / "nodes" / "scored.sql").write_text(
        "{{ config(materialized='table') }}\nSELECT x, predicted_y FROM ML.PREDICT(MODEL lake.fit, (SELECT x, z FROM {{ ref('points_by_day') }}))\n"
    )


def test_a_project_runs_on_a_standalone_cluster_and_its_model_predicts_the_same_on_duckdb(tmp_path):
    project = tmp_path / "project"
    write_project(project)
    current = tmp_path / "current"
    current.mkdir()
    with standalone_cluster(tmp_path, workers=1, cores=2) as master:
        run = subprocess.run(
            [sys.executable, "-m", "sqlml", "run", "--project", str(project), "--engine", "spark", "--master", master],
            cwd=current, env=spark_environment(), capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # the driver's session wrote under the warehouse folder, nothing where it ran
    assert not list(current.iterdir())
    assert {"lake.db", "metastore_db", "derby.log"} <= {path.name for path in (project / "warehouse" / "spark").iterdir()}
    # the cluster's ML.PREDICT table, as Parquet files the workers wrote
    scored_files = sorted((project / "warehouse" / "spark").glob("lake.db/scored/*.parquet"))
    assert scored_files
    scored = sorted((row["x"], row["predicted_y"]) for f in scored_files for row in pq.read_table(f).to_pylist())
    assert [x for x, _ in scored] == list(range(1, 301))
    # the partitioned table: each Parquet file one range of days, sorted (sqlml.engine.spark.layout)
    days = [pq.read_table(f).column("day").to_pylist() for f in (project / "warehouse" / "spark").glob("lake.db/points_by_day*/**/*.parquet")]
    days = sorted(d for d in days if d)
    assert sum(map(len, days)) == 300 and all(d == sorted(d) for d in days)
    assert all(earlier[-1] < later[0] for earlier, later in zip(days, days[1:]))
    with sqlml.connect(tmp_path / "duckdb", project / "models") as duck:
        duck.query(
            "CREATE SCHEMA lake; CREATE TABLE lake.points AS SELECT x, MOD(x * 37, 101) / 10 AS z FROM UNNEST(GENERATE_ARRAY(1, 300)) AS x"
        )
        on_duckdb = duck.query("SELECT x, predicted_y FROM ML.PREDICT(MODEL lake.fit, TABLE lake.points) ORDER BY x").fetchall()
    assert len(on_duckdb) == 300
    for (x, expected), (same_x, got) in zip(scored, on_duckdb):
        assert x == same_x and got == pytest.approx(expected, rel=1e-9), x
