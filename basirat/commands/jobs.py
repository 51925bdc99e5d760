"""``basirat jobs …`` and ``scheduler``: mining now and on a timetable."""

from __future__ import annotations

import time

import click

from ._common import config_of, fail, migrated


@click.group()
def jobs() -> None:
    """Mining jobs."""


@jobs.command("list")
def jobs_list() -> None:
    from mining.jobs import JOBS

    for job in JOBS:
        click.echo(f"{job.id:<16} every {job.minutes:>4} min  {job.help}")


@jobs.command("run")
@click.argument("name", required=False)
@click.option("--full", is_flag=True, help="Rebuild visits and folded visits from every event, not only new ones.")
@click.option("--site", "site_ids", multiple=True, help="Mine only this site (repeatable); default every site.")
@click.pass_context
def jobs_run(ctx: click.Context, name: str | None, full: bool, site_ids: tuple[str, ...]) -> None:
    """Run one job now, or all of them in order."""
    from mining.jobs import BY_ID, JOBS
    from warehouse.queries.sites import list_sites

    if name and name not in BY_ID:
        fail(f"no job {name!r}; known: {', '.join(BY_ID)}")
    wh = migrated(ctx)
    unknown = sorted(set(site_ids) - {site["site_id"] for site in list_sites(wh)})
    if unknown:
        fail(f"no site {unknown[0]!r} (see `basirat sites list`)")
    # Full: rebuild what was built before this run began (jobs sharing a rebuild do it once).
    config = {**config_of(ctx), "full": time.time_ns() if full else 0, "sites": list(site_ids)}
    for job in [BY_ID[name]] if name else JOBS:
        job.run(wh, config, progress=click.echo)


@click.command()
@click.option("--run-now", is_flag=True, help="Run every job once at start, then on its interval.")
@click.pass_context
def scheduler(ctx: click.Context, run_now: bool) -> None:
    """Run the mining jobs on their intervals (exactly one scheduler per warehouse)."""
    from mining.jobs import JOBS
    from mining.scheduler import build_scheduler

    wh = migrated(ctx)
    for job in JOBS:
        click.echo(f"scheduled {job.id} every {job.minutes} min")
    try:
        build_scheduler(wh, config_of(ctx), background=False, run_now=run_now).start()
    except (KeyboardInterrupt, SystemExit):
        pass
