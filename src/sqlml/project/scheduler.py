"""Running project nodes on their cron schedules.

Each node's schedule is ``config(schedule='0 3 * * *')`` or the project's default ``schedule``.
Cron expressions are parsed by croniter; the long-running loop is APScheduler's, with one job per
schedule, ``max_instances=1`` (a schedule never overlaps itself) and ``coalesce`` (missed fire
times collapse into one run). On top of that:

* catch-up: a node whose last fire time (within ``catchup_hours``) has no run since is due at once,
  so downtime costs at most one run per node, never a burst; a run interrupted by the death of
  its process (see :mod:`.recovery`) does not count, so a scheduler killed mid-run catches up;
* retries: a failed node is retried ``retries`` times with exponential back-off;
* a per-node file lock (see :class:`Runner`) keeps two processes from building the same node;
* SIGTERM and SIGINT shut the scheduler down after the running job finishes.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable

from croniter import croniter

from sqlml.errors import ProjectError
from sqlml.project.history import History, NodeRun, utcnow
from sqlml.project.kinds import Command, NodeKind
from sqlml.project.runner import RunOptions, Runner


@dataclass
class SchedulePolicy:
    """How the scheduler retries and catches up.

    Attributes:
        retries: how many times a failed run is retried.
        backoff_seconds: the first retry's delay; each next one doubles it.
        catchup_hours: how far back a missed fire time still triggers a catch-up run.
    """

    retries: int = 2
    backoff_seconds: float = 30.0
    catchup_hours: float = 24.0


def schedules(runner: Runner) -> dict[str, list[str]]:
    """Cron expression → the (non-test) nodes on it; an invalid expression names its node."""
    result: dict[str, list[str]] = {}
    for name in runner.graph.order:
        node = runner.nodes[name]
        expression = node.config.get("schedule")
        if not expression or node.kind is NodeKind.TEST:
            continue
        if not croniter.is_valid(expression):
            raise ProjectError(f"{name}: schedule '{expression}' is not a cron expression.", node=name,
                               hint="Write five fields, e.g. '0 3 * * *' for every day at 03:00.")  # fmt: skip
        result.setdefault(expression, []).append(name)
    return result


def due_nodes(runner: Runner, history: History, now: dt.datetime | None = None, catchup_hours: float = 24.0) -> list[str]:
    """Nodes whose most recent fire time (no older than ``catchup_hours``) has no run since."""
    now = now or utcnow()
    last = history.last_started()
    due = []
    for expression, names in schedules(runner).items():
        fired = croniter(expression, now + dt.timedelta(microseconds=1)).get_prev(dt.datetime)
        if now - fired > dt.timedelta(hours=catchup_hours):
            continue
        due += [n for n in names if last.get(n) is None or last[n] < fired]
    return [n for n in runner.graph.order if n in due]


def run_due(runner: Runner, names: list[str], policy: SchedulePolicy, sleep: Callable[[float], None] = time.sleep) -> list[NodeRun]:
    """Run ``names`` (and retry what fails, with back-off); return the last attempt's outcomes."""
    outcomes = []
    remaining = list(names)
    for attempt in range(policy.retries + 1):
        if not remaining:
            break
        if attempt:
            delay = policy.backoff_seconds * 2 ** (attempt - 1)
            runner.echo(f"Retrying {', '.join(remaining)} in {delay:.0f}s (attempt {attempt + 1} of {policy.retries + 1}).")
            sleep(delay)
        outcomes = runner.run(RunOptions(command=Command.BUILD, select=remaining, force=set(remaining)))
        remaining = [o.node for o in outcomes if o.status.is_failure and o.kind is not NodeKind.TEST]
    return outcomes


def run_forever(runner: Runner, policy: SchedulePolicy) -> None:
    """Catch up on missed runs, then run every schedule on time until SIGTERM or SIGINT.

    APScheduler runs the jobs on its own thread; this thread waits for a stop signal, then shuts
    the scheduler down, waiting for a running job to finish.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        runner.echo("Stopping the scheduler after the running job.")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    history = History(runner.connection)
    runner.recover(history)
    missed = due_nodes(runner, history, catchup_hours=policy.catchup_hours)
    if missed and not stop.is_set():
        runner.echo(f"Catching up: {', '.join(missed)}.")
        run_due(runner, missed, policy)
    scheduler = BackgroundScheduler(timezone="UTC")
    for expression, names in schedules(runner).items():
        scheduler.add_job(run_due, CronTrigger.from_crontab(expression, timezone="UTC"), args=[runner, names, policy],
                          id=expression, max_instances=1, coalesce=True,
                          misfire_grace_time=int(policy.catchup_hours * 3600))  # fmt: skip
        runner.echo(f"Scheduled {expression}: {', '.join(names)}.")
    scheduler.start()
    while not stop.wait(1.0):
        pass
    scheduler.shutdown(wait=True)
