"""The one scheduler: APScheduler running every job of ``jobs.JOBS`` on its interval.

Exactly one scheduler may run per warehouse, or jobs would run twice: either
``basirat scheduler`` (its own process, for the server backend) or a thread
inside ``basirat serve``, which owns an embedded warehouse and so must run
the jobs itself (setting ``SCHEDULER_IN_SERVE``). Its jobs run one at a time:
several bring the same folds up to date first (the visits for rules,
co-occurrence, sequential rules and the session index; the facts for scores
and segments), and two refolds of the same visitors at once would both take
back and add their weights.
"""

from __future__ import annotations

import logging
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .jobs import JOBS, Job

log = logging.getLogger("basirat.scheduler")


def job_specs(
    warehouse, config: dict, jobs: list[Job] = JOBS, progress: Callable[[str], None] | None = None
) -> list[dict]:
    """APScheduler keyword arguments for each job, declared as data."""
    progress = progress or log.info
    return [
        {
            "func": job.run,
            "args": (warehouse, config),
            "kwargs": {"progress": progress},
            "trigger": "interval",
            "minutes": job.minutes,
            "id": job.id,
            "name": job.help,
            "replace_existing": True,
            "max_instances": 1,
            "coalesce": True,
        }
        for job in jobs
    ]


def build_scheduler(warehouse, config: dict, background: bool, jobs: list[Job] = JOBS, run_now: bool = False):
    """A scheduler with every job added; ``run_now`` also fires each once, a second after start."""
    import datetime as dt

    kind = BackgroundScheduler if background else BlockingScheduler
    scheduler = kind(timezone="UTC", executors={"default": ThreadPoolExecutor(max_workers=1)})
    start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    for spec in job_specs(warehouse, config, jobs):
        if run_now:
            spec["next_run_time"] = start
        scheduler.add_job(**spec)
    return scheduler
