"""A project whose sqlml_project.yml says ``engine: spark`` runs on Spark: seed, table and model
nodes, the bookkeeping (run history) kept as on DuckDB; ``--engine`` overrides the file."""

from __future__ import annotations

import pytest

from sqlml.errors import ProjectError
from sqlml.project import RunOptions, Runner, load_project
from sqlml.project.kinds import Command


def _project(folder, engine: str) -> None:
    (folder / "seeds").mkdir(parents=True)
    (folder / "nodes").mkdir()
    (folder / "sqlml_project.yml").write_text(f"name: lake\nengine: {engine}\n")
    (folder / "seeds" / "points.csv").write_text("x,y\n" + "".join(f"{x},{2 * x + 1}\n" for x in range(1, 11)))
    (folder / "nodes" / "wide.sql").write_text("{{ config(materialized='table') }}\nSELECT x, y, x * 10 AS z FROM {{ ref('points') }}\n")
    (folder / "nodes" / "fit.sql").write_text(
        "CREATE MODEL lake.fit OPTIONS(model_type='linear_reg', input_label_cols=['y'], spark_train='driver') AS "
        "SELECT x, y FROM {{ ref('wide') }}"
    )


def test_a_project_with_engine_spark_runs_on_spark(spark, tmp_path):
    _project(tmp_path, "spark")
    project = load_project(tmp_path)
    assert (project.engine, project.spark_master) == ("spark", None)
    with Runner(project, echo=lambda line: None) as runner:
        outcomes = runner.run(RunOptions(Command.RUN))
        assert {o.node: o.status.value for o in outcomes} == {"points": "success", "wide": "success", "fit": "success"}
        predicted = runner.connection.query("SELECT x, ROUND(predicted_y, 6) FROM ML.PREDICT(MODEL lake.fit, TABLE lake.wide) ORDER BY x")
        assert predicted.fetchall() == [(x, float(2 * x + 1)) for x in range(1, 11)]
        assert runner.connection.query("SELECT COUNT(*) FROM sqlml_meta.node_runs").fetchall() == [(3,)]
    assert spark.catalog.tableExists("lake.wide") and spark.catalog.getTable("lake.wide").tableType == "MANAGED"
    spark.sql("DROP DATABASE lake CASCADE")


def test_the_engine_option_is_checked_and_overridden(tmp_path):
    _project(tmp_path, "spark")
    assert load_project(tmp_path, engine="duckdb").engine == "duckdb"
    (tmp_path / "sqlml_project.yml").write_text("name: lake\nengine: presto\n")
    with pytest.raises(ProjectError, match="unknown engine 'presto'"):
        load_project(tmp_path)
