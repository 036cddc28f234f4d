"""A second realistic dbt project (tests/dbt/projects/web_events), written for dbt-bigquery, built
twice on the sqlml adapter.

Where shop_analytics (test_realistic_project) is a shop's orders, this one is a GA4-style event
export: raw events with an ARRAY of STRUCT parameters and a STRUCT traffic source, retried sends
repeating an event_id; a staging view that de-duplicates with QUALIFY, unnests the parameters,
PARSE_DATEs the day and SAFE_CASTs the value, keyed by a vendored dbt_utils
generate_surrogate_key; date-partitioned facts written with ``insert_overwrite`` and
``_dbt_max_partition`` (require_partition_filter, partition_expiration_days, cluster_by, a scripted
post-hook) or static ``partitions`` or an int64 range, to which a later deploy adds a STRUCT column (on_schema_change: append_new_columns); hourly facts built by
``microbatch`` as a backfill; a user dimension merged with ``merge_update_columns``; a weekly
report over a GENERATE_DATE_ARRAY spine with DATE_TRUNC(…, WEEK(MONDAY)), ARRAY_AGG and a
three-part backticked name; daily counts from vendored dbt_utils date_spine, get_column_values and
pivot; persist_docs and labels on the marts; a seed with quote_columns and column_types. The
loader's second load brings late events (one before the facts' lookback, one inside it) and a new
week. Every table is compared exactly with what the SQL means, computed here from the raw rows.

Slow: four dbt invocations (~6 s of CPU each; 15-26 s of wall time).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("dbt.adapters.sqlml", reason="the dbt extra is not installed: pip install -e '.[dbt]'")

from dbt.adapters.factory import reset_adapters  # noqa: E402
from dbt.cli.main import dbtRunner  # noqa: E402
from dbt_common.tests import enable_test_caching  # noqa: E402

import sqlml  # noqa: E402
from tests.dbt.project_runs import dbt, read  # noqa: E402

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).parent / "projects" / "web_events"

# (event_id, user, session, name, "MM-DD HH:MM" of 2024, page, value, (source, medium)); each load
# also repeats e2 (a retried send, received later: the first received row is kept).
EVENTS_1 = [
    ("e1", "u1", 1, "page_view", "01-01 09:00", "/home", None, ("google", "organic")),
    ("e2", "u1", 1, "purchase", "01-01 09:05", "/checkout", "20.50", ("google", "organic")),
    ("e3", "u2", 1, "page_view", "01-02 10:00", "/home", None, ("newsletter", "email")),
    ("e4", "u2", 1, "page_view", "01-02 10:01", "/pricing", None, ("newsletter", "email")),
    ("e5", "u3", 1, "page_view", "01-03 11:00", "/home", None, ("bing", "organic")),
    ("e6", "u1", 2, "page_view", "01-03 12:00", "/blog", None, ("(direct)", "(none)")),
]
EVENTS_2 = [
    *EVENTS_1,
    # late: u1's true first event, on a day the facts do not compute again (before the lookback)
    ("e9", "u1", 0, "page_view", "01-01 08:00", "/home", None, ("newsletter", "email")),
    # late, inside the lookback (the day before the latest partition): 01-02 is replaced
    ("e8", "u2", 1, "purchase", "01-02 10:05", "/checkout", "9.99", ("newsletter", "email")),
    ("e7", "u3", 1, "purchase", "01-03 11:30", "/checkout", "n/a", ("bing", "organic")),  # SAFE_CAST: NULL
    ("e10", "u1", 3, "page_view", "01-08 09:00", "/home", None, ("google", "cpc")),
    ("e11", "u5", 1, "page_view", "01-09 14:00", "/pricing", None, ("google", "cpc")),
]
#: The microbatch model's window, both builds (a backfill: its begin is far from today).
BACKFILL = ("--event-time-start", "2024-01-01", "--event-time-end", "2024-01-15")
CHANNELS = {("google", "organic"): "Organic Search", ("google", "cpc"): "Paid Search", ("newsletter", "email"): "Email", ("(direct)", "(none)"): "Direct"}


def ts(text: str) -> datetime:
    return datetime.strptime(f"2024-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)


def load(root: Path, events: list[tuple]) -> None:
    """The loader: ``raw_web.events`` holds ``events`` and a retry of e2."""

    def row(event, received):
        e, user, session, name, at, page, value, (source, medium) = event
        params = f"STRUCT('page' AS key, '{page}' AS value)" + (f", STRUCT('value', '{value}')" if value else "")
        when = ts(at)
        return (
            f"('{e}', '{user}', {session}, '{name}', TIMESTAMP '{when:%Y-%m-%d %H:%M}:00+00', TIMESTAMP '{received:%Y-%m-%d %H:%M}:00+00',"
            f" '{when:%Y%m%d}', [{params}], STRUCT('{source}' AS source, '{medium}' AS medium))"
        )

    values = [row(event, ts(event[4])) for event in events]
    values.append(row(events[1], ts(events[1][4]) + timedelta(minutes=1)))
    with sqlml.connect(root / "warehouse", root / "model_store", idle_release=0) as con:
        con.query(
            "CREATE SCHEMA IF NOT EXISTS raw_web;"
            "CREATE OR REPLACE TABLE raw_web.events (event_id STRING, user_pseudo_id STRING, session_number INT64,"
            " event_name STRING, event_ts TIMESTAMP, received_at TIMESTAMP, event_date STRING,"
            " event_params ARRAY<STRUCT<key STRING, value STRING>>, traffic_source STRUCT<source STRING, medium STRING>);"
            f"INSERT INTO raw_web.events VALUES {', '.join(values)}"
        )



# -- what the project's SQL means, computed from the raw rows ------------------------------------


def session_key(user: str, session: int) -> str:
    """dbt_utils.generate_surrogate_key([user, session]): to_hex(md5('u1-1'))."""
    return hashlib.md5(f"{user}-{session}".encode()).hexdigest()


def value(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text is not None else None
    except ArithmeticError:
        return None


def daily_events(events, since=date.min):
    """(day, name) -> (day, name, events, users, revenue) of the days from ``since``."""
    groups: dict[tuple[date, str], list[tuple]] = {}
    for e in events:
        if ts(e[4]).date() >= since:
            groups.setdefault((ts(e[4]).date(), e[3]), []).append(e)
    return {
        key: (*key, len(rows), len({r[1] for r in rows}), sum((value(r[6]) or Decimal(0) for r in rows), Decimal(0)))
        for key, rows in groups.items()
    }


def dim_users(events):
    """user -> (user, first_seen_at, first_channel, last_seen_at, sessions, purchases)."""
    out = {}
    for user in sorted({e[1] for e in events}):
        own = sorted((ts(e[4]), e[0], e) for e in events if e[1] == user)
        first = own[0][2]
        out[user] = (
            user, ts(first[4]), CHANNELS.get(first[7], "Other"), max(t for t, _, _ in own),
            len({session_key(user, e[2]) for _, _, e in own}), sum(e[3] == "purchase" for _, _, e in own),
        )  # fmt: skip
    return out


def weekly_activity(events):
    weeks = [date(2024, 1, 1), date(2024, 1, 8)]  # first_day..last_day, Mondays
    out = []
    for start in weeks:
        own = [e for e in events if start <= ts(e[4]).date() < start + timedelta(days=7)]
        out.append((start, len({e[1] for e in own}), len(own), sorted({e[3] for e in own})))
    return out


# -- the builds ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """The project built, loaded again and built again; the first build's tables kept."""
    enable_test_caching()
    root = tmp_path_factory.mktemp("dbt") / "web_events"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    (root / "profiles.yml").write_text(
        "web_events:\n  target: dev\n  outputs:\n"
        f"    dev: {{type: sqlml, warehouse: '{root / 'warehouse'}', models: '{root / 'model_store'}', project: acme-web, dataset: analytics, threads: 2}}\n"
    )
    load(root, EVENTS_1)
    dbt(root, "build", *BACKFILL)
    first = {
        name: read(root, f"SELECT * FROM analytics.{name} {where} ORDER BY 1, 2")
        for name, where in (("fct_daily_events", "WHERE event_date IS NOT NULL"), ("dim_users", ""), ("weekly_activity", ""))
    }  # fct_daily_events requires a partition filter
    load(root, EVENTS_2)
    second = dbt(root, "build", *BACKFILL, "--vars", "{with_pages: true}")  # a later deploy adds fct_daily_events.pages
    (microbatch,) = [r for r in second.results if r.node.name == "fct_hourly_page_views"]
    first["batches"] = sorted(start for start, _ in microbatch.batch_results.successful)
    return root, first


def test_staging_deduplicates_unnests_and_keys_the_events(web):
    root, _ = web
    rows = read(root, "SELECT event_id, session_key, event_date, page, purchase_value, traffic_source FROM analytics_staging.stg_events ORDER BY event_ts")
    expected = [
        (e[0], session_key(e[1], e[2]), ts(e[4]).date(), e[5], value(e[6]), e[7][0])
        for e in sorted(EVENTS_2, key=lambda e: ts(e[4]))
    ]
    assert rows == expected


def test_first_build(web):
    _, first = web
    assert first["fct_daily_events"] == [daily_events(EVENTS_1)[key] for key in sorted(daily_events(EVENTS_1))]
    assert first["dim_users"] == list(dim_users(EVENTS_1).values())
    assert first["weekly_activity"] == weekly_activity(EVENTS_1)


def pages(events, day, name):
    """fct_daily_events.pages of a day and event name: STRUCT(distinct_pages, pages)."""
    own = sorted({e[5] for e in events if ts(e[4]).date() == day and e[3] == name})
    return {"distinct_pages": len(own), "pages": own}


def test_insert_overwrite_replaces_the_partitions_from_the_day_before_the_latest(web):
    """The second build's rows also have the new STRUCT column pages (on_schema_change:
    append_new_columns); the partitions it did not replace have NULL there."""
    root, _ = web
    rows = {key: (*row, None) for key, row in daily_events(EVENTS_1).items()}
    latest = max(day for day, _ in rows)  # _dbt_max_partition of the second build
    rows = {key: row for key, row in rows.items() if key[0] < latest - timedelta(days=1)}
    rows.update({key: (*row, pages(EVENTS_2, *key)) for key, row in daily_events(EVENTS_2, since=latest - timedelta(days=1)).items()})
    assert read(root, "SELECT * FROM analytics.fct_daily_events WHERE event_date IS NOT NULL ORDER BY 1, 2") == [rows[key] for key in sorted(rows)]
    # the late page view of 01-01 (before the lookback) is not counted
    assert rows[date(2024, 1, 1), "page_view"][2] == 1


def test_static_insert_overwrite_replaces_the_listed_partitions_and_inserts_every_new_row(web):
    root, _ = web
    users = lambda events, day: len({e[1] for e in events if ts(e[4]).date() == day})  # noqa: E731
    days = sorted({ts(e[4]).date() for e in EVENTS_2})
    expected = [(day, users(EVENTS_1 if day < date(2024, 1, 2) else EVENTS_2, day)) for day in days]
    assert read(root, "SELECT * FROM analytics.fct_daily_users ORDER BY 1") == expected
    assert expected[0] == (date(2024, 1, 1), 1)  # u1 only: the late e9 was not read again


def test_int64_range_insert_overwrite_replaces_the_new_rows_values(web):
    root, _ = web
    count = lambda events, user: sum(e[1] == user for e in events)  # noqa: E731
    recounted = {e[1] for e in EVENTS_2 if ts(e[4]).date() >= date(2024, 1, 8)}  # u1, u5 (u2, u3 share their range)
    users = sorted({e[1] for e in EVENTS_2}, key=lambda user: int(user[1:]))
    expected = [(int(user[1:]), count(EVENTS_2 if user in recounted else EVENTS_1, user)) for user in users]
    assert read(root, "SELECT * FROM analytics.user_event_counts ORDER BY 1") == expected
    partitions = read(root, "SELECT partition_id FROM analytics.INFORMATION_SCHEMA.PARTITIONS WHERE table_name = 'user_event_counts'")
    assert partitions == [("0",)]  # RANGE_BUCKET(user_number, GENERATE_ARRAY(0, 100, 10)): one range


def test_post_hook_script_audits_each_build(web):
    """fct_daily_events' post-hook is a script (DECLARE, CREATE TABLE IF NOT EXISTS, INSERT) naming
    its dataset by {{ this.project }}.{{ this.dataset }}, as dbt-bigquery's relations spell them."""
    root, _ = web
    partitions = lambda events: len({ts(e[4]).date() for e in events})  # noqa: E731
    assert read(root, "SELECT model, partitions FROM analytics.build_audit ORDER BY at") == [
        ("fct_daily_events", partitions(EVENTS_1)), ("fct_daily_events", partitions(EVENTS_2)),
    ]  # fmt: skip


def test_merge_updates_only_the_merge_update_columns(web):
    root, _ = web
    before, after = dim_users(EVENTS_1), dim_users(EVENTS_2)
    expected = [before[user][:3] + after[user][3:] if user in before else after[user] for user in sorted(after)]
    assert read(root, "SELECT * FROM analytics.dim_users ORDER BY 1") == expected
    # u1's late first event (by email) changes neither first_seen_at nor first_channel
    assert expected[0][1:3] == (ts("01-01 09:00"), "Organic Search") and after["u1"][2] == "Email"


def test_weekly_activity_over_the_date_spine(web):
    root, _ = web
    assert read(root, "SELECT * FROM analytics.weekly_activity ORDER BY 1") == weekly_activity(EVENTS_2)


def test_partitioning_clustering_and_options_reach_the_catalog(web):
    root, _ = web
    flags = read(
        root,
        "SELECT table_name, column_name, is_partitioning_column, clustering_ordinal_position FROM analytics.INFORMATION_SCHEMA.COLUMNS "
        "WHERE is_partitioning_column = 'YES' OR clustering_ordinal_position IS NOT NULL ORDER BY 1, 4",
    )
    assert flags == [
        ("dim_users", "first_channel", "NO", 1), ("dim_users", "user_pseudo_id", "NO", 2),
        ("fct_daily_events", "event_date", "YES", None), ("fct_daily_events", "event_name", "NO", 1),
        ("fct_daily_users", "event_date", "YES", None), ("fct_hourly_page_views", "event_hour", "YES", None),
        ("user_event_counts", "user_number", "YES", None),
    ]  # fmt: skip
    options = read(root, "SELECT table_name, option_name, option_value FROM analytics.INFORMATION_SCHEMA.TABLE_OPTIONS ORDER BY 1, 2")
    assert options == [
        ("dim_users", "description", '"One row per user: where they came from first and what they did since."'),
        ("fct_daily_events", "description", '"Events per day and event name."'),
        ("fct_daily_events", "partition_expiration_days", "3650.0"),
        ("fct_daily_events", "require_partition_filter", "true"),
        ("weekly_activity", "description", '"Weekly active users, Monday to Sunday."'),
    ]


def test_seed_quote_columns_and_column_types(web):
    root, _ = web
    columns = read(
        root,
        "SELECT column_name, data_type FROM analytics_reference.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'traffic_channels' ORDER BY ordinal_position",
    )
    assert columns == [("source", "STRING"), ("medium", "STRING"), ("channel_group", "STRING"), ("is_paid", "BOOL")]
    assert read(root, "SELECT source, medium, channel_group, is_paid FROM analytics_reference.traffic_channels ORDER BY 3") == [
        ("(direct)", "(none)", "Direct", False), ("newsletter", "email", "Email", False),
        ("google", "organic", "Organic Search", False), ("google", "cpc", "Paid Search", True),
    ]  # fmt: skip


def test_docs_generate_reads_the_persisted_descriptions(web):
    root, _ = web
    dbt(root, "docs", "generate")
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    nodes = {key.split(".")[-1]: node for key, node in catalog["nodes"].items()}
    assert nodes["dim_users"]["metadata"]["comment"] == "One row per user: where they came from first and what they did since."
    columns = nodes["dim_users"]["columns"]
    assert columns["first_channel"]["comment"] == "The channel group of the user's first event ('Other' when unknown)."
    assert columns["user_pseudo_id"]["comment"] == "The tracker's pseudonymous user id."
    # a YAML block: its line breaks, quote and backslash reach the warehouse as written
    assert columns["sessions"]["comment"] == "Distinct sessions (user and session number) so far.\nUpdated by every merge; C:\\ paths are not tracked.\n"
    assert columns["purchases"]["comment"] is None
    assert nodes["fct_daily_events"]["columns"]["revenue"]["comment"] == "Sum of the purchase events' values."
    # nested types as BigQuery spells them (the warehouse reports DuckDB's STRUCT(… VARCHAR)[])
    assert nodes["fct_daily_events"]["columns"]["pages"]["type"] == "STRUCT<distinct_pages INT64, pages ARRAY<STRING>>"
    assert nodes["weekly_activity"]["columns"]["event_names"]["type"] == "ARRAY<STRING>"
    source = catalog["sources"]["source.web_events.web.events"]["columns"]
    assert {name: source[name]["type"] for name in ("event_params", "traffic_source")} == {
        "event_params": "ARRAY<STRUCT<key STRING, value STRING>>", "traffic_source": "STRUCT<source STRING, medium STRING>",
    }  # fmt: skip
    assert not catalog["errors"]


def test_microbatch_replaces_each_days_partition(web):
    root, first = web
    assert first["batches"] == [ts("01-01 00:00") + timedelta(days=n) for n in range(14)]
    hours: dict[tuple, int] = {}
    for e in EVENTS_2:
        if e[3] == "page_view":
            key = (ts(e[4]).replace(minute=0), e[5])
            hours[key] = hours.get(key, 0) + 1
    rows = read(root, "SELECT * FROM analytics.fct_hourly_page_views ORDER BY 1, 2")
    assert rows == [(*key, count) for key, count in sorted(hours.items())]


def test_microbatch_without_partitions_and_python_models_are_clear_errors(web):
    """A microbatch model needs partition_by at the batch_size's granularity (as on dbt-bigquery):
    the run says so, naming the model, before its first batch. A Python model is refused by name."""
    root, _ = web
    models = {
        root / "models" / "marts" / "bad_microbatch.sql": (
            "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='event_ts', begin='2024-01-01', batch_size='day') }}\n"
            "select event_ts from {{ ref('stg_events') }}\n"
        ),
        root / "models" / "marts" / "bad_python.py": "def model(dbt, session):\n    return dbt.ref('stg_events')\n",
    }
    for path, text in models.items():
        path.write_text(text)
    logged: list[str] = []
    try:
        result = dbtRunner(callbacks=[lambda event: logged.append(event.info.msg)]).invoke(
            ["run", "--select", "bad_microbatch", "bad_python", *BACKFILL[:2], "--event-time-end", "2024-01-02",
             "--project-dir", str(root), "--profiles-dir", str(root)]
        )  # fmt: skip
    finally:
        reset_adapters()
        for path in models:
            path.unlink()
    runs = {r.node.name: r for r in result.result.results}
    assert {name: str(run.status) for name, run in runs.items()} == {"bad_microbatch": "error", "bad_python": "error"}
    message = (
        "Model bad_microbatch: the 'microbatch' strategy requires a partition_by config whose granularity is the batch_size (day), "
        "as dbt-bigquery does; got partition_by=None."
    )
    assert any(message in text for text in logged)  # the batch's error; the model's result says ERROR
    assert (
        "Model bad_python is a Python model: sqlml runs SQL models only (dbt-bigquery runs Python models on Dataproc or "
        "BigQuery DataFrames); write it as a .sql model or disable it for this target."
    ) in runs["bad_python"].message
    assert read(root, "SELECT count(*) FROM analytics.INFORMATION_SCHEMA.TABLES WHERE table_name LIKE 'bad_%'") == [(0,)]


def test_vendored_date_spine_and_pivot(web):
    """dbt_utils' date_spine (dbt.datediff and dbt.dateadd on BigQuery: a DATETIME per day) and
    pivot over the event names get_column_values found when the model compiled."""
    root, _ = web
    days = [datetime(2024, 1, 1) + timedelta(days=n) for n in range(14)]
    count = lambda day, name: sum(ts(e[4]).date() == day.date() and e[3] == name for e in EVENTS_2)  # noqa: E731
    assert read(root, "SELECT date_day, page_views, purchases FROM analytics.daily_event_counts ORDER BY 1") == [
        (day, count(day, "page_view"), count(day, "purchase")) for day in days
    ]
