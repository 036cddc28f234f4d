"""`dbt build` of one generated 20-model project with the sqlml adapter and with dbt-duckdb.

The project (a seed of orders, 5 staging views, 10 intermediate tables, 5 marts of which 2 are
incremental, and 15 data tests) is written in SQL that reads the same as BigQuery and DuckDB
SQL, so both adapters run it unchanged. Each `dbt build` is a fresh process on a fresh warehouse,
as a user or CI runs it; the two adapters alternate run by run and the ratio is the median of the
paired ratios (sqlml / dbt-duckdb). Needs the dbt extra and, for the baseline, dbt-duckdb
(``pip install dbt-duckdb``; not a dependency of sqlml).

Run: ``python bench/bench_dbt.py [pairs]``
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

from harness import Row, alternate, print_table

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
CPU: dict[str, list[float]] = {"sqlml": [], "duckdb": []}


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


def main(pairs: int = 3) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-dbt-")) / "project"
    write_project(root)
    started = time.perf_counter()
    timings = alternate(lambda: dbt_build(root, "sqlml"), lambda: dbt_build(root, "duckdb"), pairs)
    ratios = [ours / theirs for ours, theirs in timings]
    print(f"{pairs} pairs in {time.perf_counter() - started:.0f} s; paired ratios {', '.join(f'{r:.2f}' for r in ratios)}")
    ours = statistics.median(t for t, _ in timings)
    theirs = statistics.median(t for _, t in timings)
    cpu_ratios = [a / b for a, b in zip(CPU["sqlml"][1:], CPU["duckdb"][1:])]  # the untimed pair left out
    print_table(
        "dbt build, 20 models + seed + 15 tests, fresh process and warehouse (median of paired ratios)",
        [
            Row("dbt build, wall clock: sqlml adapter vs dbt-duckdb", ours, theirs, f"report: median paired ratio {statistics.median(ratios):.2f}×"),
            Row("dbt build, CPU seconds of the process", statistics.median(CPU["sqlml"][1:]), statistics.median(CPU["duckdb"][1:]),
                f"report: median paired ratio {statistics.median(cpu_ratios):.2f}×"),
        ],
    )  # fmt: skip
    shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
