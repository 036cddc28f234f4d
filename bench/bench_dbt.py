"""`dbt build` of one generated 20-model project with the sqlml adapter and with dbt-duckdb, and
`sqlml build` of the same project in sqlml's native form.

The project (a seed of orders, 5 staging views, 10 intermediate tables, 5 marts of which 2 are
incremental, and 15 data tests) is written in SQL that reads the same as BigQuery and DuckDB
SQL, so both adapters run it unchanged. Each `dbt build` is a fresh process on a fresh warehouse,
as a user or CI runs it; the two adapters alternate run by run and the ratio is the median of the
paired ratios (sqlml / dbt-duckdb). The third column is the same models, seed and tests as a
native sqlml project (``sqlml_project.yml`` with ``dataset: main``, each non-staging model's
``materialized='table'`` in its own ``config()`` instead of dbt_project.yml's folder config),
built by a fresh ``sqlml build --threads 2`` process in the same rounds. Needs the dbt extra and,
for the baseline, dbt-duckdb (in the ``test`` extra).

Run: ``python bench/bench_dbt.py [rounds]``
"""

from __future__ import annotations

import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Row, print_table

ROWS = 5_000
REGIONS = ("north", "south", "east", "west")


def write_project(root: Path) -> None:
    """The 20-model project, its seed and its tests, plus a profile for each adapter."""
    (root / "models").mkdir(parents=True)
    (root / "seeds").mkdir()
    (root / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n"
        "models:\n  bench:\n    staging:\n      +materialized: view\n    +materialized: table\n"
    )
    (root / "profiles.yml").write_text(
        "bench:\n  target: sqlml\n  outputs:\n"
        "    sqlml: {type: sqlml, warehouse: wh_sqlml, models: models_sqlml, schema: main, threads: 2}\n"
        "    duckdb: {type: duckdb, path: wh_duckdb.duckdb, schema: main, threads: 2}\n"
    )
    rng = random.Random(7)
    lines = ["order_id,customer_id,region,amount,status,ordered_on"]
    for i in range(ROWS):
        day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lines.append(f"{i},{rng.randint(1, 500)},{rng.choice(REGIONS)},{rng.randint(1, 50000) / 100},{rng.choice(['paid', 'refunded'])},{day}")
    (root / "seeds" / "orders.csv").write_text("\n".join(lines) + "\n")
    models = _models()
    (root / "models" / "staging").mkdir()
    for name, sql in models.items():
        folder = root / "models" / ("staging" if name.startswith("stg_") else "")
        (folder / f"{name}.sql").write_text(sql)
    tests = "".join(f"  - name: {name}\n    columns:\n      - name: k\n        data_tests: [not_null]\n" for name in list(models)[5:20])
    (root / "models" / "schema.yml").write_text("version: 2\nmodels:\n" + tests)
    assert len(models) == 20


def write_native(root: Path) -> None:
    """The same models, seed and tests as a native sqlml project under ``root``."""
    (root / "models" / "staging").mkdir(parents=True)
    (root / "seeds").mkdir()
    (root / "sqlml_project.yml").write_text("name: bench\ndataset: main\n")
    for name, sql in _models().items():
        staging = name.startswith("stg_")
        if not staging and "config(" not in sql:
            sql = "{{ config(materialized='table') }}\n" + sql
        (root / "models" / ("staging" if staging else "") / f"{name}.sql").write_text(sql)


def _models() -> dict[str, str]:
    models = {}
    for region in REGIONS + ("all",):
        where = "" if region == "all" else f"where region = '{region}'"
        models[f"stg_{region}"] = f"select order_id, customer_id, region, amount, status, ordered_on from {{{{ ref('orders') }}}} {where}"
    for i, region in enumerate(REGIONS + ("all",)):
        models[f"int_customers_{region}"] = (
            f"select customer_id as k, count(*) as orders, sum(amount) as revenue, max(ordered_on) as last_order "
            f"from {{{{ ref('stg_{region}') }}}} where status = 'paid' group by customer_id"
        )
        models[f"int_months_{region}"] = (
            f"select extract(month from ordered_on) as k, count(*) as orders, sum(amount) as revenue, "
            f"sum(case when status = 'refunded' then amount else 0 end) as refunded from {{{{ ref('stg_{region}') }}}} group by 1"
        )
    models["mart_customers"] = (
        "select c.k, c.orders, c.revenue, m.revenue as month_revenue from {{ ref('int_customers_all') }} as c "
        "join {{ ref('int_months_all') }} as m on m.k = extract(month from c.last_order)"
    )
    models["mart_regions"] = " union all ".join(
        f"select '{r}' as k, sum(revenue) as revenue from {{{{ ref('int_months_{r}') }}}}" for r in REGIONS
    )
    models["mart_top"] = "select k, revenue from {{ ref('mart_customers') }} order by revenue desc limit 50"
    for name, source in (("mart_daily", "stg_all"), ("mart_refunds", "stg_all")):
        models[name] = (
            "{{ config(materialized='incremental', unique_key='k') }}\n"
            f"select order_id as k, amount, ordered_on from {{{{ ref('{source}') }}}}"
            + (" where status = 'refunded'" if name == "mart_refunds" else "")
            + "\n{% if is_incremental() %} where k > (select max(k) from {{ this }}) {% endif %}"
        )
    return models


#: CPU seconds (user + system) of each `dbt build` process by target: on a shared machine the
#: wall-clock time swings with the other processes' load, the CPU time much less.
CPU: dict[str, list[float]] = {"sqlml": [], "duckdb": [], "native": []}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def dbt_build(root: Path, target: str) -> None:
    """A fresh `dbt build` process on a fresh warehouse of ``target``; its CPU time goes to CPU."""
    for leftover in ("wh_sqlml", "models_sqlml", "wh_duckdb.duckdb", "target"):
        path = root / leftover
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    dbt = Path(sys.executable).with_name("dbt")
    cpu = _children_cpu()
    completed = subprocess.run(
        [str(dbt), "build", "--target", target, "--profiles-dir", str(root), "--project-dir", str(root)],
        capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    CPU[target].append(_children_cpu() - cpu)
    if completed.returncode != 0 or "PASS=36 " not in completed.stdout:
        raise SystemExit(f"dbt build --target {target} failed:\n{completed.stdout[-3000:]}")


def sqlml_build(root: Path) -> None:
    """A fresh `sqlml build` process of the native project on a fresh warehouse; its CPU time goes to CPU."""
    for leftover in ("wh", "ms"):
        shutil.rmtree(root / leftover, ignore_errors=True)
    sqlml = Path(sys.executable).with_name("sqlml")
    cpu = _children_cpu()
    completed = subprocess.run(
        [str(sqlml), "build", "--project", str(root), "--warehouse", str(root / "wh"), "--models", str(root / "ms"), "--threads", "2"],
        capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    CPU["native"].append(_children_cpu() - cpu)
    if completed.returncode != 0 or "Done: 36 ok, 0 failed" not in completed.stdout:
        raise SystemExit(f"sqlml build failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}")


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main(rounds: int = 3) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-dbt-"))
    root, native = folder / "project", folder / "native"
    write_project(root)
    write_native(native)
    shutil.copy(root / "seeds" / "orders.csv", native / "seeds" / "orders.csv")
    shutil.copy(root / "models" / "schema.yml", native / "models" / "schema.yml")
    sides = {"sqlml": lambda: dbt_build(root, "sqlml"), "duckdb": lambda: dbt_build(root, "duckdb"), "native": lambda: sqlml_build(native)}
    started = time.perf_counter()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(rounds + 1):  # the first round is untimed (file caches, bytecode)
        for name, work in sides.items():
            elapsed = timed(work)
            if round_:
                times[name].append(elapsed)
    wall = {name: statistics.median(values) for name, values in times.items()}
    cpu = {name: statistics.median(values[1:]) for name, values in CPU.items()}  # the untimed round left out

    def paired(side: str, base: str, values: dict[str, list[float]]) -> str:
        ratios = [a / b for a, b in zip(values[side], values[base])]
        return f"report: median paired ratio {statistics.median(ratios):.2f}× ({', '.join(f'{r:.2f}' for r in ratios)})"

    cpus = {name: values[1:] for name, values in CPU.items()}
    print(f"{rounds} rounds in {time.perf_counter() - started:.0f} s")
    print_table(
        "20 models + seed + 15 tests, fresh process and warehouse each build (medians; ratios paired by round)",
        [
            Row("dbt build, wall clock: sqlml adapter vs dbt-duckdb", wall["sqlml"], wall["duckdb"], paired("sqlml", "duckdb", times)),
            Row("dbt build, CPU seconds: sqlml adapter vs dbt-duckdb", cpu["sqlml"], cpu["duckdb"], paired("sqlml", "duckdb", cpus)),
            Row("wall clock: sqlml build (native project) vs dbt-duckdb", wall["native"], wall["duckdb"], paired("native", "duckdb", times)),
            Row("CPU seconds: sqlml build (native project) vs dbt-duckdb", cpu["native"], cpu["duckdb"], paired("native", "duckdb", cpus)),
        ],
    )  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
